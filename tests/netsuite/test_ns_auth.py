"""R30: token-based auth (realm, host, HMAC-SHA256 signature, fresh nonce per attempt),
OAuth 2.0 client credentials (JWT assertion, cached bearer token), and settings wiring."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import SecretStr

from connector.errors import ConfigError, NetSuiteAuthError
from connector.netsuite import (
    NetSuiteClient,
    NetSuiteTokenError,
    OAuth2ClientCredentials,
    account_host,
    account_realm,
    default_base_url,
)

from .conftest import (
    ACCOUNT,
    BASE,
    CONSUMER_KEY,
    RECORDS,
    TOKEN_ID,
    FakeTime,
    expected_signature,
    oauth_params,
    token_auth,
)

TOKEN_URL = BASE + "/services/rest/auth/oauth2/v1/token"


# -- TBA: realm, host, signature ---------------------------------------------------------------

@pytest.mark.parametrize("given", ["1234567_SB1", "1234567_sb1", "1234567-sb1", " 1234567_Sb1 "])
def test_R30_sandbox_realm_is_upper_underscore_and_host_lower_dash(given: str) -> None:
    assert account_realm(given) == "1234567_SB1"
    assert account_host(given) == "1234567-sb1.suitetalk.api.netsuite.com"
    assert default_base_url(given) == "https://1234567-sb1.suitetalk.api.netsuite.com"


def test_R30_production_account_keeps_digits() -> None:
    assert account_realm("7654321") == "7654321"
    assert account_host("7654321") == "7654321.suitetalk.api.netsuite.com"


def test_R30_bad_account_id_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="NETSUITE_ACCOUNT_ID"):
        account_host("12 34/../x")


def test_R30_base_url_derived_from_account_and_overridable(make_client: Any) -> None:
    assert make_client(account_id="1234567_sb1").base_url == BASE
    emulator = make_client(base_url="http://127.0.0.1:8765/")
    assert emulator.base_url == "http://127.0.0.1:8765"


def test_R30_authorization_header_is_hmac_sha256_with_upper_realm_and_verifies(
    wire: responses.RequestsMock, make_client: Any
) -> None:
    wire.get(f"{RECORDS}/customer/5", json={"id": "5"})
    client = make_client(auth=token_auth("1234567_sb1"))  # lower-case input, realm still upper
    client.get("customer", 5)
    request = wire.calls[0].request
    header = request.headers["Authorization"]
    assert 'realm="1234567_SB1"' in header
    assert 'oauth_signature_method="HMAC-SHA256"' in header
    params = oauth_params(request)
    assert params["oauth_consumer_key"] == CONSUMER_KEY
    assert params["oauth_token"] == TOKEN_ID
    assert params["oauth_version"] == "1.0"
    assert params["oauth_signature"] == expected_signature(request)


def test_R30_query_string_is_part_of_the_signed_base_string(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.get(f"{RECORDS}/promotionCode/42", json={"id": "42"})
    client.get("promotionCode", 42, expand=True)
    request = wire.calls[0].request
    assert "expandSubResources=true" in request.url
    assert oauth_params(request)["oauth_signature"] == expected_signature(request)
    # Signed without the query, the signature would differ: the query really is covered.
    request.url = request.url.split("?")[0]
    assert oauth_params(request)["oauth_signature"] != expected_signature(request)


def test_R30_wrong_secret_does_not_verify(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.get(f"{RECORDS}/customer/1", json={"id": "1"})
    client.get("customer", 1)
    request = wire.calls[0].request
    assert oauth_params(request)["oauth_signature"] != expected_signature(
        request, token_secret="other")


def test_R30_every_retry_is_signed_afresh_with_a_new_nonce(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    url = f"{RECORDS}/customer/9"
    wire.get(url, status=503, json={"title": "Service Unavailable", "status": 503})
    wire.get(url, status=429, json={"title": "Too Many Requests", "status": 429})
    wire.get(url, json={"id": "9"})
    assert client.get("customer", 9) == {"id": "9"}
    assert len(wire.calls) == 3
    nonces = {oauth_params(call.request)["oauth_nonce"] for call in wire.calls}
    assert len(nonces) == 3
    for call in wire.calls:
        assert oauth_params(call.request)["oauth_signature"] == expected_signature(call.request)


def test_R30_suiteql_post_signs_url_and_query_not_json_body(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.post(f"{BASE}/services/rest/query/v1/suiteql",
              json={"items": [], "hasMore": False, "count": 0, "offset": 0})
    list(client.suiteql("SELECT id FROM customer"))
    request = wire.calls[0].request
    assert oauth_params(request)["oauth_signature"] == expected_signature(request)


# -- OAuth 2.0 client credentials ----------------------------------------------------------------

def _rsa_pem() -> tuple[bytes, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return pem, key.public_key()


def _ec_pem() -> tuple[bytes, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return pem, key.public_key()


RSA_PEM, RSA_PUBLIC = _rsa_pem()


class TokenEndpoint:
    """A fake token endpoint that checks the client assertion like NetSuite would (Oracle's
    OAuth 2.0 client credentials pages)."""

    def __init__(self, public_key: Any, algorithm: str, token_url: str = TOKEN_URL) -> None:
        self.public_key = public_key
        self.algorithm = algorithm
        self.token_url = token_url
        self.minted = 0
        self.claims: list[dict[str, Any]] = []
        self.headers: list[dict[str, Any]] = []

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        assert form["grant_type"] == "client_credentials"
        assert form["client_assertion_type"] == (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        assertion = form["client_assertion"]
        self.headers.append(jwt.get_unverified_header(assertion))
        # Signature, algorithm and audience are verified; times are checked by the tests
        # against the fake clock.
        self.claims.append(jwt.decode(assertion, self.public_key, algorithms=[self.algorithm],
                                      audience=self.token_url,
                                      options={"verify_exp": False, "verify_iat": False}))
        self.minted += 1
        body = f'{{"access_token": "bearer-{self.minted}", "expires_in": 3600}}'
        return 200, {"Content-Type": "application/json"}, body


def _oauth2(fake: FakeTime, pem: bytes = RSA_PEM, **kw: Any) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(account_id=ACCOUNT, client_id="client-123",
                                   certificate_id="cert-abc", private_key_pem=pem,
                                   clock=fake.clock, **kw)


def test_R30_oauth2_jwt_claims_and_headers_verify_with_public_key(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    endpoint = TokenEndpoint(RSA_PUBLIC, "PS256")
    wire.add_callback(responses.POST, TOKEN_URL, callback=endpoint)
    wire.get(f"{RECORDS}/customer/1", json={"id": "1"})
    client = make_client(auth=_oauth2(fake_time, scopes=("rest_webservices", "restlets")))
    client.get("customer", 1)
    assert endpoint.headers[0] == {"alg": "PS256", "kid": "cert-abc", "typ": "JWT"}
    claims = endpoint.claims[0]
    assert claims["iss"] == "client-123"
    assert claims["scope"] == "rest_webservices,restlets"
    assert claims["aud"] == TOKEN_URL
    assert claims["iat"] == int(fake_time.now)
    assert claims["iat"] < claims["exp"] <= claims["iat"] + 3600
    assert wire.calls[1].request.headers["Authorization"] == "Bearer bearer-1"


def test_R30_oauth2_es256_assertion(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    pem, public = _ec_pem()
    endpoint = TokenEndpoint(public, "ES256")
    wire.add_callback(responses.POST, TOKEN_URL, callback=endpoint)
    wire.get(f"{RECORDS}/customer/1", json={"id": "1"})
    make_client(auth=_oauth2(fake_time, pem=pem, algorithm="ES256")).get("customer", 1)
    assert endpoint.headers[0]["alg"] == "ES256"


def test_R30_oauth2_token_cached_then_reminted_near_expiry(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    endpoint = TokenEndpoint(RSA_PUBLIC, "PS256")
    wire.add_callback(responses.POST, TOKEN_URL, callback=endpoint)
    wire.get(f"{RECORDS}/customer/1", json={"id": "1"})
    client = make_client(auth=_oauth2(fake_time))
    for _ in range(3):
        client.get("customer", 1)
    assert endpoint.minted == 1
    fake_time.now += 3600 - 301  # still more than 5 minutes left
    client.get("customer", 1)
    assert endpoint.minted == 1
    fake_time.now += 2  # inside the 5-minute margin: re-mint before it expires
    client.get("customer", 1)
    assert endpoint.minted == 2
    bearers = [c.request.headers["Authorization"] for c in wire.calls
               if c.request.url.startswith(RECORDS)]
    assert bearers == ["Bearer bearer-1"] * 4 + ["Bearer bearer-2"]


def test_R30_oauth2_token_minted_once_across_threads(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    endpoint = TokenEndpoint(RSA_PUBLIC, "PS256")
    wire.add_callback(responses.POST, TOKEN_URL, callback=endpoint)
    wire.get(f"{RECORDS}/customer/1", json={"id": "1"})
    client = make_client(auth=_oauth2(fake_time), concurrency=4)
    threads = [threading.Thread(target=client.get, args=("customer", 1)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert endpoint.minted == 1


def test_R30_oauth2_token_url_follows_base_url_override(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    local = "http://127.0.0.1:8765"
    token_url = local + "/services/rest/auth/oauth2/v1/token"
    endpoint = TokenEndpoint(RSA_PUBLIC, "PS256", token_url=token_url)
    wire.add_callback(responses.POST, endpoint.token_url, callback=endpoint)
    wire.get(f"{local}/services/rest/system/v1/governanceLimits",
             json={"accountConcurrencyLimit": 5})
    client = make_client(auth=_oauth2(fake_time), base_url=local)
    assert client.governance_limits() == {"accountConcurrencyLimit": 5}
    assert endpoint.claims[0]["aud"] == endpoint.token_url


def test_R30_oauth2_invalid_client_is_an_auth_error_not_retried(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    wire.post(TOKEN_URL, status=400, json={"error": "invalid_client"})
    client = make_client(auth=_oauth2(fake_time))
    with pytest.raises(NetSuiteAuthError) as caught:
        client.get("customer", 1)
    assert isinstance(caught.value, NetSuiteTokenError)
    assert caught.value.error_code == "invalid_client"
    assert "invalid_client" in str(caught.value)
    assert len(wire.calls) == 1


def test_R30_oauth2_401_reminted_once_then_gives_up(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    endpoint = TokenEndpoint(RSA_PUBLIC, "PS256")
    wire.add_callback(responses.POST, TOKEN_URL, callback=endpoint)
    unauthorized = {"title": "Unauthorized", "status": 401,
                    "o:errorDetails": [{"detail": "Invalid login attempt.",
                                        "o:errorCode": "INVALID_LOGIN"}]}
    wire.get(f"{RECORDS}/customer/1", status=401, json=unauthorized)
    client = make_client(auth=_oauth2(fake_time))
    with pytest.raises(NetSuiteAuthError) as caught:
        client.get("customer", 1)
    assert caught.value.error_code == "INVALID_LOGIN"
    assert endpoint.minted == 2  # the token was dropped and re-minted before the one retry
    assert sum(1 for c in wire.calls if c.request.url.startswith(RECORDS)) == 2


def test_R30_oauth2_missing_key_file_is_config_error(fake_time: FakeTime) -> None:
    with pytest.raises(ConfigError, match="NETSUITE_PRIVATE_KEY_FILE"):
        OAuth2ClientCredentials(account_id=ACCOUNT, client_id="c", certificate_id="k",
                                private_key_file="/nonexistent/key.pem")


def test_R30_oauth2_rejects_algorithm_outside_netsuite_list() -> None:
    with pytest.raises(ConfigError, match="RS256"):
        OAuth2ClientCredentials(account_id=ACCOUNT, client_id="c", certificate_id="k",
                                private_key_pem=RSA_PEM, algorithm="RS256")


# -- settings -------------------------------------------------------------------------------------

def _settings(**values: Any) -> SimpleNamespace:
    base: dict[str, Any] = dict(
        netsuite_account_id=ACCOUNT, netsuite_consumer_key=CONSUMER_KEY,
        netsuite_consumer_secret=SecretStr("cs-test-secret"), netsuite_token_id=TOKEN_ID,
        netsuite_token_secret=SecretStr("ts-test-secret"), netsuite_base_url=None,
        netsuite_concurrency=7, netsuite_timeout=12.5, netsuite_retry_max_seconds=45.0)
    base.update(values)
    return SimpleNamespace(**base)


def test_R30_from_settings_builds_token_auth_client() -> None:
    client = NetSuiteClient.from_settings(_settings(netsuite_base_url="http://127.0.0.1:9"))
    assert client.base_url == "http://127.0.0.1:9"
    assert client.concurrency == 7
    assert client.transport.timeout == 12.5
    assert client.retry.max_total_seconds == 45.0
    assert "TokenAuth" in repr(client.auth)


@pytest.mark.parametrize("missing", ["consumer_key", "token_secret", "token_id"])
def test_R30_from_settings_names_the_missing_variable(missing: str) -> None:
    with pytest.raises(ConfigError) as caught:
        NetSuiteClient.from_settings(_settings(**{f"netsuite_{missing}": None}))
    message = str(caught.value)
    assert message.startswith(f"NETSUITE_{missing.upper()} is missing")
    assert "\n" not in message
    assert "cs-test-secret" not in message and "ts-test-secret" not in message


def test_R30_from_settings_without_credentials_or_account() -> None:
    empty = {f"netsuite_{n}": None for n in
             ("consumer_key", "consumer_secret", "token_id", "token_secret")}
    with pytest.raises(ConfigError, match="NETSUITE_CONSUMER_KEY.*NETSUITE_CLIENT_ID"):
        NetSuiteClient.from_settings(_settings(**empty))
    with pytest.raises(ConfigError, match="NETSUITE_ACCOUNT_ID is missing"):
        NetSuiteClient.from_settings(_settings(netsuite_account_id=""))


def test_R30_from_settings_picks_oauth2_when_complete(tmp_path: Any) -> None:
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(RSA_PEM)
    client = NetSuiteClient.from_settings(SimpleNamespace(
        netsuite_account_id=ACCOUNT, netsuite_client_id="client-123",
        netsuite_certificate_id="cert-abc", netsuite_private_key_file=str(key_file)))
    assert isinstance(client.auth, OAuth2ClientCredentials)
    with pytest.raises(ConfigError, match="^NETSUITE_CERTIFICATE_ID is missing"):
        NetSuiteClient.from_settings(SimpleNamespace(
            netsuite_account_id=ACCOUNT, netsuite_client_id="client-123",
            netsuite_private_key_file=str(key_file)))


def test_R30_jwt_lifetime_is_short(fake_time: FakeTime) -> None:
    auth = _oauth2(fake_time)
    claims = jwt.decode(auth.client_assertion(), RSA_PUBLIC, algorithms=["PS256"],
                        audience=TOKEN_URL, options={"verify_exp": False, "verify_iat": False})
    assert claims["iat"] == int(fake_time.now)
    assert 0 < claims["exp"] - claims["iat"] <= 3600
