"""API keys of `promosync serve` (R41): made, listed and revoked; only their hashes are kept.

A key is `psk_` followed by 43 characters of `secrets.token_urlsafe(32)` (256 random bits).
The store keeps its SHA-256 (a key has too much entropy for a slow hash to matter) and its first
characters, so that `keys list` can tell keys apart without showing one. A request's key is
hashed and looked up by that hash; the stored hash is compared again with
`hmac.compare_digest`. The key itself is shown once, when it is made, and never logged.

Scopes: `register` and `webstore` (transactions and validate), `lists` (coupon-list hand-outs
and messages), `admin` (everything, the admin pages' sign-in included).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row

from connector.errors import InputError
from connector.store import Store
from connector.store import schema as s
from connector.store.schema import utcnow
from connector.text import one_line, shown

SCOPES = ("register", "webstore", "lists", "admin")
PREFIX = "psk_"
SHOWN_PREFIX = 10  # characters of a key kept in clear: "psk_" and 6 random ones
MAX_NAME = 64
_K = s.api_keys.c


@dataclass(frozen=True)
class ApiKey:
    """A key as the store knows it (never the key itself)."""

    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "prefix": self.prefix, "scopes": list(self.scopes),
                "created_at": self.created_at, "revoked_at": self.revoked_at}


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_scopes(scopes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    if not scopes:
        raise InputError(f"a key needs at least one scope: {', '.join(SCOPES)}")
    unknown = [x for x in scopes if x not in SCOPES]
    if unknown:
        raise InputError(f"unknown scope {shown(unknown[0])}; use {', '.join(SCOPES)}")
    return tuple(x for x in SCOPES if x in scopes)  # each once, in a fixed order


def create_key(store: Store, name: str, scopes: tuple[str, ...] | list[str]) -> tuple[ApiKey, str]:
    """A new key named `name`: its record and the key itself (to be shown once)."""
    name = one_line(name.strip(), "a key name")
    if not name or len(name) > MAX_NAME:
        raise InputError(f"a key name is 1 to {MAX_NAME} characters")
    ordered = check_scopes(scopes)
    key = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with store.begin() as conn:
        live = conn.scalar(select(_K.id).where(_K.name == name, _K.revoked_at.is_(None)))
        if live is not None:
            raise InputError(f"a key named {shown(name)} exists already; revoke it first")
        new_id = conn.execute(s.api_keys.insert().values(
            name=name, prefix=key[:SHOWN_PREFIX], key_hash=key_hash(key),
            scopes=" ".join(ordered), created_at=now)).inserted_primary_key
    assert new_id is not None
    return ApiKey(int(new_id[0]), name, key[:SHOWN_PREFIX], ordered, now, None), key


def list_keys(store: Store) -> list[ApiKey]:
    with store.read() as conn:
        rows = conn.execute(select(s.api_keys).order_by(_K.name, _K.id)).all()
    return [_key(r) for r in rows]


def revoke_key(store: Store, name: str) -> ApiKey:
    """Revoke the live key named `name`: every request with it is refused from then on."""
    now = utcnow()
    with store.begin() as conn:
        row = conn.execute(select(s.api_keys).where(
            _K.name == name.strip(), _K.revoked_at.is_(None))).first()
        if row is None:
            raise InputError(f"no live key named {shown(name.strip())}")
        conn.execute(s.api_keys.update().where(_K.id == row.id).values(revoked_at=now))
    return ApiKey(row.id, row.name, row.prefix, tuple(row.scopes.split()), row.created_at, now)


# The live key with a hash ($1) as one JSON value, NULL when there is none: how the server's
# event loop reads a key on PostgreSQL (context.Context.read_key_on).
LIVE_KEY_SQL = """
SELECT (SELECT json_build_object('id', id, 'name', name, 'prefix', prefix, 'key_hash', key_hash,
                                 'scopes', scopes, 'created_at', created_at)
          FROM api_keys WHERE key_hash = $1::text AND revoked_at IS NULL)
"""


def well_formed(presented: str) -> bool:
    """Whether `presented` may be a key at all (else it is refused without a lookup)."""
    return presented.startswith(PREFIX) and len(presented) <= 200


def from_json(data: dict[str, Any], digest: str) -> ApiKey | None:
    """The key LIVE_KEY_SQL found, when its hash is `digest`."""
    if not hmac.compare_digest(str(data["key_hash"]), digest):
        return None
    made = datetime.fromisoformat(str(data["created_at"]))  # the store keeps UTC, zoneless
    created = made.replace(tzinfo=UTC) if made.tzinfo is None else made.astimezone(UTC)
    return ApiKey(int(data["id"]), str(data["name"]), str(data["prefix"]),
                  tuple(str(data["scopes"]).split()), created, None)


def authenticate(store: Store, presented: str) -> ApiKey | None:
    """The live key whose hash is that of `presented`, else None."""
    if not well_formed(presented):
        return None
    digest = key_hash(presented)
    with store.read() as conn:
        row = conn.execute(select(s.api_keys).where(
            _K.key_hash == digest, _K.revoked_at.is_(None))).first()
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    return _key(row)


def key_by_id(store: Store, key_id: int) -> ApiKey | None:
    """The live key with this id (an admin session signed in with a key ends with it)."""
    with store.read() as conn:
        row = conn.execute(select(s.api_keys).where(
            _K.id == key_id, _K.revoked_at.is_(None))).first()
    return None if row is None else _key(row)


def _key(r: Row[Any]) -> ApiKey:
    return ApiKey(r.id, r.name, r.prefix, tuple(r.scopes.split()), r.created_at, r.revoked_at)
