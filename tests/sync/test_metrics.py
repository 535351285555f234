"""R45: `--metrics-file` of sync run / retry / mirror, read with Prometheus' own parser."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from connector import catalog, generate
from connector.emulator import mock_netsuite
from connector.store import Store
from connector.store import schema as s
from tests.conftest import run_cli

BAD_FORM = "[forms]\nitem = -77777\n"  # NetSuite refuses this customForm: item promotions fail


def metrics(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(name, labels): value}; every family a gauge with HELP, every name promosync_..."""
    found = {}
    for family in text_string_to_metric_families(path.read_text()):
        assert family.name.startswith("promosync_") and family.type == "gauge"
        assert family.documentation
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def one(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
        command: str = "run", **labels: str) -> float:
    return found[(f"promosync_{name}", tuple(sorted({"command": command, **labels}.items())))]


def two_promotions(store: Store) -> None:
    catalog.create_promotion(store, name="P1", pattern="P1-[AN.6]", kind="order", rate=10)
    generate.generate_codes(store, "P1", count=20)
    catalog.create_promotion(store, name="P2", pattern="P2-[AN.6]", kind="order", rate=5)
    generate.generate_codes(store, "P2", count=15)


def test_R45_metrics_file_of_a_run_in_step(
        store: Store, emu: mock_netsuite, env: dict[str, str], tmp_path: Path) -> None:
    two_promotions(store)
    prom, report = tmp_path / "promosync.prom", tmp_path / "report.json"
    before = time.time()
    result = run_cli(["sync", "run", "--metrics-file", str(prom), "--report", str(report)], env)
    assert result.exit_code == 0, result.stderr
    found = metrics(prom)
    data = json.loads(report.read_text())
    assert one(found, "run_outcome", outcome="ok") == 1
    assert [one(found, "run_outcome", outcome=o) for o in
            ("partial", "failed", "refused", "aborted")] == [0, 0, 0, 0]
    assert one(found, "run_exit_code") == 0
    assert one(found, "codes_pushed") == 35
    assert one(found, "requests") == data["requests"] > 0
    assert one(found, "rate_limited_responses") == 0
    assert one(found, "promotions_failed") == 0 and one(found, "open_errors") == 0
    assert before <= one(found, "last_success_timestamp_seconds") <= time.time()
    assert one(found, "last_success_timestamp_seconds") == one(found,
                                                               "last_run_timestamp_seconds")
    assert 0 < one(found, "run_duration_seconds") < 60
    assert list(tmp_path.glob(".promosync.prom.*")) == []  # no temporary file left


def test_R45_a_failed_run_keeps_the_last_success_from_the_ledger(
        store: Store, emu: mock_netsuite, env: dict[str, str], tmp_path: Path) -> None:
    two_promotions(store)
    prom = tmp_path / "promosync.prom"
    assert run_cli(["sync", "run", "--metrics-file", str(prom)], env).exit_code == 0
    with store.read() as conn:
        ok_end = conn.scalar(select(s.sync_runs.c.finished_at)).timestamp()
    catalog.create_promotion(store, name="P3", pattern="P3-[AN.6]", kind="item", rate=5,
                             percent=False)
    generate.generate_codes(store, "P3", count=5)
    (tmp_path / "acct.toml").write_text(BAD_FORM)
    bad = {**env, "PROMOSYNC_MAPPING": str(tmp_path / "acct.toml")}
    assert run_cli(["sync", "run", "--metrics-file", str(prom)], bad).exit_code == 1
    found = metrics(prom)
    assert one(found, "run_outcome", outcome="partial") == 1
    assert one(found, "run_exit_code") == 1
    assert one(found, "promotions_failed") == 1 and one(found, "open_errors") == 1
    assert one(found, "last_success_timestamp_seconds") == pytest.approx(ok_end, abs=0.01)
    assert one(found, "last_run_timestamp_seconds") > ok_end


