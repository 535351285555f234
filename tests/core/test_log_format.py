"""R45: `--log-format json` / PROMOSYNC_LOG_FORMAT=json: every line on stderr is one JSON object
(time, level, logger, message), in a real `promosync sync run` process against the emulator
server; stdout keeps the command's output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connector import catalog, generate
from connector.emulator import TEST_CREDENTIALS, EmulatorServer
from connector.store import open_store

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def promosync(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "connector", *args], env={**os.environ, **env},
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def json_lines(stderr: str) -> list[dict[str, Any]]:
    lines = stderr.splitlines()
    assert lines, "nothing on stderr"
    parsed = [json.loads(line) for line in lines]  # every line, or the test fails here
    for record in parsed:
        assert isinstance(record, dict)
        assert {"time", "level", "logger", "message"} <= set(record)
        assert ISO_UTC.match(record["time"]), record["time"]
        assert record["level"] in ("debug", "info", "warning", "error")
    return parsed


@pytest.fixture
def sync_env(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'promosync.db'}"
    store = open_store(url, create=True)
    catalog.create_promotion(store, name="P1", pattern="P1-[AN.6]", kind="order", rate=10)
    generate.generate_codes(store, "P1", count=30)
    store.close()
    c = TEST_CREDENTIALS
    with EmulatorServer() as server:
        yield {"PROMOSYNC_DATABASE_URL": url, "NETSUITE_ACCOUNT_ID": c.account_id,
               "NETSUITE_CONSUMER_KEY": c.consumer_key,
               "NETSUITE_CONSUMER_SECRET": c.consumer_secret, "NETSUITE_TOKEN_ID": c.token_id,
               "NETSUITE_TOKEN_SECRET": c.token_secret, "NETSUITE_BASE_URL": server.url,
               "NETSUITE_TIMEZONE": "UTC", "NETSUITE_RETRY_MAX_SECONDS": "1"}


def test_R45_sync_run_with_json_logs_writes_only_json_on_stderr(
        sync_env: dict[str, str], tmp_path: Path) -> None:
    done = promosync(["--log-format", "json", "-v", "sync", "run", "--json"], sync_env, tmp_path)
    assert done.returncode == 0, done.stderr
    records = json_lines(done.stderr)
    # -v: INFO records of the sync, and the human lines --json moves to stderr
    assert any(r["logger"].startswith("promosync") and r["level"] == "info" for r in records)
    assert json.loads(done.stdout)["outcome"] == "ok"  # stdout is still the command's JSON
    assert sync_env["NETSUITE_TOKEN_SECRET"] not in done.stderr


def test_R45_json_logs_from_the_environment_with_a_failure_and_its_closing_line(
        sync_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "promosync.toml").write_text(
        '[alerts]\n[[alerts.targets]]\nkind = "webhook"\nurl = "http://127.0.0.1:9/x"\n'
        'secret_env = "NO_SUCH_KEY"\ntimeout = 1\n')
    env = {**sync_env, "PROMOSYNC_LOG_FORMAT": "json",
           "NETSUITE_BASE_URL": "http://127.0.0.1:9"}  # nothing listens on port 9 (discard)
    done = promosync(["sync", "run"], env, tmp_path)
    assert done.returncode == 2
    records = json_lines(done.stderr)
    levels = {(r["logger"], r["level"]) for r in records}
    assert ("promosync.netsuite.retry", "warning") in levels  # the retries, as log records
    closing = records[-1] if records[-1]["logger"] == "promosync.cli" else next(
        r for r in records if r["logger"] == "promosync.cli")
    assert closing["level"] == "error"
    assert closing["message"].startswith("error: cannot reach NetSuite at http://127.0.0.1:9")
    # the alert's target fails (its key is not set): a warning record, and the exit code stays
    assert any(r["logger"] == "promosync.alerts" and r["level"] == "warning"
               and "NO_SUCH_KEY" in r["message"] for r in records)


def test_R45_text_stays_the_default(sync_env: dict[str, str], tmp_path: Path) -> None:
    done = promosync(["sync", "run", "--metrics-file", str(tmp_path / "none" / "m.prom")],
                     sync_env, tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: cannot write the metrics file ")


def test_R45_a_refused_command_line_closes_with_a_json_line_when_json_was_asked() -> None:
    from tests.conftest import run_cli

    for args in (["--log-format", "json", "--bogus"], ["--log-format=json", "--bogus"]):
        result = run_cli(args)
        assert result.exit_code == 2
        [record] = json_lines(result.stderr)
        assert record["level"] == "error" and record["logger"] == "promosync.cli"
        assert record["message"].startswith("error: no such option '--bogus'")
    assert run_cli(["--bogus"]).stderr.startswith("error: no such option")
