"""`promosync sync ...` through the real entry point: output, reports, exit codes (section 7)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from connector.emulator import TEST_CREDENTIALS, mock_netsuite
from connector.store import Store
from connector.sync.state import SyncLock
from tests.conftest import run_cli
from tests.sync.conftest import sample_promotions, writes


def test_R32_cli_plan_shows_actions_and_writes_nothing(
        store: Store, emu: mock_netsuite, env: dict[str, str]) -> None:
    sample_promotions(store, generated=20)
    result = run_cli(["sync", "plan", "--json"], env)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["counts"]["create"] == 3 and not data["in_step"]
    assert {a["promotion"] for a in data["actions"]} == {"Big", "Local", "Multi"}
    table = run_cli(["sync", "plan"], env)
    assert "create" in table.stdout and "new in NetSuite" in table.stdout
    assert writes(emu) == 0


def test_R27_cli_run_exit_0_report_without_secrets_then_in_step(
        store: Store, emu: mock_netsuite, env: dict[str, str], tmp_path: Path) -> None:
    sample_promotions(store, generated=20)
    report = tmp_path / "report.json"
    result = run_cli(["sync", "run", "--report", str(report)], env)
    assert result.exit_code == 0, result.stderr
    assert "in step" in result.stdout
    text = report.read_text()
    data = json.loads(text)
    assert data["exit_code"] == 0 and data["codes"]["read_back"] == 20
    # where the requests went: every one counted in exactly one step
    assert set(data["step_requests"]) == set(data["steps"])
    assert sum(data["step_requests"].values()) == data["requests"] > 0
    assert data["step_requests"]["plan"] >= 1 and data["step_requests"]["apply"] >= 1
    for secret in (TEST_CREDENTIALS.consumer_secret, TEST_CREDENTIALS.token_secret):
        assert secret not in text and secret not in result.stdout + result.stderr
    again = run_cli(["sync", "run", "--json"], env)
    assert again.exit_code == 0
    assert json.loads(again.stdout)["plan"]["nothing"] == 3
    mirror = run_cli(["sync", "mirror", "--json"], env)
    assert mirror.exit_code == 0 and json.loads(mirror.stdout)["mirror"][0]["redeemed"] == 0


def test_R27_cli_lock_held_exits_3(store: Store, emu: mock_netsuite,
                                   env: dict[str, str]) -> None:
    lock = SyncLock(store)
    lock.acquire()
    try:
        result = run_cli(["sync", "run"], env)
    finally:
        lock.release()
    assert result.exit_code == 3
    assert result.stderr.startswith("error: another sync run holds the lock")
    assert writes(emu) == 0


def test_R30_cli_wrong_credentials_exit_2_one_line(store: Store, emu: mock_netsuite,
                                                   env: dict[str, str]) -> None:
    sample_promotions(store, generated=5)
    result = run_cli(["sync", "run"], {**env, "NETSUITE_TOKEN_SECRET": "wrong"})
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "401" in result.stderr
    assert "wrong" not in result.stderr
    assert writes(emu) == 0


def test_R31_cli_unreachable_host_exit_2_one_line(store: Store, env: dict[str, str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run_cli(["sync", "run"], {**env, "NETSUITE_BASE_URL": f"http://127.0.0.1:{port}"})
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach NetSuite" in lines[0]


def test_R24_cli_bad_mapping_exit_2_names_file_and_key(
        store: Store, emu: mock_netsuite, env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "acct.toml"
    bad.write_text("[chunks]\nsize = 900000\n")
    result = run_cli(["sync", "plan"], {**env, "PROMOSYNC_MAPPING": str(bad)})
    assert result.exit_code == 2
    assert str(bad) in result.stderr and "chunks.size" in result.stderr


def test_R24_cli_form_rejected_by_netsuite_exit_1_nothing_half_written(
        store: Store, emu: mock_netsuite, env: dict[str, str], tmp_path: Path) -> None:
    sample_promotions(store, generated=5)
    acct = tmp_path / "acct.toml"
    acct.write_text("[forms]\nitem = -77777\n")
    result = run_cli(["sync", "run"], {**env, "PROMOSYNC_MAPPING": str(acct)})
    assert result.exit_code == 1
    failed = [line for line in result.stdout.splitlines()
              if line.startswith("promotion Local: failed")]
    assert len(failed) == 1 and "customForm" in failed[0]
    names = {p["name"] for p in emu.backend.dump()["promotions"]}
    assert names == {"Big", "Multi"}
    with emu.backend.db.lock:
        pushed = emu.backend.db.conn.execute(
            "SELECT COUNT(*) FROM couponcode WHERE externalid IS NOT NULL").fetchone()[0]
    assert pushed == 0


def test_R27_cli_demo_runs_the_whole_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli(["demo", "--codes", "1200", "--local-codes", "40", "--redemptions", "60",
                      "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["netsuite_codes"] == 1200 + 40 + 50 + 50
    assert data["mirrored_redeemed"] == data["redeemed_in_store"] == 60
    assert data["second_run_writes"] == 0 and data["second_run_in_step"]
    assert [s["step"] for s in data["steps"]][1] == "sync run"
    text = run_cli(["demo", "--codes", "100", "--local-codes", "5", "--redemptions", "5"])
    assert text.exit_code == 0 and "Second run: 0 writes to NetSuite; in step." in text.stdout
