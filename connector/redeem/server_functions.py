"""Scan and payment on a PostgreSQL store, through the functions of store/redeem_functions.sql.

On PostgreSQL the Python path costs five round trips and eleven statements a redemption, and
with 16 registers sharing two cores those per-statement and per-round-trip costs, not the
statements' own work, held it near 600 a second. Here a scan is one call (the R13 checks, the
hold, its history line and the discount so far) and a payment one call (the checks again, the
stacked discounts, the conditional counters and the outcome), each its own transaction, on
the calling thread's own connection (store/thread_connections.py).

The functions repeat checks.py's R13 checks (in rules.R13's order: tests/redeem/
test_rule_order.py reads the SQL to hold them to it), discount.py's arithmetic and commit.py's
counter order, and return refusals as the keys of rules.py's table: the messages and details
stay in Python. Cases they leave to Python (an unknown or closed transaction, holds whose time
ran out, a custom code format, item names that are not ASCII, a NUL character) come back as
"slow" with nothing written, and `scan` and `pay` return None: the caller runs the Python path.

Under an Idempotency-Key (`promosync serve`, R41) `keyed_scan` and `keyed_pay` claim the key and
scan or pay in the same call (promosync_keyed_scan, promosync_keyed_pay): a held code or a
payment is kept under the key as the function's reply, from which `held_from` and
`payment_from` make the answer, at the first request and at every replay alike.

A dry run (`Register.check`, dry_run.py) is one read-only SELECT of the same functions' STABLE
parts (the code's facts, promosync_refusal, promosync_stacked); the mode, the code's format and
the messages are checked and made by checks.py and rules.py, as on the Python path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import psycopg

from connector.catalog import customer_code
from connector.errors import RedemptionError, StoreError
from connector.models import EventKind
from connector.redeem import checks, dry_run, rules, sales
from connector.redeem.checks import SETTING_FORMAT
from connector.redeem.commit import COUNTER_RULES
from connector.redeem.discount import ZERO, Line, stacked
from connector.redeem.pay import ZERO_REASON, Lost
from connector.redeem.results import CheckedCode, CodeOutcome, HeldCode, Payment
from connector.redeem.station import Station
from connector.store.loop_connections import LoopConnections
from connector.store.thread_connections import OwnConnection, PreparedCall, ThreadConnections
from connector.store.transactions import online

SCAN = PreparedCall.of(
    "scan",
    "SELECT promosync_scan($1::text, $2::text, $3::timestamp, $4::date, $5::timestamp, $6::text)",
)
PAY = PreparedCall.of(
    "pay", "SELECT promosync_pay($1::text, $2::timestamp, $3::date, $4::text, $5::text)"
)
# Register.check (dry_run.py) in one read-only statement: the switches, the customer, and the
# code with its group's limits through promosync_refusal (no transaction: never "already
# scanned") and, when it may be used, its discount alone on the cart through promosync_stacked.
CHECK = PreparedCall.of("check", """
WITH store AS (
    SELECT (SELECT value FROM store_settings WHERE key = 'single_use_format') AS fmt,
           COALESCE((SELECT value FROM store_settings WHERE key = 'single_use_codes'), 'on')
               = 'on' AS single_use,
           (SELECT id FROM customers WHERE code = $2::text) AS customer_id
), code AS (
    SELECT v.id, CASE WHEN v.group_id IS NULL THEN v ELSE promosync_grouped(v) END AS f
      FROM promosync_code_facts v WHERE v.code = $1::text
)
SELECT json_build_object(
    'fmt', store.fmt, 'customer', store.customer_id, 'known', code.id IS NOT NULL,
    'refusal', r.refusal, 'terms', promosync_terms(code.f),
    'given', CASE WHEN code.id IS NOT NULL AND r.refusal IS NULL
                  THEN (promosync_stacked(json_build_array(promosync_terms(code.f)),
                                          $4::json, $5::numeric))[1]::text END)
  FROM store
  LEFT JOIN code ON true
  LEFT JOIN LATERAL (SELECT promosync_refusal(code.f, store.customer_id, $3::date,
                                              store.single_use, NULL) AS refusal) r
         ON code.id IS NOT NULL
