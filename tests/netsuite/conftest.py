"""Fixtures for the NetSuite client tests: test credentials, a fake clock, clients, the wire.

The credentials are the published test values of the emulator (not anyone's secrets); they come
from `connector.emulator.TEST_CREDENTIALS` when the emulator package exports it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import responses
from oauthlib.oauth1.rfc5849 import signature, utils

from connector.netsuite import NetSuiteClient, RetryPolicy, TokenAuth

try:  # the emulator's copy, once its package exports it
    from connector.emulator import TEST_CREDENTIALS as _SHARED  # type: ignore[attr-defined]
except ImportError:
    _SHARED = None

ACCOUNT = getattr(_SHARED, "account_id", "1234567_SB1")
CONSUMER_KEY = getattr(_SHARED, "consumer_key", "ck-test")
CONSUMER_SECRET = getattr(_SHARED, "consumer_secret", "cs-test-secret")
TOKEN_ID = getattr(_SHARED, "token_id", "tk-test")
TOKEN_SECRET = getattr(_SHARED, "token_secret", "ts-test-secret")
SECRETS = (CONSUMER_SECRET, TOKEN_SECRET)
BASE = "https://1234567-sb1.suitetalk.api.netsuite.com"
RECORDS = BASE + "/services/rest/record/v1"
SUITEQL = BASE + "/services/rest/query/v1/suiteql"
JOBS = BASE + "/services/rest/async/v1/job"


@dataclass
class FakeTime:
    """A clock that only moves when the code under test sleeps; records every sleep."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def token_auth(account_id: str = ACCOUNT) -> TokenAuth:
    return TokenAuth(account_id=account_id, consumer_key=CONSUMER_KEY,
                     consumer_secret=CONSUMER_SECRET, token_id=TOKEN_ID,
                     token_secret=TOKEN_SECRET)


def policy(fake: FakeTime, **overrides: Any) -> RetryPolicy:
    """A retry policy on fake time; jitter returns the ceiling so waits are predictable."""
    settings: dict[str, Any] = dict(sleep=fake.sleep, clock=fake.clock,
                                    jitter=lambda low, high: high)
    settings.update(overrides)
    return RetryPolicy(**settings)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(fake_time: FakeTime) -> Callable[..., NetSuiteClient]:
    def build(retry: RetryPolicy | None = None, **kwargs: Any) -> NetSuiteClient:
        kwargs.setdefault("account_id", ACCOUNT)
        kwargs.setdefault("auth", token_auth())
        kwargs.setdefault("poll_interval", 2.0)
        return NetSuiteClient(retry=retry or policy(fake_time), **kwargs)

    return build


@pytest.fixture
def client(make_client: Callable[..., NetSuiteClient]) -> NetSuiteClient:
    return make_client()


@pytest.fixture
def wire() -> Iterator[responses.RequestsMock]:
    """The fake network: an unmatched request fails loudly."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def oauth_params(request: Any) -> dict[str, str]:
    """The OAuth parameters of a request's Authorization header, unescaped."""
    header = request.headers["Authorization"]
    assert header.startswith("OAuth ")
    return {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}


def expected_signature(request: Any, consumer_secret: str = CONSUMER_SECRET,
                       token_secret: str = TOKEN_SECRET) -> str:
    """Recompute the HMAC-SHA256 signature from the wire request (RFC 5849 section 3.4)."""
    url = request.url
    params = signature.collect_parameters(
        uri_query=urlsplit(url).query,
        headers={"Authorization": request.headers["Authorization"]},
        exclude_oauth_signature=True, with_realm=False)
    base_string = signature.signature_base_string(
        request.method, signature.base_string_uri(url), signature.normalize_parameters(params))
    key = f"{quote(consumer_secret, safe='')}&{quote(token_secret, safe='')}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
