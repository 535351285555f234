"""The `[alerts]` table of promosync.toml (R44): the targets alerts go to, and when.

    [alerts]
    failing_runs = 3                      # a promotion failing this many runs in a row

    [[alerts.targets]]
    kind = "webhook"                      # JSON, signed (see connector.alerts.senders)
    url = "https://ops.example.com/hooks/promosync"
    secret_env = "PROMOSYNC_WEBHOOK_KEY"  # the NAME of the variable holding the HMAC key

    [[alerts.targets]]
    kind = "smtp"                         # STARTTLS always; never a password in clear
    host = "smtp.example.com"
    port = 587
    from = "promosync@example.com"
    to = ["ops@example.com"]
    user_env = "PROMOSYNC_SMTP_USER"
    password_env = "PROMOSYNC_SMTP_PASSWORD"

    [[alerts.targets]]
    kind = "slack"                        # a Slack-compatible incoming webhook
    url_env = "PROMOSYNC_SLACK_URL"       # its URL is its credential: from the environment
    events = ["run_failed", "promotion_failing"]

The file names variables, never secrets: a key that would hold one (`secret`, `password`,
`key`, a Slack `url`) is refused, so promosync.toml can be committed and shown. A malformed
table is one ConfigError line naming the key: "promosync.toml: alerts.targets[0].url: ..."
(targets counted from 0).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from connector.errors import ConfigError

Event = Literal["run_failed", "run_refused", "run_aborted", "promotion_failing", "list_warning",
                "reconciliation_difference", "guard_lockout"]
EVENTS: tuple[Event, ...] = ("run_failed", "run_refused", "run_aborted", "promotion_failing",
                             "list_warning", "reconciliation_difference", "guard_lockout")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# keys that would put a secret in the file: what to write instead
_SECRET_KEYS = {"secret": "secret_env", "key": "secret_env", "hmac_key": "secret_env",
                "password": "password_env", "user": "user_env"}


class _Target(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: str
    name: str | None = Field(None, min_length=1, max_length=64)
    events: list[Event] = Field(default_factory=lambda: list(EVENTS))
    timeout: float = Field(6.0, gt=0, le=9.0)  # seconds a delivery may take, retries included

    @model_validator(mode="before")
    @classmethod
    def _no_secret(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, instead in _SECRET_KEYS.items():
                if key in data:
                    raise ValueError(f"{key}: promosync.toml holds no secrets; put it in an "
                                     f"environment variable and name that with {instead}")
        return data

    def label(self, index: int) -> str:
        return self.name or f"{self.kind}#{index + 1}"


def _env_name(value: str | None) -> str | None:
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError("must be the name of an environment variable (letters, digits, _)")
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    return value


class WebhookTarget(_Target):
    kind: Literal["webhook"]
    url: str
    secret_env: str

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("secret_env")
    @classmethod
    def _env(cls, value: str) -> str | None:
        return _env_name(value)


class SlackTarget(_Target):
    kind: Literal["slack"]
    url_env: str

    @model_validator(mode="before")
    @classmethod
    def _url_is_secret(cls, data: Any) -> Any:
        if isinstance(data, dict) and "url" in data:
            raise ValueError("url: an incoming webhook's URL is its credential; put it in an "
                             "environment variable and name that with url_env")
        return data

    @field_validator("url_env")
    @classmethod
    def _env(cls, value: str) -> str | None:
        return _env_name(value)


class SmtpTarget(_Target):
    kind: Literal["smtp"]
    host: str = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535)
    sender: str = Field(alias="from", pattern=r"^[^@\s]+@[^@\s]+$")
    to: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = Field(min_length=1)
    user_env: str | None = None
    password_env: str | None = None
    ca_file: str | None = None  # a CA bundle to trust (a private CA); default: the system's

    @field_validator("user_env", "password_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        return _env_name(value)

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _both_or_neither(self) -> SmtpTarget:
        if (self.user_env is None) != (self.password_env is None):
            raise ValueError("user_env and password_env go together")
        if self.ca_file is not None and not Path(self.ca_file).expanduser().is_file():
            raise ValueError(f"ca_file: no such file {self.ca_file}")
        return self


Target = Annotated[WebhookTarget | SlackTarget | SmtpTarget, Field(discriminator="kind")]


class AlertsConfig(BaseModel):
    """The `[alerts]` table; no table means no targets (alerts are off)."""

    model_config = ConfigDict(extra="forbid")

    failing_runs: int = Field(3, ge=1, le=1000)
    targets: list[Target] = Field(default_factory=list)

    def for_event(self, event: str) -> list[tuple[str, WebhookTarget | SlackTarget | SmtpTarget]]:
        """(label, target) of each target that takes `event` ("test": every one)."""
        return [(t.label(i), t) for i, t in enumerate(self.targets)
                if event == "test" or event in t.events]


def config_file() -> Path:
    """The settings file, as connector.settings finds it."""
    from connector.settings import CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE

    return Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))


def load_alerts(path: Path | None = None) -> AlertsConfig:
    """The `[alerts]` table of promosync.toml (or `path`); a problem is one ConfigError line."""
    path = path or config_file()
    try:
        with path.open("rb") as fh:
            table = tomllib.load(fh).get("alerts")
    except FileNotFoundError:
        return AlertsConfig.model_validate({})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path.name}: {exc}") from None
    if table is None:
        return AlertsConfig.model_validate({})
    if not isinstance(table, dict):
        raise ConfigError(f"{path.name}: alerts: must be a table ([alerts])")
    try:
        return AlertsConfig.model_validate(table)
    except ValidationError as exc:
        raise ConfigError(f"{path.name}: {_where(exc)}") from None


def _where(exc: ValidationError) -> str:
    """`alerts.targets[0].url: <message>` for the first problem pydantic found."""
    first = exc.errors()[0]
    where = "alerts"
    loc = list(first.get("loc", ()))
    for i, part in enumerate(loc):
        if isinstance(part, int):
            where += f"[{part}]"
        elif i > 0 and isinstance(loc[i - 1], int) and part in ("webhook", "slack", "smtp"):
            continue  # the discriminator's tag, not a key the user wrote
        else:
            where += f".{part}"
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if first.get("type") == "union_tag_invalid":
        message = "kind must be webhook, smtp or slack"
    elif first.get("type") == "union_tag_not_found":
        message = "kind is missing (webhook, smtp or slack)"
    elif first.get("type") == "extra_forbidden":
        message = "not a known key"
    elif first.get("type") == "missing":
        message = "is missing"
    # a message of ours that names its key ("secret: ...") says it once, after the path
    head, sep, rest = message.partition(": ")
    if sep and re.fullmatch(r"[a-z_]+", head) and not where.endswith(f".{head}"):
        where, message = f"{where}.{head}", rest
    return f"{where}: {message[:1].lower() + message[1:]}"
