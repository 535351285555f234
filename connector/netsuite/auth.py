"""Request signers for NetSuite REST: OAuth 1.0a TBA and OAuth 2.0 client credentials (R30).

Both are `requests` auth objects, called once per attempt by the transport, so every retry is
signed afresh. Neither shows a secret in repr(), str() or an exception message.

- `TokenAuth`: requests-oauthlib's OAuth1, HMAC-SHA256, realm = account id upper case with
  underscore, query-string parameters in the base string, realm not in it, a form-encoded body
  signed and a JSON body not (RFC 5849 section 3.4.1.3); new nonce and timestamp on every call (a
  replayed nonce is a 401), since OAuth1 signs each request it is handed.
- `OAuth2ClientCredentials`: a JWT client assertion (kid = certificate id, alg PS256 by default,
  iss = client id, comma-separated scope, aud = token endpoint, exp <= iat + 1 h) is exchanged
  for a bearer token, cached and re-minted `refresh_margin` seconds before expiry.

Oracle's pages: the TBA header, https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1534941295.html;
the JWT, https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_162790605110.html;
the token request, https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_162755359851.html.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import SecretStr
from requests.auth import AuthBase
from requests_oauthlib import OAuth1

from connector.errors import ConfigError, NetSuiteError
from connector.netsuite._causes import cause
from connector.netsuite._errors_table import (
    NetSuiteConnectFailed,
    NetSuiteTokenError,
    error_from_response,
    json_object,
    parse_error_body,
)
from connector.netsuite._urls import TOKEN_PATH, account_realm, default_base_url

log = logging.getLogger("promosync.netsuite.auth")

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALLOWED_ALGORITHMS = frozenset({"PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
HMAC_SHA256 = "HMAC-SHA256"  # NetSuite's TBA signature method (HMAC-SHA1 is refused)


def _secret(value: str | SecretStr | None, name: str) -> SecretStr:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not value:
        raise ConfigError(f"{name} is missing")
    return SecretStr(value)


def _required(value: str | None, name: str) -> str:
    if not value or not str(value).strip():
        raise ConfigError(f"{name} is missing")
    return str(value).strip()


class TokenAuth(AuthBase):
    """OAuth 1.0a token-based authentication, HMAC-SHA256."""

    signs_offline = True  # signing needs no network: the transport signs before taking a slot

    def __init__(
        self,
        *,
        account_id: str,
        consumer_key: str,
        consumer_secret: str | SecretStr,
        token_id: str,
        token_secret: str | SecretStr,
    ) -> None:
        self.account_id = _required(account_id, "NETSUITE_ACCOUNT_ID")
        self.realm = account_realm(self.account_id)
        self.consumer_key = _required(consumer_key, "NETSUITE_CONSUMER_KEY")
        self._consumer_secret = _secret(consumer_secret, "NETSUITE_CONSUMER_SECRET")
        self.token_id = _required(token_id, "NETSUITE_TOKEN_ID")
        self._token_secret = _secret(token_secret, "NETSUITE_TOKEN_SECRET")
        # One signer for every request: it draws a new nonce and timestamp each time it signs,
        # and keeps no state between signatures, so threads may share it.
        self._oauth1 = OAuth1(
            self.consumer_key,
            client_secret=self._consumer_secret.get_secret_value(),
            resource_owner_key=self.token_id,
            resource_owner_secret=self._token_secret.get_secret_value(),
            signature_method=HMAC_SHA256,
            signature_type="AUTH_HEADER",
            realm=self.realm,
            decoding=None,  # keep headers, URL and body as text (the default encodes them to bytes)
        )

    def __repr__(self) -> str:
        return (
            f"TokenAuth(realm={self.realm!r}, consumer_key={self.consumer_key!r}, "
            f"token_id={self.token_id!r}, secrets=***)"
        )

    __str__ = __repr__

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Sign `request` afresh (the transport calls this once per attempt)."""
        signed: requests.PreparedRequest = self._oauth1(request)
        return signed


