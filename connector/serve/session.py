"""Admin sign-in: a password whose scrypt hash is in the settings, or an API key with the admin
scope; sessions in a signed cookie; a CSRF token on every form that writes.

The password hash is `scrypt$N$r$p$SALT$HASH` (base64), made by `promosync keys admin-password`;
the settings never hold the password. A session cookie is `PAYLOAD.SIGNATURE`: PAYLOAD is the
base64 of {"who", "exp", "csrf"}, SIGNATURE its HMAC-SHA256 under the session secret, checked in
constant time. The cookie is HttpOnly and SameSite=Strict. Forms carry the session's CSRF token;
the sign-in form, before there is a session, carries the token of a separate cookie (double
submit). A session made with an API key ends when that key is revoked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from connector.errors import ConfigError

SESSION_COOKIE = "promosync_session"
CSRF_COOKIE = "promosync_csrf"
LIFETIME = 8 * 3600  # seconds
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    if len(password) < 12:
        raise ConfigError("an admin password has at least 12 characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R,
                            p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    """Does `password` match the hash `stored`? A malformed hash is a ConfigError."""
    parts = stored.split("$")
    try:
        if len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError("not a scrypt hash")
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, expected = _unb64(parts[4]), _unb64(parts[5])
        if not (2 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16):
            raise ValueError("not a scrypt hash")
    except ValueError:
        raise ConfigError("setting admin_password_hash: not a hash made by "
                          "`promosync keys admin-password`") from None
    digest = hashlib.scrypt(password.encode("utf-8")[:1024], salt=salt, n=n, r=r, p=p,
                            dklen=len(expected), maxmem=128 * r * n * p + 2**20)
    return hmac.compare_digest(digest, expected)


@dataclass(frozen=True)
class Session:
    who: str  # "password" or "key:<id>"
    expires: int
    csrf: str


def new_session(who: str) -> Session:
    return Session(who, int(time.time()) + LIFETIME, secrets.token_urlsafe(24))


def sign(session: Session, secret: bytes) -> str:
    payload = _b64(json.dumps({"who": session.who, "exp": session.expires, "csrf": session.csrf},
                              separators=(",", ":")).encode("utf-8"))
    mac = hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def verify(cookie: str | None, secret: bytes) -> Session | None:
    """The session of a cookie whose signature holds and which has not expired."""
    if not cookie or len(cookie) > 1000 or cookie.count(".") != 1:
        return None
    payload, mac = cookie.split(".")
    expected = hmac.new(secret, payload.encode("ascii", "replace"), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(_unb64(mac), expected):
            return None
        data = json.loads(_unb64(payload))
        session = Session(str(data["who"]), int(data["exp"]), str(data["csrf"]))
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires > time.time() else None


def same_token(given: str | None, expected: str | None) -> bool:
    """A CSRF token check, in constant time."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))
