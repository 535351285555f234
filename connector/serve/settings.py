"""Settings of `promosync serve`: the store's settings plus the admin sign-in, the session
secret, the server's threads and the guard against guessing.

Read like every other setting (flags, then environment, then `promosync.toml`); the names:

    PROMOSYNC_ADMIN_PASSWORD_HASH   scrypt hash of the admin password (`promosync keys
                                    admin-password` makes it); never the password itself
    PROMOSYNC_SESSION_SECRET        HMAC key of the session cookie (else made once and kept
                                    in the store)
    PROMOSYNC_SERVE_THREADS         threads that run store work other than registers' (16)
    PROMOSYNC_SERVE_REGISTER_THREADS  threads that run registers' transactions (16)
    PROMOSYNC_SERVE_VALIDATE_THREADS  threads that run validate (4): one short read each, for
                                    which few threads pass the interpreter lock around less
    PROMOSYNC_SERVE_LOOP_CONNECTIONS  PostgreSQL connections of the event loop, which runs
                                    validate and keyed scans and payments itself (4: about
                                    twice the store server's cores; statements beyond what
                                    its cores run at once only wait there, in each other's way)
    PROMOSYNC_GUARD_REFUSALS        refused codes ... (10)
    PROMOSYNC_GUARD_WINDOW          ... within this many seconds (60) ...
    PROMOSYNC_GUARD_BLOCK           ... refuse further scans for this many seconds (300)
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, SecretStr

from connector.settings import Settings, load_settings_of


def _field(env: str, name: str, default: Any, **limits: Any) -> Any:
    return Field(default, validation_alias=AliasChoices(env, name), **limits)


class ServeSettings(Settings):
    """`Settings` and what the server adds. Build with `load_serve_settings()`."""

    admin_password_hash: SecretStr | None = _field(
        "PROMOSYNC_ADMIN_PASSWORD_HASH", "admin_password_hash", None)
    session_secret: SecretStr | None = _field("PROMOSYNC_SESSION_SECRET", "session_secret", None)
    serve_threads: int = _field("PROMOSYNC_SERVE_THREADS", "serve_threads", 16, ge=1, le=256)
    serve_register_threads: int = _field(
        "PROMOSYNC_SERVE_REGISTER_THREADS", "serve_register_threads", 16, ge=1, le=256)
    serve_validate_threads: int = _field(
        "PROMOSYNC_SERVE_VALIDATE_THREADS", "serve_validate_threads", 4, ge=1, le=256)
    serve_loop_connections: int = _field(
        "PROMOSYNC_SERVE_LOOP_CONNECTIONS", "serve_loop_connections", 4, ge=1, le=256)
    guard_refusals: int = _field("PROMOSYNC_GUARD_REFUSALS", "guard_refusals", 10, ge=1)
    guard_window: float = _field("PROMOSYNC_GUARD_WINDOW", "guard_window", 60.0, gt=0)
    guard_block: float = _field("PROMOSYNC_GUARD_BLOCK", "guard_block", 300.0, gt=0)


def load_serve_settings(**overrides: Any) -> ServeSettings:
    """Like `connector.settings.load_settings`: any problem is one ConfigError line."""
    return load_settings_of(ServeSettings, **overrides)