""")
KEYED_SCAN = PreparedCall.of(
    "keyed_scan",
    "SELECT promosync_keyed_scan($1::bigint, $2::text, $3::text, $4::timestamp, $5::integer, "
    "$6::text, $7::text, $8::timestamp, $9::date, $10::timestamp, $11::text)",
)
KEYED_PAY = PreparedCall.of(
    "keyed_pay",
    "SELECT promosync_keyed_pay($1::bigint, $2::text, $3::text, $4::timestamp, $5::integer, "
    "$6::text, $7::timestamp, $8::date, $9::text, $10::text)",
)
NOT_TAKEN = "PSL01"  # SQLSTATE of promosync_pay when a counter refuses
_DATES = ("expires_on", "g_end")


class ServerFunctions:
    """Scan and pay at one station through the server functions of its PostgreSQL store."""

    def __init__(self, station: Station) -> None:
        lines = station.store.thread_connections
        if lines is None:
            raise ValueError("server functions need a PostgreSQL store")
        self.station = station
        self._lines: ThreadConnections = lines

    def scan(self, sale_id: str, text: str) -> HeldCode | RedemptionError | None:
        """Register.scan on the server: the held code, the refusal, or None (use Python)."""
        if "\x00" in text or "\x00" in sale_id:
            return None  # no PostgreSQL text holds it: the Python path says what is wrong
        station = self.station
        now = station.clock()
        until = now + station.hold
        values = (sale_id.strip(), text, _utc(now), station.today(now), _utc(until), station.source)
        with self._lines.using() as line:
            reply = _call(line, SCAN, values)
        if "slow" in reply:
            return None
        if "rule" in reply:
            error = rules.refused(reply["rule"], text, detail=reply.get("state"))
            if "code_id" in reply:  # a check after the code was found: it goes in its history
                self._refused(reply["code_id"], sale_id.strip(), reply["customer"], now, error)
            return error
        return held_from({**reply, "held_until": until})

    def keyed_scan(self, sale_id: str, text: str, claim: KeyClaim) -> Any:
        """`scan` and the claim of `claim`'s key in one call: the function's reply
        ({"answered": status, "reply": ...}, {"claimed": true} or {"taken": row}; see
        promosync_keyed_scan), or None when only `scan` can tell (a NUL character)."""
        values = self._keyed_scan_values(sale_id, text, claim)
        if values is None:
            return None
        with self._lines.using() as line:
            return _call(line, KEYED_SCAN, values)

    async def keyed_scan_on(self, loop: LoopConnections, sale_id: str, text: str,
                            claim: KeyClaim) -> Any:
        """`keyed_scan` on an event loop's connections."""
        values = self._keyed_scan_values(sale_id, text, claim)
        return None if values is None else await _call_on(loop, KEYED_SCAN, values)

    def _keyed_scan_values(self, sale_id: str, text: str, claim: KeyClaim
                           ) -> tuple[Any, ...] | None:
        if "\x00" in text or "\x00" in sale_id:
            return None
        station = self.station
        now = station.clock()
        return (*claim.values(), sale_id.strip(), text, _utc(now), station.today(now),
                _utc(now + station.hold), station.source)

    def check(
        self, text: str, *, customer: str | None, mode: str, lines: Sequence[Line],
        shipping: Decimal,
    ) -> CheckedCode | None:
        """dry_run.check on the server, in one read-only statement: the answer, or the
        refusal raised; None when a NUL character leaves it to Python."""
        asked = self._check_values(text, customer, lines, shipping)
        if asked is None:
            return None
        with self._lines.using() as line:
            reply = _call(line, CHECK, asked.values)
        return _checked(reply, asked, text, mode, lines, shipping)

    async def check_on(
        self, loop: LoopConnections, text: str, *, customer: str | None, mode: str,
        lines: Sequence[Line], shipping: Decimal,
    ) -> CheckedCode | None:
        """`check` on an event loop's connections."""
        asked = self._check_values(text, customer, lines, shipping)
        if asked is None:
            return None
        reply = await _call_on(loop, CHECK, asked.values)
        return _checked(reply, asked, text, mode, lines, shipping)

    def _check_values(self, text: str, customer: str | None, lines: Sequence[Line],
                      shipping: Decimal) -> _Asked | None:
        if "\x00" in text or (customer is not None and "\x00" in customer):
            return None
        code = customer_code(customer) if customer is not None else None
        today = self.station.today()
        cart = json.dumps([line.to_json() for line in lines])
        return _Asked((text, code, today, cart, str(shipping)), code, today)

    def _refused(
        self, code_id: int, sale_id: str, customer_id: int | None, now: datetime, error: Any
    ) -> None:
        sale = SimpleNamespace(id=sale_id, customer_id=customer_id)
        with online(), self.station.store.writer.transaction() as conn:
            sales.note(conn, sale, code_id, EventKind.REFUSED, at=now,
                       source=self.station.source, detail=f"scan: {error.message}")

    def pay(self, sale_id: str) -> Payment | None:
        """pay.pay on the server, in one call; None: use the Python path (nothing was written).
        A code that lost raises pay.Lost, as on the Python path."""
        if "\x00" in sale_id:
            return None
        station = self.station
        now = station.clock()
        values = (sale_id.strip(), _utc(now), station.today(now), station.source, ZERO_REASON)
        try:
            with self._lines.using() as line:
                reply = _call(line, PAY, values)
        except _NotTaken as refused:
            lost = refused.lost
            sale: Any = SimpleNamespace(id=sale_id.strip(), customer_id=lost["customer_id"])
            error = rules.limit_reached(COUNTER_RULES[lost["kind"]], lost["code"])
            raise Lost(error, lost["id"], sale) from None
        if "slow" in reply:
            return None
        if "lost" in reply:
            lost = reply["lost"]
            error = rules.lost(lost["rule"], lost["code"])
            raise Lost(error, lost["id"], _row(reply["sale"]))
        return payment_from({**reply, "paid_at": now})

    def keyed_pay(self, sale_id: str, claim: KeyClaim) -> Any:
        """`pay` and the claim of `claim`'s key in one call: the function's reply (see
        keyed_scan), or None when nothing was claimed nor written (a NUL character; a counter
        that refused, which rolled the claim back): the caller claims and pays its own way."""
        values = self._keyed_pay_values(sale_id, claim)
        if values is None:
            return None
        try:
            with self._lines.using() as line:
                return _call(line, KEYED_PAY, values)
        except _NotTaken:
            return None

    async def keyed_pay_on(self, loop: LoopConnections, sale_id: str, claim: KeyClaim) -> Any:
        """`keyed_pay` on an event loop's connections."""
        values = self._keyed_pay_values(sale_id, claim)
        if values is None:
            return None
        try:
            return await _call_on(loop, KEYED_PAY, values)
        except _NotTaken:
            return None

    def _keyed_pay_values(self, sale_id: str, claim: KeyClaim) -> tuple[Any, ...] | None:
        if "\x00" in sale_id:
            return None
        station = self.station
        now = station.clock()
        return (*claim.values(), sale_id.strip(), _utc(now), station.today(now),
                station.source, ZERO_REASON)


