"""Coupon-list values (R20-R23) and the pieces of coupon lists that need no store.

What `connector.distribute` returns, the code-file reader for unique lists, and the CSV cell
guard of the usage export.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from connector.codes import normalize
from connector.errors import FileInputError, InputError
from connector.files.readers import line_blocks
from connector.redeem.checks import ANY_CODE
from connector.text import plural, shown

EXPORT_COLUMNS = (
    "Coupon Code",
    "External ID",
    "User ID",
    "Coupon Given Date",
    "Coupon Expiry Date",
)


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


def read_code_file(path: str | Path) -> list[str]:
    """A .txt file, one code per line (blank lines skipped). Bad or repeated codes are reported
    with their line numbers and nothing is kept. Read like every other file users give
    (connector.files.readers: UTF-8 with or without BOM, the same words for what is wrong)."""
    where = str(path)
    codes: list[str] = []
    seen: dict[str, int] = {}
    problems: list[tuple[int, str]] = []
    for first, lines in line_blocks(path):
        for number, raw in enumerate(lines, start=first):
            code = normalize(raw)
            if not code:
                continue
            if not ANY_CODE.fullmatch(code):
                problems.append((number, f"{shown(raw.strip())} is not a code "
                                         "(A-Z, 0-9, . _ -, up to 64)"))
            elif code in seen:
                problems.append((number, f"{code} repeats line {seen[code]}"))
            else:
                seen[code] = number
                codes.append(code)
    if problems:
        raise FileInputError(where, problems)
    if not codes:
        raise InputError(f"{where} holds no codes")
    return codes


def safe_cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (leading = + - @ tab CR get a ')."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
