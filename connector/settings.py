"""Settings: command-line flags, then environment variables, then `promosync.toml`.

The names users type are a contract (`PROMOSYNC_DATABASE_URL`, `NETSUITE_ACCOUNT_ID`, ...: the
README's settings table lists them; tests/core/test_settings.py holds them). In
`promosync.toml` the same settings are written either way: `database_url = "..."` or
`PROMOSYNC_DATABASE_URL = "..."`. Secrets are SecretStr, so they never print, not even in a
validation error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from connector.errors import ConfigError
from connector.text import shown

CONFIG_FILE_ENV = "PROMOSYNC_CONFIG"
DEFAULT_CONFIG_FILE = "promosync.toml"


def _alias(env: str, name: str) -> Any:
    return Field(None, validation_alias=AliasChoices(env, name))


class Settings(BaseSettings):
    """Everything promosync reads from its surroundings. Build with `load_settings()`."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, case_sensitive=False)

    database_url: str = Field(
        "sqlite:///promosync.db",
        validation_alias=AliasChoices("PROMOSYNC_DATABASE_URL", "database_url"),
    )
    timezone: str = Field("UTC", validation_alias=AliasChoices("PROMOSYNC_TIMEZONE", "timezone"))
    mapping: str | None = Field(None, validation_alias=AliasChoices("PROMOSYNC_MAPPING", "mapping"))

    netsuite_account_id: str | None = _alias("NETSUITE_ACCOUNT_ID", "netsuite_account_id")
    netsuite_consumer_key: str | None = _alias("NETSUITE_CONSUMER_KEY", "netsuite_consumer_key")
    netsuite_consumer_secret: SecretStr | None = _alias(
        "NETSUITE_CONSUMER_SECRET", "netsuite_consumer_secret"
    )
    netsuite_token_id: str | None = _alias("NETSUITE_TOKEN_ID", "netsuite_token_id")
    netsuite_token_secret: SecretStr | None = _alias(
        "NETSUITE_TOKEN_SECRET", "netsuite_token_secret"
    )
    netsuite_client_id: str | None = _alias("NETSUITE_CLIENT_ID", "netsuite_client_id")
    netsuite_certificate_id: str | None = _alias(
        "NETSUITE_CERTIFICATE_ID", "netsuite_certificate_id"
    )
    netsuite_private_key_file: str | None = _alias(
        "NETSUITE_PRIVATE_KEY_FILE", "netsuite_private_key_file"
    )
    netsuite_base_url: str | None = _alias("NETSUITE_BASE_URL", "netsuite_base_url")
    netsuite_concurrency: int = Field(
        5,
        ge=1,
        le=1000,
        validation_alias=AliasChoices("NETSUITE_CONCURRENCY", "netsuite_concurrency"),
    )
    netsuite_timeout: float = Field(
        60.0, gt=0, validation_alias=AliasChoices("NETSUITE_TIMEOUT", "netsuite_timeout")
    )
    netsuite_generate_timeout: float = Field(
        900.0, gt=0,
        validation_alias=AliasChoices("NETSUITE_GENERATE_TIMEOUT", "netsuite_generate_timeout"),
    )
    netsuite_timezone: str | None = _alias("NETSUITE_TIMEZONE", "netsuite_timezone")
    netsuite_retry_max_seconds: float = Field(
        300.0,
        ge=0,
        validation_alias=AliasChoices("NETSUITE_RETRY_MAX_SECONDS", "netsuite_retry_max_seconds"),
    )
    sync_history_days: int = Field(
        90, ge=1, le=36500,
        validation_alias=AliasChoices("PROMOSYNC_SYNC_HISTORY_DAYS", "sync_history_days"),
    )
    hold_minutes: int = Field(
        15, ge=1, validation_alias=AliasChoices("PROMOSYNC_HOLD_MINUTES", "hold_minutes")
    )

    @field_validator("timezone", "netsuite_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {shown(value)}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=path))


def load_settings(**overrides: Any) -> Settings:
    """Settings from flags (`overrides`, None meaning "not given"), environment and file.

    Any problem becomes one ConfigError line naming the setting, never a pydantic dump.
    """
    return load_settings_of(Settings, **overrides)


S = TypeVar("S", bound=Settings)


def load_settings_of(cls: type[S], **overrides: Any) -> S:
    """`cls` (Settings or a subclass of it) from flags, environment and file, as
    `load_settings` does."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return cls(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        # pydantic words a validator's own message as "Value error, <message>": the message is ours
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
        raise ConfigError(f"setting {where}: {message}") from None
    except (OSError, ValueError) as exc:  # an unreadable or malformed promosync.toml
        raise ConfigError(f"cannot read {DEFAULT_CONFIG_FILE}: {exc}") from None
