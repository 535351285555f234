"""Messages for a channel (R42): a coupon-list code rendered into a text per user, SMS-checked.

    tpl = Template.parse("Your code {couponcode} is valid until {expirydate}",
                         date_format="%d.%m.%Y", sms=True)
    tpl.message(assignment, zone)      # Message(text=..., encoding="GSM-7", length=47, ...)

Placeholders (seed 003 names the first two): {couponcode}, {expirydate} (the list's last valid
day, R4), {givendate} (when the code was given, in the store's time zone), {user}, {campaign},
{list}. `{{` and `}}` are literal braces. Anything else in braces is refused in one line, before
any code is handed out.

SMS: a text of GSM 03.38 characters is counted in septets (the extension characters ^ { } \\ [ ~
] | € count two) against 160; a text holding any other character goes as UCS-2, counted in
UTF-16 units against 70. With `sms`, a text over its limit is refused. The check is made before
a code is handed out, with a stand-in as long as the list's longest code (codes are A-Z, 0-9,
`.`, `_`, `-`: one septet each), so a refusal never leaves a code given and its message unsent.
"""

from __future__ import annotations

import csv
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Protocol, TextIO

from sqlalchemy import func, select

from connector.errors import InputError
from connector.files.csvsafe import safe_cell
from connector.store import Store
from connector.store import schema as s
from connector.text import shown

PLACEHOLDERS = ("couponcode", "expirydate", "givendate", "user", "campaign", "list")
DEFAULT_DATE_FORMAT = "%Y-%m-%d"
DATE_DIRECTIVES = frozenset("dmYybBaAje%")
SMS_GSM7, SMS_UCS2 = 160, 70
MAX_TEMPLATE = 2000
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
EXPORT_COLUMNS = ("User ID", "External ID", "Campaign", "Coupon Code", "Coupon Expiry Date",
                  "Message", "Encoding", "Length")


