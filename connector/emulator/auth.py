"""Authentication as NetSuite does it: OAuth 1.0a TBA and OAuth 2.0 client credentials.

TBA (Oracle section_1534941295): HMAC-SHA256 only; realm must equal the account id exactly
(`1234567_SB1`, not `1234567_sb1`); query parameters are in the base string, the realm is not;
a reused nonce or a timestamp more than five minutes off is refused (a retried request must be
signed again: airbytehq/airbyte PR #44189). OAuth 2.0 M2M (Oracle section_162755359851,
section_162790605110): POST a JWT client assertion to the token endpoint, get a bearer token
valid 3600 s. Every refusal is 401 INVALID_LOGIN with Oracle's body; nonces and tokens live in
the emulator's SQLite database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt
from oauthlib.oauth1.rfc5849 import signature, utils

from connector.emulator.apierror import ApiError
from connector.emulator.db import Database
from connector.emulator.options import EmulatorOptions

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"  # noqa: S105 - a URL path
_PAIR = re.compile(r'([A-Za-z_]+)\s*=\s*"([^"]*)"')
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_LOGIN_DETAIL = ("Invalid login attempt. For more details, see the Login Audit Trail in the "
                 "NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.")


def invalid_login() -> ApiError:
    """The real 401 body (Oracle section_156570709583; jacobsvante/netsuite#27): the reason is
    never told to the caller."""
    return ApiError(401, "INVALID_LOGIN", _LOGIN_DETAIL)


def parse_oauth_header(header: str) -> dict[str, str]:
    """`OAuth realm="..", oauth_x=".."` -> {name: unescaped value}; {} when malformed."""
    pairs = _PAIR.findall(header[6:])
    return {k: unquote(v) for k, v in pairs}


class OAuthError(Exception):
    """Token endpoint refusal: {"error": code} with status 400 (codes seen in
    symon-ai/tap-netsuite oauth.py)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Authenticator:
    """Checks each request's Authorization header; mints OAuth 2.0 bearer tokens."""

    def __init__(self, db: Database, options: EmulatorOptions) -> None:
        self.db = db
        self.options = options
        self._since_prune = 0
        self.last_failure = ""  # why the last check failed (for tests/logs; never secrets)

    def check(self, method: str, uri: str, headers: Mapping[str, str], body: bytes) -> None:
        """Raise 401 INVALID_LOGIN unless the request is correctly signed or carries a token."""
        header = headers.get("Authorization") or headers.get("authorization") or ""
        if header[:7].lower() == "bearer ":
            self._check_bearer(header[7:].strip())
        elif header[:6].lower() == "oauth ":
            content_type = headers.get("Content-Type") or headers.get("content-type") or ""
            self._check_tba(method, uri, header, body, content_type)
        else:
            self._fail("no OAuth or Bearer authorization header")

    def _fail(self, why: str) -> NoReturn:
        self.last_failure = why
        raise invalid_login()

    def _check_bearer(self, token: str) -> None:
        with self.db.lock:
            row = self.db.conn.execute("SELECT expires FROM _token WHERE token = ?",
                                       [token]).fetchone()
        if row is None or row[0] < time.time():
            self._fail("unknown or expired bearer token")

    def _check_tba(self, method: str, uri: str, header: str, body: bytes,
                   content_type: str) -> None:
        oauth = parse_oauth_header(header)
        if not oauth:
            self._fail("malformed OAuth header")
        creds = self.options.credentials
        # realm casing matters (fylein/netsuite-sdk-py#29)
        if oauth.get("realm") != creds.account_id:
            self._fail("wrong realm")
        if oauth.get("oauth_signature_method") != "HMAC-SHA256":  # HMAC-SHA1 ended 2023.1
            self._fail("signature method is not HMAC-SHA256")
        if oauth.get("oauth_consumer_key") != creds.consumer_key or \
                oauth.get("oauth_token") != creds.token_id:
            self._fail("unknown consumer key or token")
        try:
            stamp = int(oauth.get("oauth_timestamp", ""))
        except ValueError:
            self._fail("bad timestamp")
        if abs(time.time() - stamp) > self.options.oauth_timestamp_window:
            self._fail("stale timestamp")
        expected = self._signature(method, uri, oauth, body, content_type)
        if not hmac.compare_digest(expected, oauth.get("oauth_signature", "")):
            self._fail("bad signature")
        self._use_nonce(oauth.get("oauth_nonce", ""), stamp)

    def _signature(self, method: str, uri: str, oauth: dict[str, str], body: bytes,
                   content_type: str) -> str:
        # RFC 5849 section 3.4.1.3: oauth_* header params (not realm, not the signature), query
        # params and form-encoded body params; the same set oauthlib's collect_parameters makes.
        params = [(k, v) for k, v in oauth.items() if k not in ("realm", "oauth_signature")]
        params.extend(parse_qsl(urlsplit(uri).query, keep_blank_values=True))
        if content_type.startswith("application/x-www-form-urlencoded") and body:
            params.extend(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        # oauthlib's stubs type the method as a literal and the parameters as a dict; it takes
        # any method and the list of pairs RFC 5849 needs (repeated names kept).
        sig: Any = signature
        base = sig.signature_base_string(method.upper(), sig.base_string_uri(uri),
                                         sig.normalize_parameters(params))
        creds = self.options.credentials
        # RFC 5849 section 3.4.2 with SHA-256: key = escaped consumer secret & escaped token secret.
        key = f"{utils.escape(creds.consumer_secret)}&{utils.escape(creds.token_secret)}"
        digest = hmac.new(key.encode("utf-8"), base.encode("utf-8"), hashlib.sha256).digest()
        return base64.b64encode(digest).decode("ascii")

    def _use_nonce(self, nonce: str, stamp: int) -> None:
        with self.db.lock:
            conn = self.db.conn
            fresh = nonce and conn.execute("INSERT OR IGNORE INTO _nonce (nonce, ts) "
                                           "VALUES (?, ?)", [nonce, stamp]).rowcount == 1
            if not fresh:
                self._fail("reused nonce")
            self._since_prune += 1
            if self._since_prune >= 5000:  # forget nonces too old to be accepted anyway
                self._since_prune = 0
                conn.execute("DELETE FROM _nonce WHERE ts < ?",
                             [int(time.time()) - 2 * self.options.oauth_timestamp_window])

    # ---- OAuth 2.0 client credentials ------------------------------------------------------
    def issue_token(self, form: Mapping[str, str]) -> tuple[str, int]:
        """Check a client_credentials request; (access token, seconds valid) or OAuthError."""
        if form.get("grant_type") != "client_credentials":
            raise OAuthError("unsupported_grant_type")
        if form.get("client_assertion_type") != JWT_BEARER or not form.get("client_assertion"):
            raise OAuthError("invalid_request")
        claims = self._claims(form["client_assertion"])
        now = time.time()
        creds = self.options.credentials
        if claims.get("iss") != creds.oauth2_client_id:
            raise OAuthError("invalid_client")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or not isinstance(iat, int | float) or \
                exp < now or exp - iat > 3600:
            raise OAuthError("invalid_grant")  # exp <= iat + 60 min
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if not any(isinstance(a, str) and a.endswith(TOKEN_PATH) for a in auds):
            raise OAuthError("invalid_grant")
        scopes = str(claims.get("scope", "")).replace(" ", ",").split(",")
        if "rest_webservices" not in scopes:
            raise OAuthError("invalid_scope")
        token = secrets.token_urlsafe(32)
        seconds = self.options.oauth2_token_seconds
        with self.db.lock:
            self.db.conn.execute("INSERT INTO _token (token, expires) VALUES (?, ?)",
                                 [token, now + seconds])
        return token, seconds

    def _claims(self, assertion: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise OAuthError("invalid_client") from None
        alg = header.get("alg")
        if alg not in self.options.oauth2_algorithms:
            raise OAuthError("invalid_client")
        key = self.options.credentials.oauth2_public_key_pem
        try:
            if key is None:  # test mode: structure and claims only
                claims: dict[str, Any] = jwt.decode(assertion,
                                                    options={"verify_signature": False})
            else:
                claims = jwt.decode(assertion, key, algorithms=[alg],
                                    options={"verify_aud": False, "verify_exp": False})
        except jwt.PyJWTError:
            raise OAuthError("invalid_client") from None
        return claims
