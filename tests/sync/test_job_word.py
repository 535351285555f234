"""R38: the job's word can be relied on. `--report` is written on every ending the process
survives (0, 1, 2, 3, SIGTERM, SIGINT), atomically, with the outcome and the reason; its folder
is checked before any work; settings, credentials, store and host failures are exit 2 in the
words of the failure, and an unreachable OAuth 2.0 token endpoint is one of them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from connector import catalog, generate
from connector.emulator import TEST_CREDENTIALS, EmulatorOptions, EmulatorServer, mock_netsuite
from connector.store import Store
from connector.store import schema as s
from connector.sync.state import SyncLock
from tests.conftest import run_cli
from tests.sync.conftest import writes

STALE = {"command": "run", "exit_code": 0, "outcome": "ok", "stale": True}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _one_promotion(store: Store, kind: str = "order") -> None:
    catalog.create_promotion(store, name="Spring", kind=kind, rate=10, pattern="SP-[AN.8]")
    generate.generate_codes(store, "Spring", count=30)


def _report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    assert not data.get("stale")
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}")] == []
    return data


@pytest.fixture
def stale_report(tmp_path: Path) -> Path:
    """A report file that still says an earlier run went well."""
    path = tmp_path / "reports" / "sync.json"
    path.parent.mkdir()
    path.write_text(json.dumps(STALE))
    return path


def test_R38_report_on_success_and_on_exit_1(store: Store, emu: mock_netsuite,
                                             env: dict[str, str], stale_report: Path) -> None:
    _one_promotion(store, kind="item")
    mode = stale_report.stat().st_mode & 0o777
    bad = stale_report.parent / "acct.toml"
    bad.write_text("[forms]\nitem = -77777\n")
    failed = run_cli(["sync", "run", "--report", str(stale_report)],
                     {**env, "PROMOSYNC_MAPPING": str(bad)})
    assert failed.exit_code == 1
    data = _report(stale_report)
    assert (data["exit_code"], data["outcome"], data["reason"]) == (1, "partial",
                                                                    "not in step: Spring")
    assert data["run"] and data["failed"] == ["Spring"]
    done = run_cli(["sync", "run", "--report", str(stale_report)], env)
    assert done.exit_code == 0, done.stderr
    data = _report(stale_report)
    assert (data["exit_code"], data["outcome"], data["reason"]) == (0, "ok", None)
    assert stale_report.stat().st_mode & 0o777 == mode  # replaced, not made private


def test_R38_report_on_an_unreachable_host_exit_2_in_seconds(
        store: Store, env: dict[str, str], stale_report: Path) -> None:
    _one_promotion(store)
    started = time.monotonic()
    result = run_cli(["sync", "run", "--report", str(stale_report)],
                     {**env, "NETSUITE_BASE_URL": f"http://127.0.0.1:{_closed_port()}",
                      "NETSUITE_RETRY_MAX_SECONDS": "300"})
    assert time.monotonic() - started < 10
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "cannot reach NetSuite at http://127.0.0.1:" in result.stderr
    assert ": connection refused (gave up after" in result.stderr
    data = _report(stale_report)
    assert data["exit_code"] == 2 and data["outcome"] == "failed"
    assert data["reason"] == result.stderr.removeprefix("error: ").strip()
    with store.read() as conn:
        status = conn.scalar(select(s.sync_runs.c.status).where(s.sync_runs.c.id == data["run"]))
    assert status == "failed"


def test_R38_report_on_missing_credentials_and_on_a_held_lock(
        store: Store, emu: mock_netsuite, env: dict[str, str], stale_report: Path) -> None:
    _one_promotion(store)
    result = run_cli(["sync", "mirror", "--report", str(stale_report)],
                     {**env, "NETSUITE_TOKEN_SECRET": ""})
    assert result.exit_code == 2 and "NETSUITE_TOKEN_SECRET is missing" in result.stderr
    data = _report(stale_report)
    assert (data["exit_code"], data["outcome"], data["command"]) == (2, "refused", "mirror")
    assert "NETSUITE_TOKEN_SECRET is missing" in data["reason"]
    lock = SyncLock(store, ttl=60, owner="elsewhere:1:held")
    lock.acquire()
    try:
        held = run_cli(["sync", "run", "--report", str(stale_report)], env)
    finally:
        lock.release()
    assert held.exit_code == 3
    data = _report(stale_report)
    assert (data["exit_code"], data["outcome"]) == (3, "refused")
    assert data["reason"].startswith("another sync run holds the lock")
    with store.read() as conn:
        kept = list(conn.execute(select(s.sync_runs.c.command, s.sync_runs.c.status)
                                 .order_by(s.sync_runs.c.id)))
    assert [tuple(r) for r in kept] == [("mirror", "refused"), ("run", "refused")]
    assert writes(emu) == 0


@pytest.mark.parametrize("where", ["missing/r.json", "file/r.json", "."])
def test_R38_report_folder_is_checked_before_any_work(
        store: Store, emu: mock_netsuite, env: dict[str, str], tmp_path: Path,
        where: str) -> None:
    _one_promotion(store)
    (tmp_path / "file").write_text("not a folder")
    result = run_cli(["sync", "run", "--report", str(tmp_path / where)], env)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ") and "report" in result.stderr
    if where != ".":  # a folder is refused by the option itself
        assert result.stderr.startswith(f"error: cannot write the report {tmp_path / where}")
    assert writes(emu) == 0
    with store.read() as conn:
        assert conn.scalar(select(s.sync_runs.c.id)) is None


def test_R38_unreachable_oauth2_token_endpoint_is_exit_2(
        store: Store, env: dict[str, str], tmp_path: Path) -> None:
    _one_promotion(store)
    key = tmp_path / "key.pem"
    key.write_bytes(rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    oauth2 = {k: v for k, v in env.items() if not k.startswith(("NETSUITE_CONSUMER",
                                                                  "NETSUITE_TOKEN"))}
    oauth2.update(NETSUITE_CLIENT_ID="client-1", NETSUITE_CERTIFICATE_ID="cert-1",
                  NETSUITE_PRIVATE_KEY_FILE=str(key),
                  NETSUITE_BASE_URL=f"http://127.0.0.1:{_closed_port()}")
    for name in ("NETSUITE_CONSUMER_KEY", "NETSUITE_CONSUMER_SECRET", "NETSUITE_TOKEN_ID",
                 "NETSUITE_TOKEN_SECRET"):
        oauth2[name] = ""
    started = time.monotonic()
    result = run_cli(["sync", "run"], oauth2)
    assert time.monotonic() - started < 10
    assert result.exit_code == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "/token: connection refused" in result.stderr


# ---- signals, in a real process ----------------------------------------------------------

@pytest.fixture
def slow_emulator() -> Iterator[EmulatorServer]:
    """A real HTTP emulator, slow enough that a run is still going when the signal comes."""
    with EmulatorServer(options=EmulatorOptions(latency_ms=150.0)) as server:
        yield server


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("sig", "code", "said", "reason"), [
    (signal.SIGTERM, 143, "stopped by SIGTERM", "stopped by SIGTERM"),
    (signal.SIGINT, 130, "aborted", "interrupted")])
def test_R38_a_signal_mid_run_writes_the_report_and_records_the_run_aborted(
        store: Store, store_url: str, slow_emulator: EmulatorServer, stale_report: Path,
        sig: signal.Signals, code: int, said: str, reason: str) -> None:
    _one_promotion(store)
    c = TEST_CREDENTIALS
    env = dict(os.environ, PROMOSYNC_DATABASE_URL=store_url, NETSUITE_BASE_URL=slow_emulator.url,
               NETSUITE_ACCOUNT_ID=c.account_id, NETSUITE_CONSUMER_KEY=c.consumer_key,
               NETSUITE_CONSUMER_SECRET=c.consumer_secret, NETSUITE_TOKEN_ID=c.token_id,
               NETSUITE_TOKEN_SECRET=c.token_secret, NETSUITE_CONCURRENCY="1")
    proc = subprocess.Popen([sys.executable, "-m", "connector", "sync", "run", "--report",
                             str(stale_report)], env=env, cwd=stale_report.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while _status(store) != "running":
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == said
    data = _report(stale_report)
    assert (data["exit_code"], data["outcome"], data["reason"]) == (code, "aborted", reason)
    assert _status(store) == "aborted"
    with store.read() as conn:
        assert conn.scalar(select(s.sync_lock.c.owner)) is None  # the lock was let go


def _status(store: Store) -> str | None:
    with store.read() as conn:
        value = conn.scalar(select(s.sync_runs.c.status).order_by(s.sync_runs.c.id.desc()))
    return None if value is None else str(value)
