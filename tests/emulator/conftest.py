"""Fixtures for the emulator tests: signed sessions and one `target` per transport.

`target` is parametrized over the in-process emulator (`responses`) and the real HTTP server on
127.0.0.1. With NETSUITE_SANDBOX=1 and NETSUITE_ACCOUNT_ID, NETSUITE_CONSUMER_KEY,
NETSUITE_CONSUMER_SECRET, NETSUITE_TOKEN_ID, NETSUITE_TOKEN_SECRET in the environment a third
parameter runs the same contract tests against that sandbox (skipped otherwise); tests that need
the emulator's control API skip themselves there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from connector.emulator import TEST_CREDENTIALS, Credentials, EmulatorServer, mock_netsuite
from connector.emulator.options import host_for_account

SANDBOX_VARS = ("NETSUITE_ACCOUNT_ID", "NETSUITE_CONSUMER_KEY", "NETSUITE_CONSUMER_SECRET",
                "NETSUITE_TOKEN_ID", "NETSUITE_TOKEN_SECRET")


def oauth1(creds: Credentials = TEST_CREDENTIALS, realm: str | None = None,
           **overrides: str) -> OAuth1:
    """A fresh TBA signer (new nonce and timestamp on every request)."""
    values = dict(client_key=creds.consumer_key, client_secret=creds.consumer_secret,
                  resource_owner_key=creds.token_id, resource_owner_secret=creds.token_secret)
    values.update(overrides)
    return OAuth1(**values, signature_method="HMAC-SHA256",
                  realm=creds.account_id if realm is None else realm)


@dataclass
class Target:
    """Where a contract test sends its requests."""

    kind: str
    base_url: str
    creds: Credentials
    emu: Any = None  # mock_netsuite or EmulatorServer; None for a real sandbox

    @property
    def rest(self) -> str:
        return self.base_url + "/services/rest"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("auth", oauth1(self.creds))
        kwargs.setdefault("timeout", 30)
        return requests.request(method, self.rest + path, **kwargs)

    def need_emulator(self) -> Any:
        if self.emu is None:
            pytest.skip("needs the emulator's control API (not available on a real sandbox)")
        return self.emu


def _sandbox_target() -> Target:
    if os.environ.get("NETSUITE_SANDBOX") != "1" or not all(os.environ.get(v)
                                                             for v in SANDBOX_VARS):
        pytest.skip("real sandbox: set NETSUITE_SANDBOX=1 and " + ", ".join(SANDBOX_VARS))
    env = os.environ
    creds = Credentials(account_id=env["NETSUITE_ACCOUNT_ID"],
                        consumer_key=env["NETSUITE_CONSUMER_KEY"],
                        consumer_secret=env["NETSUITE_CONSUMER_SECRET"],
                        token_id=env["NETSUITE_TOKEN_ID"],
                        token_secret=env["NETSUITE_TOKEN_SECRET"])
    base = env.get("NETSUITE_BASE_URL") or f"https://{host_for_account(creds.account_id)}"
    return Target("sandbox", base.rstrip("/"), creds)


@pytest.fixture(params=["inprocess", "server", "sandbox"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    if request.param == "inprocess":
        with mock_netsuite() as emu:
            yield Target("inprocess", emu.base_url, emu.credentials, emu)
    elif request.param == "server":
        with EmulatorServer() as srv:
            yield Target("server", srv.url, srv.credentials, srv)
    else:
        yield _sandbox_target()


@pytest.fixture
def emu() -> Iterator[mock_netsuite]:
    """An in-process emulator for rule tests that do not need both transports."""
    with mock_netsuite() as running:
        yield running


def call(emu: mock_netsuite, method: str, path: str, **kwargs: Any) -> requests.Response:
    """A signed request to the in-process emulator's /services/rest + path."""
    kwargs.setdefault("auth", oauth1(emu.credentials))
    return requests.request(method, emu.base_url + "/services/rest" + path, **kwargs)


def single_use_promotion(emu: Any, count: int = 5, **extra: Any) -> int:
    """Create a SINGLEUSE promotion with `count` generated codes through the backend."""
    body = {"name": "Spring", "useType": "SINGLEUSE", "codePattern": "SP-[AN.8]",
            "numberToGenerate": count, "customForm": {"id": "-10502"}, **extra}
    return int(emu.backend.create("promotionCode", body))
