"""What coupon lists (R20-R23) return: a hand-out, a warning, a list's state, a user's codes.

Plain frozen dataclasses; `to_dict()` (or `asdict()`) is what `--json` prints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from connector.text import plural


@dataclass(frozen=True)
class ListWarning:
    """R22: a list's remaining codes dropped to its warning limit (raised once per list)."""

    list: str
    remaining: int
    limit: int
    at: datetime

    @property
    def text(self) -> str:
        """The warning in words, the same in the log and on the command line."""
        return (f"coupon list {self.list}: {plural(self.remaining, 'code')} left "
                f"(warning limit {self.limit:,})")


@dataclass(frozen=True)
class Assignment:
    list: str
    user: str
    campaign: str
    code: str
    given_at: datetime
    expires_on: date | None
    repeated: bool  # R21: the same code again, within 24 hours
    warning: ListWarning | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Campaign:
    campaign: str
    started_at: datetime
    finished_at: datetime | None
    reason: str | None


@dataclass(frozen=True)
class ListStatus:
    name: str
    kind: str
    total: int
    given: int
    remaining: int
    expires_on: date | None
    warning_limit: int | None
    warned_at: datetime | None
    warned_remaining: int | None
    campaigns: tuple[Campaign, ...] = field(default_factory=tuple)

    @property
    def finished(self) -> tuple[Campaign, ...]:
        return tuple(c for c in self.campaigns if c.finished_at is not None)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "finished": [asdict(c) for c in self.finished]}


@dataclass(frozen=True)
class UserCode:
    """R23: one code a user was given."""

    list: str
    campaign: str
    code: str
    given_at: datetime
    expires_on: date | None
