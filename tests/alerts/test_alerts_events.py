"""R44: what sends alerts. `sync run` / `retry` against the emulator server (failed, refused,
a promotion failing N runs in a row), a coupon list reaching its warning limit, the guessing
guard, a reconciliation difference; a target that is down never changes an exit code; a
malformed [alerts] table stops a sync before any work."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from connector.alerts import reconciliation_differences
from connector.emulator import EmulatorServer
from connector.serve.guard import GuessGuard
from connector.store import open_store
from tests.alerts.conftest import BAD_FORM, HOOK_KEY, webhook_table
from tests.alerts.receivers import WebhookReceiver, closed_port
from tests.conftest import run_cli


def events_of(receiver: WebhookReceiver, count: int) -> list[str]:
    return [r.json()["event"] for r in receiver.wait_for(count)]


@pytest.fixture
def bad_form(tmp_path: Path) -> str:
    path = tmp_path / "acct.toml"
    path.write_text(BAD_FORM)
    return str(path)


def test_R44_failed_run_is_alerted_and_an_in_step_run_is_not(
        toml: Callable[[str], Path], receiver: WebhookReceiver, sync_env: dict[str, str],
        bad_form: str) -> None:
    toml("[alerts]\n" + webhook_table(receiver.url))
    assert run_cli(["sync", "run"], {**sync_env, "PROMOSYNC_MAPPING": bad_form}).exit_code == 1
    [got] = receiver.wait_for(1)
    assert got.signed
    body = got.json()
    assert body["event"] == "run_failed" and body["severity"] == "error"
    assert body["summary"] == "sync run ended with failures: not in step: P2"
    assert body["details"]["failed"] == ["P2"] and body["details"]["exit_code"] == 1
    assert run_cli(["sync", "run"], sync_env).exit_code == 0  # in step now: nothing to say
    assert run_cli(["sync", "mirror"], sync_env).exit_code == 0
    time.sleep(0.5)
    assert [r.json()["event"] for r in receiver.received] == ["run_failed"]


def test_R44_refused_and_stopped_runs_are_alerted_with_their_reason(
        toml: Callable[[str], Path], receiver: WebhookReceiver,
        sync_env: dict[str, str]) -> None:
    toml("[alerts]\n" + webhook_table(receiver.url))
    result = run_cli(["sync", "run"], {**sync_env, "NETSUITE_CONCURRENCY": "0"})
    assert result.exit_code == 2
    body = receiver.wait_for(1)[0].json()
    assert body["event"] == "run_refused"
    assert body["summary"] == ("sync run was refused: setting NETSUITE_CONCURRENCY: input "
                               "should be greater than or equal to 1")
    down = f"http://127.0.0.1:{closed_port()}"
    result = run_cli(["sync", "run"], {**sync_env, "NETSUITE_BASE_URL": down})
    assert result.exit_code == 2
    got = receiver.wait_for(2)[1]
    body = got.json()
    assert body["event"] == "run_failed"  # the run had started: the ledger says failed
    assert body["summary"].startswith(f"sync run failed: cannot reach NetSuite at {down}")
    assert sync_env["NETSUITE_TOKEN_SECRET"] not in got.body.decode()


def test_R44_promotion_failing_n_runs_in_a_row_is_alerted_once(
        toml: Callable[[str], Path], receiver: WebhookReceiver, sync_env: dict[str, str],
        bad_form: str) -> None:
    toml("[alerts]\nfailing_runs = 2\n" + webhook_table(receiver.url))
    bad = {**sync_env, "PROMOSYNC_MAPPING": bad_form}
    assert run_cli(["sync", "run"], bad).exit_code == 1
    assert events_of(receiver, 1) == ["run_failed"]
    assert run_cli(["sync", "retry"], bad).exit_code == 1
    assert sorted(events_of(receiver, 3)[1:]) == ["promotion_failing", "run_failed"]
    assert run_cli(["sync", "retry"], bad).exit_code == 1
    got = events_of(receiver, 4)
    time.sleep(0.3)
    assert len(receiver.received) == 4 and got[3] == "run_failed"  # said once per streak
    failing = next(r.json() for r in receiver.received if r.json()["event"] ==
                   "promotion_failing")
    assert failing["summary"].startswith("promotion P2 failed 2 sync runs in a row: ")
    assert failing["details"]["promotion"] == "P2" and failing["details"]["times"] == 2


def test_R44_a_target_that_is_down_leaves_the_exit_code_and_is_logged(
        toml: Callable[[str], Path], sync_env: dict[str, str], bad_form: str,
        caplog: pytest.LogCaptureFixture) -> None:
    down = f"http://127.0.0.1:{closed_port()}/hook"
    toml("[alerts]\n" + webhook_table(down, extra="timeout = 1"))
    assert run_cli(["sync", "run"], {**sync_env, "PROMOSYNC_MAPPING": bad_form}).exit_code == 1
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and not any(
            r.name == "promosync.alerts" for r in caplog.records):
        time.sleep(0.05)
    [line] = [r.getMessage() for r in caplog.records if r.name == "promosync.alerts"]
    assert line.startswith("alert run_failed not delivered to ops (webhook): "
                           "http://127.0.0.1:")
    assert "connection refused" in line and HOOK_KEY not in line


def test_R44_malformed_alerts_table_stops_a_sync_before_any_work(
        toml: Callable[[str], Path], sync_env: dict[str, str], netsuite: EmulatorServer,
        tmp_path: Path) -> None:
    toml('[alerts]\n[[alerts.targets]]\nkind = "webhook"\nurl = "hooks.example.com"\n'
         'secret_env = "HOOK_KEY"\n')
    report = tmp_path / "report.json"
    result = run_cli(["sync", "run", "--report", str(report)], sync_env)
    assert result.exit_code == 2
    assert result.stderr == ("error: promosync.toml: alerts.targets[0].url: must be an "
                             "http:// or https:// URL\n")
    assert netsuite.stats()["requests"] == {}
    assert run_cli(["sync", "history", "--json"], sync_env).stdout.strip() == "[]"


def test_R44_coupon_list_warning_is_alerted_once_per_crossing(
        toml: Callable[[str], Path], receiver: WebhookReceiver, sqlite_url: str,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml("[alerts]\n" + webhook_table(receiver.url, 'events = ["list_warning"]'))
    monkeypatch.setenv("HOOK_KEY", HOOK_KEY)
    open_store(sqlite_url, create=True).close()
    env = {"PROMOSYNC_DATABASE_URL": sqlite_url}
    (tmp_path / "codes.txt").write_text("".join(f"SPRING-{i:04d}\n" for i in range(5)))
    assert run_cli(["lists", "create", "spring", "--codes", "codes.txt",
                    "--warning-limit", "2"], env).exit_code == 0
    for user in ("u1", "u2", "u3", "u4"):
        result = run_cli(["lists", "assign", "spring", "--user", user, "--campaign", "c1"], env)
        assert result.exit_code == 0, result.stderr
    [got] = receiver.wait_for(1)
    time.sleep(0.3)
    assert len(receiver.received) == 1
    body = got.json()
    assert body["event"] == "list_warning"
    assert body["details"] == {"list": "spring", "remaining": 2, "warning_limit": 2}


def test_R44_guessing_guard_lockout_is_alerted(
        toml: Callable[[str], Path], receiver: WebhookReceiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    toml("[alerts]\n" + webhook_table(receiver.url, 'events = ["guard_lockout"]'))
    monkeypatch.setenv("HOOK_KEY", HOOK_KEY)
    guard = GuessGuard(limit=3, window=60, block=30, clock=lambda: 100.0)
    for _ in range(3):
        guard.refused("key shop-1", "198.51.100.7")
    got = [r.json() for r in receiver.wait_for(2)]
    assert {b["event"] for b in got} == {"guard_lockout"}
    assert sorted(b["summary"] for b in got) == [
        f"guessing guard: {who} had 3 codes refused within 60 s; its scans are refused for 30 s"
        for who in ("198.51.100.7", "key shop-1")]


def test_R44_reconciliation_difference_is_alerted_and_none_is_silent(
        toml: Callable[[str], Path], receiver: WebhookReceiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    toml("[alerts]\n" + webhook_table(receiver.url))
    monkeypatch.setenv("HOOK_KEY", HOOK_KEY)
    assert reconciliation_differences([]) is None
    sending = reconciliation_differences([
        {"promotion": "P1", "kind": "missing_in_netsuite", "code": "P1-AAAAAA"},
        {"promotion": "P1", "kind": "redeemed_only_in_netsuite", "code": "P1-BBBBBB"},
        {"promotion": "P7", "kind": "missing_in_netsuite", "code": "P7-CCCCCC"}])
    assert sending is not None and [d.ok for d in sending.wait()] == [True]
    body = receiver.received[0].json()
    assert body["event"] == "reconciliation_difference"
    assert body["summary"] == ("sync verify found 3 differences between NetSuite and the store "
                               "(P1, P7)")
    assert body["details"]["kinds"] == ["missing_in_netsuite", "redeemed_only_in_netsuite"]


def test_R44_sync_verify_alerts_the_differences_it_finds(
        toml: Callable[[str], Path], receiver: WebhookReceiver, sync_env: dict[str, str],
        netsuite: EmulatorServer) -> None:
    from tests.sync.conftest import make_client

    toml("[alerts]\n" + webhook_table(receiver.url, 'events = ["reconciliation_difference"]'))
    assert run_cli(["sync", "run"], sync_env).exit_code == 0
    assert run_cli(["sync", "verify"], sync_env).exit_code == 0
    with netsuite.backend.db.lock:
        first = netsuite.backend.db.conn.execute("SELECT MIN(id) FROM couponcode").fetchone()[0]
    client = make_client(netsuite.url)
    client.delete("couponCode", str(first))  # deleted by hand in NetSuite
    client.close()
    assert run_cli(["sync", "verify"], sync_env).exit_code == 1
    [got] = receiver.wait_for(1)
    time.sleep(0.3)
    assert len(receiver.received) == 1  # the verify in step said nothing
    body = got.json()
    assert body["event"] == "reconciliation_difference"
    assert body["summary"].startswith("sync verify found 1 difference between NetSuite and "
                                      "the store (P")
    assert body["details"]["differences"] == 1
