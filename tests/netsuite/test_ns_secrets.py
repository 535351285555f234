"""R30: secrets (consumer/token secrets, private key, bearer tokens) never appear in repr(),
str(), exception attributes or log records, across successes, retries and failures."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from urllib3.exceptions import ProtocolError

from connector.errors import NetSuiteError
from connector.netsuite import NetSuiteClient, OAuth2ClientCredentials

from .conftest import ACCOUNT, BASE, RECORDS, SECRETS, FakeTime, policy, token_auth

BEARER = "bearer-secret-value-123"
PEM = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption())
FORBIDDEN = (*SECRETS, BEARER, "PRIVATE KEY", PEM.decode().splitlines()[1])


def _assert_clean(text: str) -> None:
    for secret in FORBIDDEN:
        assert secret not in text


def _oauth2(fake: FakeTime) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(account_id=ACCOUNT, client_id="client-123",
                                   certificate_id="cert-abc", private_key_pem=PEM,
                                   clock=fake.clock)


def test_R30_repr_and_str_hide_secrets(make_client: Any, fake_time: FakeTime) -> None:
    for auth in (token_auth(), _oauth2(fake_time)):
        _assert_clean(repr(auth))
        _assert_clean(str(auth))
        _assert_clean(repr(make_client(auth=auth)))
    assert "ck-test" in repr(token_auth())  # the non-secret identifiers stay visible


def _failures(wire: responses.RequestsMock) -> None:
    wire.get(f"{RECORDS}/customer/1", status=400, json={"title": "Bad", "status": 400,
             "o:errorDetails": [{"detail": "bad field", "o:errorCode": "INVALID_CONTENT"}]})
    wire.get(f"{RECORDS}/customer/2", status=401, json={"title": "Unauthorized", "status": 401})
    wire.get(f"{RECORDS}/customer/3", status=503, body="<html>down</html>")
    wire.get(f"{RECORDS}/customer/4", status=200, body="<html>login</html>")
    wire.get(f"{RECORDS}/customer/5", body=requests.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))))


def _collect_errors(client: NetSuiteClient) -> list[NetSuiteError]:
    errors = []
    for record_id in range(1, 6):
        with pytest.raises(NetSuiteError) as caught:
            client.get("customer", record_id)
        errors.append(caught.value)
    return errors


def _assert_error_clean(error: BaseException) -> None:
    _assert_clean(str(error))
    _assert_clean(repr(error))
    _assert_clean(repr(vars(error)))
    assert "Authorization" not in str(error) and "oauth_signature" not in str(error)


def test_R30_exceptions_carry_no_secrets_with_token_auth(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    _failures(wire)
    client = make_client(retry=policy(fake_time, max_attempts=2))
    for error in _collect_errors(client):
        _assert_error_clean(error)
        if error.__cause__ is not None:
            _assert_error_clean(error.__cause__)


def test_R30_exceptions_and_logs_carry_no_secrets_with_oauth2(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime,
    caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wire.post(f"{BASE}/services/rest/auth/oauth2/v1/token",
              json={"access_token": BEARER, "expires_in": 3600})
    _failures(wire)
    client = make_client(auth=_oauth2(fake_time), retry=policy(fake_time, max_attempts=2))
    for error in _collect_errors(client):
        _assert_error_clean(error)
    assert wire.calls[1].request.headers["Authorization"] == f"Bearer {BEARER}"
    for record in caplog.records:
        _assert_clean(record.getMessage())


def test_R30_logs_carry_no_secrets_or_auth_headers_with_token_auth(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime,
    caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wire.get(f"{RECORDS}/customer/9", status=429, json={"title": "Too Many", "status": 429})
    wire.get(f"{RECORDS}/customer/9", json={"id": "9"})
    _failures(wire)
    client = make_client(retry=policy(fake_time, max_attempts=2))
    client.get("customer", 9)
    _collect_errors(client)
    ours = [r for r in caplog.records if r.name.startswith("promosync.netsuite")]
    assert ours, "the client logs each attempt"
    for record in caplog.records:
        _assert_clean(record.getMessage())
    for record in ours:
        message = record.getMessage()
        assert "OAuth " not in message and "oauth_" not in message and "Bearer" not in message