@dataclass(frozen=True)
class _Asked:
    """A dry run's statement values, and the customer's code and the day it was asked for."""

    values: tuple[Any, ...]
    customer: str | None
    today: date


def _checked(reply: Any, asked: _Asked, text: str, mode: str, lines: Sequence[Line],
             shipping: Decimal) -> CheckedCode:
    """The dry run's answer from CHECK's reply, or its refusal raised (as dry_run.check)."""
    if asked.customer is not None and reply["customer"] is None:
        raise sales.unknown_customer(asked.customer)
    checks.check_mode(checks.Scene(mode, reply["customer"], asked.today))
    fmt = reply["fmt"]
    checks.check_format(text, checks.switches_of([(SETTING_FORMAT, fmt)] if fmt else []))
    if not reply["known"]:
        raise rules.refused("unknown", text)
    refusal = reply["refusal"]
    if refusal is not None:
        raise rules.refused(refusal["rule"], text, detail=refusal.get("state"))
    terms = _row(reply["terms"])
    given = reply["given"]
    if given is None:  # a discount only Python works out (item names not ASCII)
        given = stacked([checks.terms_of(terms)], lines, shipping)[-1]
    return dry_run.checked_code(terms, Decimal(given))


@dataclass(frozen=True)
class KeyClaim:
    """An Idempotency-Key to claim in the call of a scan or payment, and the status its answer
    is kept with when the work is done (connector/serve/idempotency.py)."""

    api_key_id: int
    key: str
    fingerprint: str
    created_at: datetime  # UTC
    status: int

    def values(self) -> tuple[Any, ...]:
        return (self.api_key_id, self.key, self.fingerprint, _utc(self.created_at), self.status)


