"""Fixtures for the alert tests: a webhook receiver, a promosync.toml writer, and a real
NetSuite emulator server on 127.0.0.1 with a store whose promotions a sync can push."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connector import catalog, generate
from connector.emulator import TEST_CREDENTIALS, EmulatorServer
from connector.store import open_store
from tests.alerts.receivers import WebhookReceiver

HOOK_KEY = "hook-key-0123456789abcdef"  # noqa: S105 - a test's own HMAC key
BAD_FORM = "[forms]\nitem = -77777\n"  # NetSuite refuses this customForm: P2 fails


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(HOOK_KEY.encode()) as r:
        yield r


@pytest.fixture
def toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """Write promosync.toml in the (new) working folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROMOSYNC_CONFIG", raising=False)

    def write(text: str) -> Path:
        path = tmp_path / "promosync.toml"
        path.write_text(text)
        return path

    return write


def webhook_table(url: str, events: str = "", extra: str = "") -> str:
    return (f'[[alerts.targets]]\nkind = "webhook"\nname = "ops"\nurl = "{url}"\n'
            f'secret_env = "HOOK_KEY"\n{events}\n{extra}\n')


@pytest.fixture
def netsuite() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def sync_env(sqlite_url: str, netsuite: EmulatorServer, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Settings for `promosync sync ...` on a store with two promotions of 20 codes each,
    against the emulator server; the webhook's key in HOOK_KEY."""
    monkeypatch.chdir(tmp_path)
    store = open_store(sqlite_url, create=True)
    catalog.create_promotion(store, name="P1", pattern="P1-[AN.6]", kind="order", rate=10)
    # an item promotion: BAD_FORM makes NetSuite refuse it
    catalog.create_promotion(store, name="P2", pattern="P2-[AN.6]", kind="item", rate=5,
                             percent=False)
    for name in ("P1", "P2"):
        generate.generate_codes(store, name, count=20)
    store.close()
    c = TEST_CREDENTIALS
    return {"PROMOSYNC_DATABASE_URL": sqlite_url, "NETSUITE_ACCOUNT_ID": c.account_id,
            "NETSUITE_CONSUMER_KEY": c.consumer_key, "NETSUITE_CONSUMER_SECRET": c.consumer_secret,
            "NETSUITE_TOKEN_ID": c.token_id, "NETSUITE_TOKEN_SECRET": c.token_secret,
            "NETSUITE_BASE_URL": netsuite.url, "NETSUITE_RETRY_MAX_SECONDS": "1",
            "NETSUITE_TIMEZONE": "UTC", "HOOK_KEY": HOOK_KEY}
