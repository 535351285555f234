"""R30: secrets never leave as text. Sync run, plan, mirror and every error path are run with
known credential values; none of them may appear in stdout, stderr, log records (DEBUG), the
--report file, the store's run reports, exception text, repr()s, recorded fixtures, or any file
under fixtures/.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from connector import catalog, generate
from connector.emulator import Credentials, EmulatorOptions, Recorder, mock_netsuite
from connector.errors import ConnectorError
from connector.netsuite import NetSuiteClient, TokenAuth
from connector.settings import load_settings
from connector.store import Store
from connector.store import schema as s
from tests.conftest import run_cli

CONSUMER_SECRET = "S3CRET-consumer-XYZ"
TOKEN_SECRET = "S3CRET-token-XYZ"
SECRETS = (CONSUMER_SECRET, TOKEN_SECRET)
ROOT = Path(__file__).resolve().parents[2]
CREDS = Credentials(account_id="1234567_SB1", consumer_key="ck-h6", consumer_secret=CONSUMER_SECRET,
                    token_id="tk-h6", token_secret=TOKEN_SECRET)


def assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a secret appears in {where}"
        assert secret.lower() not in text.lower(), f"a secret appears in {where} (case changed)"


@pytest.fixture
def env(cli_env: dict[str, str], store: Store) -> dict[str, str]:
    catalog.create_promotion(store, name="Local", kind="order", rate=10, pattern="LOC-[AN.8]")
    generate.generate_codes(store, "Local", count=30)
    return {**cli_env, "NETSUITE_ACCOUNT_ID": CREDS.account_id,
            "NETSUITE_CONSUMER_KEY": CREDS.consumer_key,
            "NETSUITE_CONSUMER_SECRET": CONSUMER_SECRET,
            "NETSUITE_TOKEN_ID": CREDS.token_id, "NETSUITE_TOKEN_SECRET": TOKEN_SECRET}


@pytest.fixture
def emu() -> Iterator[mock_netsuite]:
    with mock_netsuite(EmulatorOptions(credentials=CREDS, retry_after_seconds=0,
                                       send_retry_after=False)) as e:
        yield e


def _run(args: list[str], env: dict[str, str], tmp: Path, caplog: pytest.LogCaptureFixture,
         expect: set[int]) -> None:
    report = tmp / "report.json"
    report.unlink(missing_ok=True)
    result = run_cli(["-vv", *args, "--report", str(report)] if args[0] == "sync" and
                     args[1] != "plan" else ["-vv", *args], env)
    assert result.exit_code in expect, (args, result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    assert_clean(result.stdout, f"stdout of {args}")
    assert_clean(result.stderr, f"stderr of {args}")
    if report.exists():
        assert_clean(report.read_text(encoding="utf-8"), f"the report of {args}")
    for record in caplog.records:
        assert_clean(record.getMessage(), f"a log record of {args}")
        if record.exc_info and record.exc_info[1] is not None:
            assert_clean(str(record.exc_info[1]), f"a logged exception of {args}")


def test_R30_secrets_never_leave(
    env: dict[str, str], emu: mock_netsuite, store: Store, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    base = {**env, "NETSUITE_BASE_URL": emu.url}
    for args in (["sync", "plan"], ["sync", "run"], ["sync", "mirror"], ["sync", "run"]):
        _run(args, base, tmp_path, caplog, {0})
    wrong = {**base, "NETSUITE_TOKEN_SECRET": TOKEN_SECRET + "-old"}  # rejected by NetSuite
    _run(["sync", "run"], wrong, tmp_path, caplog, {2})
    bad_mapping = tmp_path / "bad.toml"
    bad_mapping.write_text(f'token = "{TOKEN_SECRET}"\n[forms\nx = 1\n', encoding="utf-8")
    _run(["--mapping", str(bad_mapping), "sync", "run"], base, tmp_path, caplog, {2})
    with store.read() as conn:
        for report in conn.scalars(select(s.sync_runs.c.report)):
            assert_clean(json.dumps(report), "a run report in the store")


def test_R30_secrets_never_leave_when_netsuite_is_unreachable(
    env: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    unreachable = {**env, "NETSUITE_BASE_URL": "http://127.0.0.1:9",
                   "NETSUITE_RETRY_MAX_SECONDS": "1"}
    for args in (["sync", "run"], ["sync", "mirror"]):
        _run(args, unreachable, tmp_path, caplog, {2})


def test_R30_secrets_absent_from_reprs_exceptions_and_recordings(
    env: dict[str, str], emu: mock_netsuite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert_clean(repr(settings) + str(settings) + repr(settings.model_dump()), "the settings")
    auth = TokenAuth(account_id=CREDS.account_id, consumer_key=CREDS.consumer_key,
                     consumer_secret=CONSUMER_SECRET, token_id=CREDS.token_id,
                     token_secret=TOKEN_SECRET + "-wrong")
    recorder = Recorder(secrets=SECRETS, account_ids=[CREDS.account_id])
    client = NetSuiteClient(account_id=CREDS.account_id, auth=auth, base_url=emu.url,
                            session=recorder.session)
    assert_clean(repr(client) + repr(auth), "a client repr")
    with pytest.raises(ConnectorError) as info:
        client.get("customer", 1)
    error = info.value
    assert_clean(str(error) + repr(error) + repr(vars(error)), "an exception")
    saved = recorder.save("h6-secrets", tmp_path)
    assert_clean(saved.read_text(encoding="utf-8"), "a recorded fixture")


def test_R30_no_secret_or_live_token_in_shipped_fixtures() -> None:
    """Files under fixtures/ hold only the published test credentials, never a live value."""
    files = [p for p in (ROOT / "fixtures").rglob("*") if p.is_file()]
    assert files, "fixtures/ is empty"
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert_clean(text, str(path))
        lowered = text.lower()
        for marker in ("oauth_signature=\"", "bearer ey", "-----begin private key",
                       "-----begin rsa private key"):
            assert marker not in lowered, f"{path} holds a credential ({marker})"
    assert requests  # the client stack is importable without network