class Handed(Protocol):
    """What a coupon-list hand-out tells (`Distributor.assign`'s answer)."""

    @property
    def list(self) -> str: ...
    @property
    def user(self) -> str: ...
    @property
    def campaign(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def given_at(self) -> datetime: ...
    @property
    def expires_on(self) -> date | None: ...


@dataclass(frozen=True)
class Message:
    user: str
    external_id: str | None
    campaign: str
    code: str
    expires_on: date | None
    text: str
    encoding: str  # GSM-7 | UCS-2
    length: int  # septets (GSM-7) or UTF-16 units (UCS-2)

    def to_dict(self) -> dict[str, object]:
        return {"user": self.user, "external_id": self.external_id, "campaign": self.campaign,
                "code": self.code, "expires_on": self.expires_on, "message": self.text,
                "encoding": self.encoding, "length": self.length}


def sms_length(text: str) -> tuple[str, int, int]:
    """(encoding, length, limit) of `text` as one SMS."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        return "GSM-7", sum(2 if c in GSM7_EXTENSION else 1 for c in text), SMS_GSM7
    return "UCS-2", sum(2 if ord(c) > 0xFFFF else 1 for c in text), SMS_UCS2


def check_date_format(pattern: str) -> str:
    """A strftime pattern of date directives only (%d %m %Y %y %b %B %a %A %j %e %%)."""
    if not pattern or len(pattern) > 64:
        raise InputError("a date format is 1 to 64 characters, e.g. %d.%m.%Y")
    for found in re.finditer(r"%(.?)", pattern):
        if found.group(1) not in DATE_DIRECTIVES:
            raise InputError(f"the date format {shown(pattern)} uses %{found.group(1)}; use only "
                             "%d %m %Y %y %b %B %a %A %j %e and %%")
    return pattern


@dataclass(frozen=True)
class Template:
    """A parsed message template: literal text and placeholders, in order."""

    text: str
    parts: tuple[tuple[str, str | None], ...]  # (literal text, placeholder after it or None)
    date_format: str = DEFAULT_DATE_FORMAT
    sms: bool = False

    @classmethod
    def parse(cls, text: str, *, date_format: str | None = None, sms: bool = False) -> Template:
        if not text.strip():
            raise InputError("a message template cannot be empty")
        if len(text) > MAX_TEMPLATE:
            raise InputError(f"a message template is at most {MAX_TEMPLATE:,} characters")
        try:
            pieces = list(string.Formatter().parse(text))
        except ValueError:
            raise InputError("the template has a lone { or }; write {{ or }} for a brace") from None
        unknown = [_written(f, spec, conv) for _lit, f, spec, conv in pieces
                   if f is not None and (f not in PLACEHOLDERS or spec or conv)]
        if unknown:
            listed = ", ".join(shown(u, quote=False) for u in dict.fromkeys(unknown))
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise InputError(f"the template uses {listed}, which the messages cannot fill; "
                             f"use {known}")
        parts = tuple((lit, f) for lit, f, _spec, _conv in pieces)
        return cls(text, parts, check_date_format(date_format or DEFAULT_DATE_FORMAT), sms)

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(f for _lit, f in self.parts if f is not None)

    def render(self, values: dict[str, str]) -> str:
        return "".join(lit + (values[f] if f is not None else "") for lit, f in self.parts)

    def values(self, handed: Handed, zone: tzinfo) -> dict[str, str]:
        expiry = handed.expires_on
        return {
            "couponcode": handed.code,
            "expirydate": expiry.strftime(self.date_format) if expiry is not None else "",
            "givendate": handed.given_at.astimezone(zone).strftime(self.date_format),
            "user": handed.user,
            "campaign": handed.campaign,
            "list": handed.list,
        }

    def message(self, handed: Handed, zone: tzinfo, external_id: str | None = None) -> Message:
        text = self.render(self.values(handed, zone))
        encoding, length, limit = sms_length(text)
        if self.sms and length > limit:
            raise InputError(_too_long(handed.user, encoding, length, limit))
        return Message(handed.user, external_id, handed.campaign, handed.code, handed.expires_on,
                       text, encoding, length)

    def precheck(self, probe: Handed, zone: tzinfo) -> None:
        """Refuse, before a code is handed out, what the messages could not say or send:
        {expirydate} of a list without expiry, an SMS over its limit (`probe` carries a
        stand-in as long as the list's longest code)."""
        if "expirydate" in self.fields and probe.expires_on is None:
            raise InputError(f"the list {shown(probe.list)} has no expiry date, so {{expirydate}} "
                             "has nothing to show; nothing was handed out")
        if self.sms:
            encoding, length, limit = sms_length(self.render(self.values(probe, zone)))
            if length > limit:
                raise InputError(_too_long(probe.user, encoding, length, limit)
                                 + "; nothing was handed out")


@dataclass(frozen=True)
class Probe:
    """A stand-in hand-out for `Template.precheck`."""

    list: str
    user: str
    campaign: str
    code: str
    given_at: datetime
    expires_on: date | None


def _written(field: str, spec: str | None, conversion: str | None) -> str:
    shown_conversion = f"!{conversion}" if conversion else ""
    return "{" + field + shown_conversion + (f":{spec}" if spec else "") + "}"


def _too_long(user: str, encoding: str, length: int, limit: int) -> str:
    return (f"the SMS for user {shown(user)} would be {length} {encoding} characters, over "
            f"{limit}: shorten the template")


def longest_code(store: Store, list_name: str) -> int:
    """The length of the longest code list `list_name` can hand out (0: no such list)."""
    lists, codes = s.coupon_lists.c, s.list_codes.c
    with store.read() as conn:
        row = conn.execute(select(lists.id, lists.fixed_code)
                           .where(lists.name == list_name.strip())).first()
        if row is None:
            return 0
        if row.fixed_code is not None:
            return len(row.fixed_code)
        longest = conn.scalar(select(func.max(func.length(codes.code)))
                              .where(codes.list_id == row.id))
    return int(longest or 0)


def write_messages(out: TextIO, messages: Iterable[Message]) -> int:
    """The export for the tool that sends them: spreadsheet-safe CSV; rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for m in messages:
        expiry = m.expires_on.isoformat() if m.expires_on else ""
        cells = (m.user, m.external_id or "", m.campaign, m.code, expiry, m.text, m.encoding,
                 str(m.length))
        writer.writerow([safe_cell(c) for c in cells])
        count += 1
    return count