def held_from(reply: dict[str, Any]) -> HeldCode:
    """The code a scan held, from promosync_scan's reply and "held_until" (its datetime, or
    its text as promosync_keyed_scan keeps it: UTC)."""
    given = Decimal(reply["discount"])
    return sales.held_code(_row(dict(reply["held"])), state="held", discount=given, auto=False,
                           until=_moment(reply["held_until"]))


def payment_from(reply: dict[str, Any]) -> Payment:
    """The payment, from promosync_pay's reply and "paid_at" (as held_from's "held_until")."""
    outcomes = tuple(
        CodeOutcome(code, "redeemed", Decimal(given))
        if Decimal(given) > 0
        else CodeOutcome(code, "not used", ZERO, ZERO_REASON)
        for code, given in zip(reply["codes"], reply["given"], strict=True)
    )
    sale = reply["sale"]
    return Payment(sale["id"], sale["customer_code"], Decimal(reply["total"]), outcomes,
                   _moment(reply["paid_at"]))


def _moment(value: datetime | str) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


class _NotTaken(Exception):
    """promosync_pay could not take a counter: the first such code, as the function says."""

    def __init__(self, lost: dict[str, Any]) -> None:
        super().__init__(f"code {lost['id']}")
        self.lost = lost


def _call(line: OwnConnection, statement: PreparedCall, values: Sequence[Any]) -> Any:
    """One function call on this thread's own connection, its own transaction: the
    function's JSON reply as Python values."""
    try:
        return line.call(statement, values)
    except (psycopg.OperationalError, psycopg.InterfaceError):
        raise  # ThreadConnections.using: the connection is lost
    except psycopg.Error as exc:
        raise _refusal(exc) from None


async def _call_on(loop: LoopConnections, statement: PreparedCall, values: Sequence[Any]) -> Any:
    """`_call` on an event loop's connections (a lost one is StoreOffline already)."""
    try:
        return await loop.call(statement, values)
    except psycopg.Error as exc:
        raise _refusal(exc) from None


def _refusal(exc: psycopg.Error) -> Exception:
    """What a database error in a call means: a counter not taken, or the store refused."""
    if exc.sqlstate == NOT_TAKEN:
        return _NotTaken(json.loads(str(exc.diag.message_detail)))
    first = str(exc).strip().splitlines()
    return StoreError(f"the store refused: {first[0] if first else exc.sqlstate}")


def _utc(moment: datetime) -> datetime:
    """As the store keeps timestamps: UTC without a zone (schema.UTCDateTime)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _row(data: dict[str, Any]) -> Any:
    """A reply's object with attribute access, as the Python path's rows have."""
    for key in _DATES:
        if isinstance(data.get(key), str):
            data[key] = date.fromisoformat(data[key])
    return SimpleNamespace(**data)
