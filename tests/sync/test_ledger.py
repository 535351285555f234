"""R39: `sync history` and `sync show` (every run kept, pruned by age); R40: `sync errors` and
`sync retry` (per item, counted, resolved by the run that succeeds on it; a retry touches only
the failed promotions)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connector import catalog, generate
from connector.emulator import mock_netsuite
from connector.emulator.wire import Request
from connector.store import Store
from connector.store import schema as s
from connector.store.schema import utcnow
from connector.sync.state import start_run
from tests.conftest import run_cli
from tests.sync.conftest import writes

BAD_FORM = "[forms]\nitem = -77777\n"  # NetSuite refuses this customForm: item promotions fail


def ten_promotions(store: Store) -> None:
    """Nine order promotions and one item promotion (P3), 20 local codes each."""
    for i in range(10):
        kind: dict[str, Any] = ({"kind": "item", "rate": 5, "percent": False} if i == 3
                                else {"kind": "order", "rate": 10})
        catalog.create_promotion(store, name=f"P{i}", pattern=f"P{i}-[AN.6]", **kind)
        generate.generate_codes(store, f"P{i}", count=20)


def ok_json(args: list[str], env: dict[str, str], code: int = 0) -> Any:
    result = run_cli([*args, "--json"], env)
    assert result.exit_code == code, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def bad_form(tmp_path: Path) -> str:
    path = tmp_path / "acct.toml"
    path.write_text(BAD_FORM)
    return str(path)


def test_R39_history_lists_each_run_with_outcome_counts_and_requests(
        store: Store, emu: mock_netsuite, env: dict[str, str], bad_form: str) -> None:
    ten_promotions(store)
    assert run_cli(["sync", "run"], {**env, "PROMOSYNC_MAPPING": bad_form}).exit_code == 1
    assert run_cli(["sync", "run"], env).exit_code == 0
    assert run_cli(["sync", "mirror"], env).exit_code == 0
    rows = ok_json(["sync", "history"], env)
    assert [(r["command"], r["outcome"]) for r in rows] == [
        ("mirror", "ok"), ("run", "ok"), ("run", "partial")]
    mirror, second, first = rows
    assert first["created"] == 9 and first["codes_pushed"] == 9 * 20
    assert first["reason"] == "not in step: P3"
    assert second["created"] == 1 and second["codes_pushed"] == 20 and second["updated"] == 0
    assert all(r["requests"] > 0 and r["rate_limited"] == 0 for r in rows)
    assert all(r["seconds"] is not None and r["seconds"] >= 0 for r in rows)
    assert [r["run"] for r in ok_json(["sync", "history", "--limit", "1"], env)] == [mirror["run"]]
    table = run_cli(["sync", "history"], env)
    assert table.exit_code == 0 and "partial" in table.stdout and "not in step: P3" in table.stdout


def test_R39_show_gives_one_runs_full_report_and_refuses_an_unknown_run(
        store: Store, emu: mock_netsuite, env: dict[str, str], bad_form: str) -> None:
    ten_promotions(store)
    run_cli(["sync", "run"], {**env, "PROMOSYNC_MAPPING": bad_form})
    run = ok_json(["sync", "history"], env)[0]["run"]
    shown = ok_json(["sync", "show", str(run)], env)
    assert shown["outcome"] == "partial" and shown["report"]["failed"] == ["P3"]
    assert len(shown["report"]["promotions"]) == 10
    text = run_cli(["sync", "show", str(run)], env)
    assert text.exit_code == 0 and "promotion P3: failed" in text.stdout
    unknown = run_cli(["sync", "show", "9999"], env)
    assert unknown.exit_code == 2
    assert unknown.stderr == ("error: there is no sync run 9999 (`promosync sync history` "
                              "lists the runs kept)\n")


def test_R39_runs_older_than_the_setting_are_pruned_by_the_next_run(
        store: Store, emu: mock_netsuite, env: dict[str, str]) -> None:
    ten_promotions(store)
    old = start_run(store, "run", "elsewhere:1:x")
    recent = start_run(store, "run", "elsewhere:1:y")
    with store.begin() as conn:
        t = s.sync_runs
        conn.execute(t.update().where(t.c.id == old).values(
            started_at=utcnow() - timedelta(days=31), status="ok"))
        conn.execute(t.update().where(t.c.id == recent).values(
            started_at=utcnow() - timedelta(days=29), status="ok"))
    assert run_cli(["sync", "run"], {**env, "PROMOSYNC_SYNC_HISTORY_DAYS": "30"}).exit_code == 0
    with store.read() as conn:
        kept = set(conn.scalars(select(s.sync_runs.c.id)))
    assert old not in kept and recent in kept and len(kept) == 2
    bad = run_cli(["sync", "history"], {**env, "PROMOSYNC_SYNC_HISTORY_DAYS": "0"})
    assert bad.exit_code == 2 and "sync_history_days" in bad.stderr.lower()


def test_R39_a_refused_run_is_in_the_history(
        store: Store, emu: mock_netsuite, env: dict[str, str]) -> None:
    from connector.sync.state import SyncLock

    ten_promotions(store)
    lock = SyncLock(store, ttl=60, owner="elsewhere:1:held")
    lock.acquire()
    try:
        assert run_cli(["sync", "run"], env).exit_code == 3
    finally:
        lock.release()
    row = ok_json(["sync", "history"], env)[0]
    assert row["outcome"] == "refused" and "another sync run holds the lock" in row["reason"]
    assert writes(emu) == 0


def test_R40_errors_per_item_with_netsuites_code_counted_then_resolved(
        store: Store, emu: mock_netsuite, env: dict[str, str], bad_form: str) -> None:
    ten_promotions(store)
    for _ in range(2):
        assert run_cli(["sync", "run"], {**env, "PROMOSYNC_MAPPING": bad_form}).exit_code == 1
    runs = [r["run"] for r in ok_json(["sync", "history"], env)]
    (error,) = ok_json(["sync", "errors"], env)
    assert (error["promotion"], error["item"], error["times"]) == ("P3", "chunk 1", 2)
    assert error["external_id"].startswith("promosync-") and error["external_id"].endswith("-1")
    assert error["status"] == 400 and error["error_code"] and error["detail"]
    assert error["path"] and "customForm" in error["path"]
    assert (error["first_run"], error["last_run"]) == (runs[1], runs[0])
    assert error["first_failed"] < error["last_failed"] and error["resolved_by"] is None
    table = run_cli(["sync", "errors"], env)
    assert table.exit_code == 0 and "P3" in table.stdout and error["error_code"] in table.stdout
    assert run_cli(["sync", "run"], env).exit_code == 0
    assert ok_json(["sync", "errors"], env) == []
    (resolved,) = ok_json(["sync", "errors", "--all"], env)
    assert resolved["resolved_by"] == ok_json(["sync", "history"], env)[0]["run"]


def test_R40_retry_sends_requests_only_for_the_failed_promotion(
        store: Store, emu: mock_netsuite, env: dict[str, str], bad_form: str,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ten_promotions(store)
    assert run_cli(["sync", "run"], {**env, "PROMOSYNC_MAPPING": bad_form}).exit_code == 1
    with store.read() as conn:
        eids = {name: eid for name, eid in conn.execute(
            select(s.promotions.c.name, s.sync_chunks.c.external_id)
            .join(s.sync_chunks, s.sync_chunks.c.promotion_id == s.promotions.c.id))}
        keys = {name: key for name, key in conn.execute(
            select(s.promotions.c.name, s.promotions.c.external_key))}
        codes = {name: set(conn.scalars(select(s.codes.c.code).join(s.promotions).where(
            s.promotions.c.name == name))) for name in keys}
    assert set(eids) == {f"P{i}" for i in range(10)}  # P3's chunk was recorded before it failed
    seen = _requests_seen(emu, monkeypatch)
    before = writes(emu)
    report = tmp_path / "retry.json"
    result = run_cli(["sync", "retry", "--report", str(report)], env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("sync retry: P3\n")
    assert seen and writes(emu) > before
    others = [f"promosync-{keys[n]}-" for n in keys if n != "P3"]
    other_codes = set().union(*(codes[n] for n in keys if n != "P3"))
    for text in seen:
        assert not any(o in text for o in others), text[:300]
        assert not any(c in text for c in other_codes), text[:300]
    data = json.loads(report.read_text())
    assert data["command"] == "retry" and data["outcome"] == "ok"
    assert [p["promotion"] for p in data["promotions"]] == ["P3"]
    assert data["requests"] == len(seen) and data["mirror"] == []
    assert ok_json(["sync", "errors"], env) == []
    again = run_cli(["sync", "retry"], env)
    assert again.exit_code == 0 and "nothing to retry" in again.stdout
    assert ok_json(["sync", "history"], env)[0]["command"] == "retry"


def _requests_seen(emu: mock_netsuite, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every request the emulator serves from now on, as 'METHOD URL BODY'."""
    seen: list[str] = []
    dispatch: Callable[[Request], Any] = emu.emulator.dispatch

    def recording(req: Request) -> Any:
        seen.append(f"{req.method} {req.url} {req.body.decode('utf-8', 'replace')}")
        return dispatch(req)

    monkeypatch.setattr(emu.emulator, "dispatch", recording)
    return seen



def test_R40_a_failed_rebaseline_is_an_error_only_a_rebaseline_resolves(store: Store) -> None:
    from connector.sync.ledger import errors
    from connector.sync.state import finish_run

    def ended(command: str, status: str, reason: str | None = None) -> None:
        run = start_run(store, command, "test:1")
        finish_run(store, run, status, {"command": command, "outcome": status, "reason": reason})

    ended("rebaseline", "failed", "cannot reach NetSuite at https://example.invalid")
    ended("run", "ok")  # a run that ends resolves run errors, not this one
    assert [(e["item"], e["times"]) for e in errors(store)] == [("rebaseline", 1)]
    assert errors(store)[0]["detail"] == "cannot reach NetSuite at https://example.invalid"
    ended("rebaseline", "ok")
    assert errors(store) == []
