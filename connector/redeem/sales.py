"""Transactions in the store: loading one, its codes, lazy hold expiry, and the view of it.

A transaction's codes are rows of `sale_codes`. Those "on" the transaction are in state held or
expired (before payment) and committed or unused (after); released ones are history only.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, Row

from connector import history
from connector.catalog import customer_code
from connector.errors import InputError
from connector.models import EventKind
from connector.redeem.checks import _JOINED, CODE_COLUMNS, SWITCH_COLUMNS, terms_of
from connector.redeem.discount import ZERO, Line, money, stacked
from connector.redeem.results import HeldCode, Sale
from connector.store import schema as s
from connector.store.statements import Statement, Step, batch
from connector.text import shown

ON_SALE = ("held", "expired", "committed", "unused")
PENDING = ("held", "expired")

_h = s.sale_codes.c
HOLDS = (
    select(
        *CODE_COLUMNS,
        _h.id.label("hold_id"),
        _h.state.label("hold_state"),
        _h.auto,
        _h.expires_at.label("hold_until"),
        _h.discount.label("hold_discount"),
    )
    .select_from(s.sale_codes.join(_JOINED, s.codes.c.id == _h.code_id))
    .where(_h.sale_id == bindparam("sale_id"), _h.state != "released")
    .order_by(_h.id)
)
# The transaction with its customer's code and the redemption switches; locked (PostgreSQL)
# by the transactions that change it, so that two calls on one transaction take turns.
SALE = (
    select(s.sales, s.customers.c.code.label("customer_code"), *SWITCH_COLUMNS)
    .select_from(s.sales.outerjoin(s.customers, s.customers.c.id == s.sales.c.customer_id))
    .where(s.sales.c.id == bindparam("sale_id"))
)
SALE_FOR_UPDATE = Statement(SALE.with_for_update(of=s.sales))
FAST_HOLDS = Statement(HOLDS)
FAST_SALE = Statement(SALE)
INSERT_SALE = Statement(s.sales.insert().values({c: bindparam("v_" + c.name) for c in s.sales.c}))
INSERT_HOLD = Statement(
    s.sale_codes.insert().values(
        {c: bindparam("v_" + c.name) for c in s.sale_codes.c if c.name not in ("id", "discount")}
    )
)
SET_HOLD = Statement(
    s.sale_codes.update()
    .where(_h.id == bindparam("hold_id"))
    .values(state=bindparam("new_state"), discount=bindparam("new_discount"))
)
PAY_SALE = Statement(
    s.sales.update()
    .where(s.sales.c.id == bindparam("sale_id"))
    .values(state="paid", paid_at=bindparam("at"), discount=bindparam("total"))
)


def new_sale_id() -> str:
    return "TXN-" + secrets.token_hex(6).upper()


def read_sale(conn: Connection, sale_id: str, *more: Step) -> tuple[Any, ...]:
    """The open transaction `sale_id` (locked), its codes, and the results of `more`, read
    together (one round trip on PostgreSQL). InputError when it is unknown or not open."""
    key = {"sale_id": sale_id.strip()}
    sale, *rest = batch(conn, [(SALE_FOR_UPDATE, key, "first"), (FAST_HOLDS, key, "all"), *more])
    if sale is None:
        raise InputError(f"unknown transaction {shown(sale_id)}")
    require_open(sale)
    return (sale, *rest)


def load_sale(conn: Connection, sale_id: str, *, lock: bool = True) -> Any:
    row = (SALE_FOR_UPDATE if lock else FAST_SALE).first(conn, {"sale_id": sale_id.strip()})
    if row is None:
        raise InputError(f"unknown transaction {shown(sale_id)}")
    return row


def require_open(sale: Row[Any]) -> None:
    if sale.state == "paid":
        raise InputError(f"transaction {sale.id} is already paid; nothing was changed")
    if sale.state == "cancelled":
        raise InputError(f"transaction {sale.id} was cancelled; nothing was changed")


def holds_of(conn: Connection, sale_id: str) -> list[Row[Any]]:
    return FAST_HOLDS.all(conn, {"sale_id": sale_id})


def customer_id_of(conn: Connection, text: str) -> int:
    code = customer_code(text)
    cid = conn.scalar(select(s.customers.c.id).where(s.customers.c.code == code))
    if cid is None:
        raise unknown_customer(code)
    return int(cid)


def unknown_customer(code: str) -> InputError:
    return InputError(f"unknown customer {shown(code)}")


def release(
    conn: Connection,
    sale: Row[Any],
    holds: Sequence[Row[Any]],
    state: str,
    why: str,
    *,
    at: datetime,
    source: str,
) -> list[str]:
    """Take `holds` off the transaction (state released or expired), each with a history line."""
    if not holds:
        return []
    conn.execute(
        s.sale_codes.update().where(_h.id.in_([h.hold_id for h in holds])).values(state=state)
    )
    for hold in holds:
        note(conn, sale, hold.id, EventKind.RELEASED, at=at, source=source, detail=why)
    return [h.code for h in holds]


def note(
    conn: Connection,
    sale: Any,
    code_id: int,
    kind: EventKind,
    *,
    at: datetime,
    source: str,
    detail: str | None = None,
    defer: bool = False,
) -> None:
    """A history line of a code on the transaction `sale` (for its id and customer)."""
    history.record(
        conn,
        code_id,
        kind,
        at=at,
        sale_id=sale.id,
        customer_id=sale.customer_id,
        source=source,
        detail=detail,
        defer=defer,
    )


def expire_holds(
    conn: Connection, sale: Row[Any], holds: list[Row[Any]], *, now: datetime, source: str
) -> list[Row[Any]]:
    """Release the transaction's holds whose time ran out; returns its holds as they now are."""
    stale = [h for h in holds if h.hold_state == "held" and h.hold_until < now]
    if not stale:
        return holds
    release(conn, sale, stale, "expired", "hold expired", at=now, source=source)
    return holds_of(conn, sale.id)