def test_R45_retry_and_mirror_write_theirs_with_the_watermark_lag(
        store: Store, emu: mock_netsuite, env: dict[str, str], tmp_path: Path) -> None:
    two_promotions(store)
    assert run_cli(["sync", "run"], env).exit_code == 0
    prom = tmp_path / "retry.prom"
    assert run_cli(["sync", "retry", "--metrics-file", str(prom)], env).exit_code == 0
    found = metrics(prom)
    assert one(found, "run_outcome", "retry", outcome="ok") == 1
    assert one(found, "requests", "retry") == 0
    with store.read() as conn:
        codes = list(conn.scalars(select(s.codes.c.code).limit(3)))
    for code in codes:
        emu.backend.simulate_redemption(code)
    prom = tmp_path / "mirror.prom"
    assert run_cli(["sync", "mirror", "--metrics-file", str(prom)], env).exit_code == 0
    found = metrics(prom)
    assert one(found, "codes_mirrored", "mirror") == 3
    lags = {dict(labels)["source"]: value for (name, labels), value in found.items()
            if name == "promosync_mirror_watermark_lag_seconds"}
    assert list(lags) == ["tranpromotion"] and 0 <= lags["tranpromotion"] < 30


def test_R45_metrics_folder_missing_is_exit_2_before_any_work(
        store: Store, emu: mock_netsuite, env: dict[str, str], tmp_path: Path) -> None:
    two_promotions(store)
    missing = tmp_path / "nowhere" / "promosync.prom"
    result = run_cli(["sync", "run", "--metrics-file", str(missing)], env)
    assert result.exit_code == 2
    assert result.stderr == (f"error: cannot write the metrics file {missing}: the folder "
                             f"{missing.parent} does not exist\n")
    with store.read() as conn:
        assert conn.execute(select(s.sync_runs)).first() is None


def test_R45_a_refused_run_writes_its_metrics_too(
        store: Store, emu: mock_netsuite, env: dict[str, str], tmp_path: Path) -> None:
    prom = tmp_path / "promosync.prom"
    result = run_cli(["sync", "run", "--metrics-file", str(prom)],
                     {**env, "NETSUITE_CONCURRENCY": "0"})
    assert result.exit_code == 2
    found = metrics(prom)
    assert one(found, "run_outcome", outcome="refused") == 1
    assert one(found, "run_exit_code") == 2
    assert ("promosync_last_success_timestamp_seconds", (("command", "run"),)) not in found


def test_R45_verify_writes_its_differences(
        store: Store, emu: mock_netsuite, env: dict[str, str], tmp_path: Path) -> None:
    from tests.sync.conftest import make_client

    two_promotions(store)
    assert run_cli(["sync", "run"], env).exit_code == 0
    prom = tmp_path / "verify.prom"
    assert run_cli(["sync", "verify", "--metrics-file", str(prom)], env).exit_code == 0
    found = metrics(prom)
    assert one(found, "run_outcome", "verify", outcome="ok") == 1
    assert one(found, "verify_differences", "verify") == 0
    assert one(found, "requests", "verify") > 0
    assert one(found, "last_success_timestamp_seconds", "verify") == one(
        found, "last_run_timestamp_seconds", "verify")
    with emu.backend.db.lock:
        first = emu.backend.db.conn.execute("SELECT MIN(id) FROM couponcode").fetchone()[0]
    client = make_client(emu.url)
    client.delete("couponCode", str(first))  # deleted by hand in NetSuite
    client.close()
    assert run_cli(["sync", "verify", "--metrics-file", str(prom)], env).exit_code == 1
    found = metrics(prom)
    assert one(found, "run_outcome", "verify", outcome="failed") == 1
    assert one(found, "run_exit_code", "verify") == 1
    assert one(found, "verify_differences", "verify") == 1
    assert ("promosync_last_success_timestamp_seconds", (("command", "verify"),)) not in found
    # the run's own file has no verify family
    run_prom = tmp_path / "run.prom"
    run_cli(["sync", "run", "--metrics-file", str(run_prom)], env)
    assert "verify_differences" not in run_prom.read_text()
