"""Values placed into SuiteQL text, made safe: the only way promosync puts data in a query.

SuiteQL over REST takes no bind parameters, so every value is rendered here: integers are
checked to be integers, strings are quoted with '' doubling, timestamps are checked against
the one format NetSuite gives them in and wrapped in TO_DATE (docs/netsuite-facts.md). A value that
fails its check came from a response we do not trust and raises NetSuiteBadResponse.
"""

from __future__ import annotations

import re

from connector.errors import NetSuiteBadResponse

_INT = re.compile(r"-?\d{1,18}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?")


def integer(value: object) -> str:
    """An integer literal (record ids arrive as strings of digits)."""
    text = str(value).strip()
    if isinstance(value, bool) or not _INT.fullmatch(text):
        raise NetSuiteBadResponse(f"expected a record id or number, got {text[:40]!r}")
    return str(int(text))


def integers(values: list[str] | list[int]) -> str:
    """A comma-separated list of integer literals, for IN (...)."""
    return ", ".join(integer(v) for v in values)


def string(value: str) -> str:
    """A quoted string literal; quotes inside are doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def timestamp(value: str) -> str:
    """TO_DATE('YYYY-MM-DD HH:MM:SS', ...) for a timestamp NetSuite gave us."""
    text = str(value).strip()
    if not _TIMESTAMP.fullmatch(text):
        raise NetSuiteBadResponse(f"expected a timestamp YYYY-MM-DD HH:MM:SS, got {text[:40]!r}")
    if len(text) == 10:
        text += " 00:00:00"
    return f"TO_DATE('{text}', 'YYYY-MM-DD HH24:MI:SS')"