class OAuth2ClientCredentials(AuthBase):
    """OAuth 2.0 client credentials with a JWT assertion; bearer token cached."""

    def __init__(
        self,
        *,
        account_id: str,
        client_id: str,
        certificate_id: str,
        private_key_pem: bytes | None = None,
        private_key_file: str | None = None,
        algorithm: str = "PS256",
        scopes: Sequence[str] = ("rest_webservices",),
        token_url: str | None = None,
        session: requests.Session | None = None,
        timeout: float = 60.0,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account_id = _required(account_id, "NETSUITE_ACCOUNT_ID")
        self.client_id = _required(client_id, "NETSUITE_CLIENT_ID")
        self.certificate_id = _required(certificate_id, "NETSUITE_CERTIFICATE_ID")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise ConfigError(f"OAuth 2.0 algorithm {algorithm!r} is not one of "
                              f"{', '.join(sorted(ALLOWED_ALGORITHMS))}")
        self.algorithm = algorithm
        self.scopes = tuple(scopes)
        self._key = self._load_key(private_key_pem, private_key_file)
        self._token_url_fixed = token_url is not None
        self.token_url = token_url or default_base_url(self.account_id) + TOKEN_PATH
        self._session = session or requests.Session()
        self.timeout = timeout
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: SecretStr | None = None
        self._expires_at = 0.0
        self.tokens_minted = 0

    @staticmethod
    def _load_key(pem: bytes | None, path: str | None) -> Any:
        if pem is None and path:
            try:
                pem = Path(path).read_bytes()
            except OSError as exc:
                raise ConfigError(
                    f"NETSUITE_PRIVATE_KEY_FILE {path!r} cannot be read: {exc.strerror}"
                ) from None
        if not pem:
            raise ConfigError("NETSUITE_PRIVATE_KEY_FILE is missing")
        try:
            return load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            raise ConfigError("the OAuth 2.0 private key is not an unencrypted PEM key") from None

    def __repr__(self) -> str:
        return (
            f"OAuth2ClientCredentials(account_id={self.account_id!r}, "
            f"client_id={self.client_id!r}, certificate_id={self.certificate_id!r}, "
            f"algorithm={self.algorithm!r}, key=***)"
        )

    __str__ = __repr__

    def use_base_url(self, base_url: str) -> None:
        """Point the token endpoint at the client's base URL unless one was given explicitly."""
        if not self._token_url_fixed:
            self.token_url = base_url.rstrip("/") + TOKEN_PATH

    def client_assertion(self) -> str:
        """A signed JWT for the token request; lives 5 minutes."""
        now = int(self._clock())
        payload = {
            "iss": self.client_id,
            "scope": ",".join(self.scopes),
            "aud": self.token_url,
            "iat": now,
            "exp": now + 300,
        }
        headers = {"kid": self.certificate_id, "typ": "JWT"}
        return jwt.encode(payload, self._key, algorithm=self.algorithm, headers=headers)

    def invalidate(self) -> None:
        """Forget the cached bearer token (after a 401), so the next call mints a new one."""
        with self._lock:
            self._token = None
            self._expires_at = 0.0

    def bearer_token(self) -> str:
        """The cached token, or a new one when it is missing or within the refresh margin."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - self.refresh_margin:
                token, lifetime = self._mint()
                self._token = SecretStr(token)
                self._expires_at = self._clock() + lifetime
                self.tokens_minted += 1
            return self._token.get_secret_value()

    def _mint(self) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": self.client_assertion(),
        }
        try:
            resp = self._session.post(self.token_url, data=form, timeout=self.timeout,
                                      headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            # Nothing reached NetSuite's records: whatever broke, the run cannot go on, like
            # an unreachable host with token-based credentials (exit 2, not a failed promotion)
            why = cause(exc)
            raise NetSuiteConnectFailed(
                f"cannot reach the NetSuite token endpoint {self.token_url}: {why}",
                method="POST", url=self.token_url, detail=why,
            ) from None
        if resp.status_code >= 400:
            raise self._token_error(resp)
        data = json_object(resp.status_code, resp.text, method="POST", url=self.token_url)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise NetSuiteTokenError("the NetSuite token endpoint sent no access_token",
                                     status=resp.status_code, method="POST", url=self.token_url)
        log.info("minted OAuth 2.0 access token for client %s", self.client_id)
        return token, float(data.get("expires_in") or 3600)

    def _token_error(self, resp: requests.Response) -> NetSuiteError:
        error = error_from_response(resp.status_code, resp.headers, resp.text,
                                    method="POST", url=self.token_url)
        if error.retryable:  # 429 / 5xx at the token endpoint: let the retry policy decide
            return error
        body = parse_error_body(resp.text)
        code = body.error_code if body else None
        return NetSuiteTokenError(
            f"NetSuite refused the OAuth 2.0 client assertion ({code or resp.status_code})"
            + (f": {body.detail}" if body and body.detail else ""),
            status=resp.status_code, error_code=code,
            detail=body.detail if body else None, method="POST", url=self.token_url,
        )

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.bearer_token()}"
        return request
