"""Read NETSUITE_* values from any settings object into `NetSuiteClient` keyword arguments.

Works with the pydantic Settings or anything carrying the same attribute names (getattr with
defaults). Picks OAuth 2.0 client credentials when that set is complete, else token-based auth:
Oracle calls OAuth 2.0 preferred, and no new token-based integrations can be made from 2027.1
(https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/chapter_1540809676.html,
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1534941295.html).
Missing values raise one ConfigError line naming the variables.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from connector.errors import ConfigError
from connector.netsuite._retry import RetryPolicy
from connector.netsuite.auth import OAuth2ClientCredentials, TokenAuth

TBA_FIELDS = ("consumer_key", "consumer_secret", "token_id", "token_secret")
OAUTH2_FIELDS = ("client_id", "certificate_id", "private_key_file")


def _get(settings: object, name: str, default: Any = None) -> Any:
    value = getattr(settings, f"netsuite_{name}", None)
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    return value


def _env(name: str) -> str:
    return f"NETSUITE_{name.upper()}"


def _missing(settings: object, names: tuple[str, ...]) -> list[str]:
    return [_env(n) for n in names if _get(settings, n) is None]


def _need(settings: object, names: tuple[str, ...], kind: str) -> None:
    missing = _missing(settings, names)
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        needed = ", ".join(_env(n) for n in names)
        raise ConfigError(f"{', '.join(missing)} {verb} missing ({kind} needs {needed})")


def build_auth(settings: object, account_id: str) -> TokenAuth | OAuth2ClientCredentials:
    """The auth object the settings describe; ConfigError when incomplete."""
    oauth2_given = len(_missing(settings, OAUTH2_FIELDS)) < len(OAUTH2_FIELDS)
    tba_given = len(_missing(settings, TBA_FIELDS)) < len(TBA_FIELDS)
    if oauth2_given and (not _missing(settings, OAUTH2_FIELDS) or not tba_given):
        _need(settings, OAUTH2_FIELDS, "OAuth 2.0 client credentials")
        return OAuth2ClientCredentials(
            account_id=account_id,
            client_id=_get(settings, "client_id"),
            certificate_id=_get(settings, "certificate_id"),
            private_key_file=str(_get(settings, "private_key_file")),
            algorithm=_get(settings, "jwt_algorithm", "PS256"),
            timeout=float(_get(settings, "timeout", 60.0)),
        )
    if tba_given:
        _need(settings, TBA_FIELDS, "token-based auth")
        return TokenAuth(
            account_id=account_id,
            consumer_key=_get(settings, "consumer_key"),
            consumer_secret=_get(settings, "consumer_secret"),
            token_id=_get(settings, "token_id"),
            token_secret=_get(settings, "token_secret"),
        )
    raise ConfigError(
        "NetSuite credentials are missing: set NETSUITE_CONSUMER_KEY, NETSUITE_CONSUMER_SECRET, "
        "NETSUITE_TOKEN_ID and NETSUITE_TOKEN_SECRET, or NETSUITE_CLIENT_ID, "
        "NETSUITE_CERTIFICATE_ID and NETSUITE_PRIVATE_KEY_FILE"
    )


def client_kwargs_from_settings(settings: object) -> dict[str, Any]:
    """Keyword arguments for `NetSuiteClient(**kwargs)`."""
    account_id = _get(settings, "account_id")
    if account_id is None:
        raise ConfigError("NETSUITE_ACCOUNT_ID is missing")
    retry = RetryPolicy(
        max_attempts=int(_get(settings, "retry_max_attempts", 8)),
        base_seconds=float(_get(settings, "retry_base_seconds", 0.5)),
        cap_seconds=float(_get(settings, "retry_cap_seconds", 30.0)),
        max_total_seconds=float(_get(settings, "retry_max_seconds", 300.0)),
    )
    return {
        "account_id": str(account_id),
        "auth": build_auth(settings, str(account_id)),
        "base_url": _get(settings, "base_url"),
        "concurrency": int(_get(settings, "concurrency", 5)),
        "timeout": float(_get(settings, "timeout", 60.0)),
        "retry": retry,
    }
