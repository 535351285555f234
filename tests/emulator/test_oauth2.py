"""R33 OAuth 2.0 client credentials: token endpoint, bearer use, expiry and key verification
(Oracle section_162755359851)."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connector.emulator import Credentials, EmulatorOptions, mock_netsuite
from connector.emulator.auth import JWT_BEARER, TOKEN_PATH


@pytest.fixture(scope="module")
def keypair() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def _token(emu: mock_netsuite, private: bytes, **claims: Any) -> requests.Response:
    now = int(time.time())
    payload = {"iss": emu.credentials.oauth2_client_id, "scope": "rest_webservices",
               "aud": emu.base_url + TOKEN_PATH, "iat": now, "exp": now + 600, **claims}
    assertion = jwt.encode(payload, private, algorithm="PS256", headers={"kid": "cert-1"})
    return requests.post(emu.base_url + TOKEN_PATH, data={
        "grant_type": "client_credentials", "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion})


def test_R33_token_endpoint_issues_a_bearer_token(keypair: tuple[bytes, bytes]) -> None:
    with mock_netsuite() as emu:
        r = _token(emu, keypair[0])
        assert r.status_code == 200
        body = r.json()
        assert body["token_type"] == "bearer" and body["expires_in"] == "3600"
        url = emu.base_url + "/services/rest/record/v1/customer"
        ok = requests.get(url, headers={"Authorization": f"Bearer {body['access_token']}"})
        assert ok.status_code == 200
        bad = requests.get(url, headers={"Authorization": "Bearer made-up"})
        assert bad.status_code == 401


@pytest.mark.parametrize("claims,error", [
    ({"iss": "someone-else"}, "invalid_client"),
    ({"exp": int(time.time()) - 10}, "invalid_grant"),
    ({"iat": int(time.time()), "exp": int(time.time()) + 7200}, "invalid_grant"),
    ({"aud": "https://elsewhere.example/token"}, "invalid_grant"),
    ({"scope": "restlets"}, "invalid_scope")])
def test_R33_token_endpoint_refuses_bad_assertions(keypair: tuple[bytes, bytes],
                                                   claims: dict[str, Any], error: str) -> None:
    with mock_netsuite() as emu:
        r = _token(emu, keypair[0], **claims)
        assert (r.status_code, r.json()) == (400, {"error": error})


def test_R33_configured_public_key_checks_the_signature(keypair: tuple[bytes, bytes]) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    creds = Credentials(oauth2_public_key_pem=keypair[1])
    with mock_netsuite(EmulatorOptions(credentials=creds)) as emu:
        assert _token(emu, keypair[0]).status_code == 200
        assert _token(emu, other).json() == {"error": "invalid_client"}


def test_R33_expired_bearer_token_is_refused(keypair: tuple[bytes, bytes]) -> None:
    with mock_netsuite(EmulatorOptions(oauth2_token_seconds=0)) as emu:
        token = _token(emu, keypair[0]).json()["access_token"]
        time.sleep(0.01)
        r = requests.get(emu.base_url + "/services/rest/record/v1/customer",
                         headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