def lines_of(sale: Row[Any]) -> list[Line]:
    return [Line.from_json(d) for d in sale.lines or ()]


def discounts(sale: Row[Any], holds: Sequence[Row[Any]]) -> list[Decimal]:
    """Each pending code's discount on the current cart, stacked in scan order (R15, R16)."""
    return stacked((terms_of(h) for h in holds), lines_of(sale), Decimal(sale.shipping))


def held_code(
    row: Row[Any], *, state: str, discount: Decimal, auto: bool, until: datetime
) -> HeldCode:
    return HeldCode(
        code=row.code,
        promotion=row.promotion,
        state=state,
        discount=money(discount),
        auto=auto,
        override=None if row.amount is None else Decimal(row.amount),
        expires_on=row.expires_on if row.expires_on is not None else row.g_end,
        held_until=until,
    )


def view(conn: Connection, sale: Row[Any], *, now: datetime) -> Sale:
    holds = holds_of(conn, sale.id)
    pending = [h for h in holds if h.hold_state in PENDING]
    live = dict(zip([h.hold_id for h in pending], discounts(sale, pending), strict=True))
    codes = []
    for h in holds:
        state = "expired" if h.hold_state == "held" and h.hold_until < now else h.hold_state
        given = live.get(h.hold_id, Decimal(h.hold_discount or 0))
        codes.append(
            held_code(h, state=state, discount=given, auto=bool(h.auto), until=h.hold_until)
        )
    total = sale.discount if sale.discount is not None else sum((c.discount for c in codes), ZERO)
    return _sale(sale._asdict(), sale.customer_code, tuple(codes), Decimal(total))


def fresh_view(row: dict[str, Any]) -> Sale:
    """The view of a transaction just opened with no customer (no query needed)."""
    return _sale(row, None, (), ZERO)


def _sale(row: Any, customer: str | None, codes: tuple[HeldCode, ...], total: Decimal) -> Sale:
    lines = tuple(Line.from_json(d) for d in row["lines"] or ())
    return Sale(
        id=row["id"],
        mode=row["mode"],
        state=row["state"],
        customer=customer,
        lines=lines,
        shipping=Decimal(row["shipping"]),
        subtotal=money(sum((ln.amount for ln in lines), ZERO)),
        discount=money(total),
        codes=codes,
        opened_at=row["opened_at"],
        paid_at=row.get("paid_at"),
        cancelled_at=row.get("cancelled_at"),
    )
