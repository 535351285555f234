"""The emulator's clock and date formats: account-local time, SuiteQL's user date format, TO_CHAR.

Public evidence (hotglue `tap-netsuite-rest` client.py, salto-io/salto PR #3308, Estuary's
NetSuite connector docs): SuiteQL shows a raw date or datetime column in the user's date format
and the account's time zone, without the time of day; `TO_CHAR(col, 'YYYY-MM-DD HH24:MI:SS')`
gives the whole timestamp. So the emulator stores every datetime as account-local
'YYYY-MM-DD HH:MM:SS' text (text order is time order, and TO_DATE literals compare with it
directly), stamps writes with the account-local wall time, formats raw date columns on the way
out of SuiteQL, and renders REST datetimes in UTC ('...Z').
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

STORED = "%Y-%m-%d %H:%M:%S"
# Columns SuiteQL treats as dates (raw values are shown in the user's date format).
DATE_COLUMNS = frozenset({"lastmodifieddate", "trandate", "createddate", "startdate", "enddate",
                          "datesent"})
_STORED_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2}))?")
_USER_TOKENS = re.compile(r"YYYY|MONTH|Mon|MM|DD|M|D")
_CHAR_TOKENS = re.compile(r'"[^"]*"|YYYY|YY|MONTH|Month|MON|Mon|MM|DD|HH24|HH12|HH|MI|SS|AM|PM')
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; ValueError (one line) when it is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as "
                         "America/Los_Angeles or UTC)") from None


def now_text(tz: str = "UTC") -> str:
    """The wall time now in `tz`, as stored: 'YYYY-MM-DD HH:MM:SS'."""
    return datetime.now(zone(tz)).strftime(STORED)


def stored_text(value: str | datetime, tz: str) -> str:
    """A time given by a caller as stored text in `tz`.

    A naive datetime or 'YYYY-MM-DD[ HH:MM:SS]' text is account-local already; an aware
    datetime or ISO 8601 text with `Z` / an offset is converted. ValueError when unreadable.
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            when = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise ValueError(f"not a date and time: {value!r} (use 'YYYY-MM-DD HH:MM:SS', "
                             "account-local, or ISO 8601 with Z or an offset)") from None
    else:
        when = value
    if when.tzinfo is not None:
        when = when.astimezone(zone(tz))
    return when.strftime(STORED)


def utc_iso(stored: str, tz: str) -> str:
    """Stored account-local text -> REST datetime 'YYYY-MM-DDTHH:MM:SSZ' (UTC)."""
    m = _STORED_RE.fullmatch(stored)
    if m is None or m.group(4) is None:
        return stored
    local = datetime.strptime(stored, STORED).replace(tzinfo=zone(tz))
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_date(value: Any, fmt: str) -> Any:
    """A stored date/datetime as SuiteQL shows a raw date column: the date alone, in the user's
    date format (tokens YYYY, MM, M, DD, D, Mon, MONTH). Other values pass unchanged."""
    if not isinstance(value, str):
        return value
    m = _STORED_RE.fullmatch(value)
    if m is None:
        return value
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    parts = {"YYYY": f"{year:04d}", "MM": f"{month:02d}", "M": str(month), "DD": f"{day:02d}",
             "D": str(day), "Mon": _MONTHS[month - 1][:3], "MONTH": _MONTHS[month - 1]}
    return _USER_TOKENS.sub(lambda t: parts[t.group(0)], fmt)


def to_char(value: Any, fmt: Any = None) -> Any:
    """SuiteQL TO_CHAR: a stored date/datetime through an Oracle format model (YYYY, YY, MM,
    MON, Mon, MONTH, Month, DD, HH24, HH12, HH, MI, SS, AM, PM, "quoted text"); a number or
    other text as text; NULL stays NULL."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, str) or not isinstance(fmt, str):
        return str(value)
    m = _STORED_RE.fullmatch(value)
    if m is None:
        return value
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    h, mi, s = (int(m.group(i) or 0) for i in (4, 5, 6))
    name = _MONTHS[mo - 1]
    parts = {"YYYY": f"{y:04d}", "YY": f"{y % 100:02d}", "MM": f"{mo:02d}", "DD": f"{d:02d}",
             "MONTH": name.upper(), "Month": name, "MON": name[:3].upper(), "Mon": name[:3],
             "HH24": f"{h:02d}", "HH12": f"{(h % 12) or 12:02d}", "HH": f"{(h % 12) or 12:02d}",
             "MI": f"{mi:02d}", "SS": f"{s:02d}", "AM": "AM" if h < 12 else "PM",
             "PM": "AM" if h < 12 else "PM"}

    def one(token: re.Match[str]) -> str:
        text = token.group(0)
        return text[1:-1] if text.startswith('"') else parts[text]
    return _CHAR_TOKENS.sub(one, fmt)


def to_date_literal(value: str, fmt: str) -> str | None:
    """TO_DATE('value', 'fmt') as a stored-text literal body, or None when it does not match.

    A format with a time of day gives 'YYYY-MM-DD HH:MM:SS'; a date-only format gives
    'YYYY-MM-DD', which compares correctly with both date columns and datetime columns
    (midnight of that day) in text order."""
    pattern = re.escape(fmt.upper())
    for token, group in (("YYYY", r"(?P<y>\d{4})"), ("MM", r"(?P<m>\d{1,2})"),
                         ("DD", r"(?P<d>\d{1,2})"), ("HH24", r"(?P<H>\d{1,2})"),
                         ("MI", r"(?P<M>\d{2})"), ("SS", r"(?P<S>\d{2})")):
        pattern = pattern.replace(re.escape(token), group)
    m = re.fullmatch(pattern, value.strip())
    if not m:
        return None
    p = m.groupdict()
    if not all(p.get(k) for k in "ymd"):
        return None
    date = "{}-{:0>2}-{:0>2}".format(p["y"], p["m"], p["d"])
    if p.get("H") is None:
        return date
    return "{} {:0>2}:{:0>2}:{:0>2}".format(date, p["H"], p.get("M") or 0, p.get("S") or 0)
