"""Payment in Python (R14, R16, R18): check every code again and commit them all in one store
transaction.

In one write transaction: the transaction row (locked), its codes with their promotions and
groups, the R13 checks again, each code's discount on the cart, then for each code that gives
something the conditional UPDATEs of commit.py. If any code fails or loses, nothing of the
payment is kept (the transaction stays open with its codes) and `Lost` carries the
NoLongerValid that names the code; `record_lost` then writes a `refused` line to that code's
history. A code whose discount is zero is not used up (R16): it is left unredeemed and its
outcome says why.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection, Row

from connector.errors import NoLongerValid, RedemptionError
from connector.models import EventKind
from connector.redeem import checks, rules, sales
from connector.redeem.commit import take_all
from connector.redeem.discount import ZERO, money
from connector.redeem.results import CodeOutcome, Payment
from connector.redeem.station import Station
from connector.store.transactions import later, online

ZERO_REASON = "discount is zero: nothing in the cart qualifies; the code stays unused"


class Lost(Exception):
    """One code of the payment lost: roll back, then say so (carries what to record)."""

    def __init__(self, error: NoLongerValid, code_id: int, sale: Any) -> None:
        super().__init__(error.message)
        self.error, self.code_id, self.sale = error, code_id, sale


def pay(station: Station, sale_id: str) -> Payment:
    """R14: every code checked again and committed in one store transaction, or `Lost`."""
    with online(), station.store.writer.transaction() as conn:
        return _pay(conn, station, sale_id)


def record_lost(station: Station, lost: Lost) -> None:
    """After the payment was rolled back: the losing code's `refused` history line."""
    with online(), station.store.writer.transaction() as conn:
        detail = f"payment: {lost.error.detail or lost.error.message}"
        sales.note(conn, lost.sale, lost.code_id, EventKind.REFUSED, at=station.clock(),
                   source=station.source, detail=detail)


def _pay(conn: Connection, station: Station, sale_id: str) -> Payment:
    now = station.clock()
    sale, rows = sales.read_sale(conn, sale_id)
    holds = [h for h in rows if h.hold_state in sales.PENDING]
    if holds:
        switches = checks.switches_from(sale)
        scene = checks.Scene(sale.mode, sale.customer_id, station.today(now))
        for hold in holds:
            _recheck(conn, sale, hold, scene, switches, now)
    given = sales.discounts(sale, holds)
    taken = [h for h, g in zip(holds, given, strict=True) if g > 0]
    lost = take_all(conn, taken, sale.customer_id, station.today(now)) if taken else None
    if lost is not None:
        code, key = lost
        raise Lost(rules.limit_reached(key, code.code), code.id, sale)
    outcomes = [
        _record(conn, station, sale, h, g, now) for h, g in zip(holds, given, strict=True)
    ]
    total = money(sum((o.discount for o in outcomes), ZERO))
    later(conn, sales.PAY_SALE, {"sale_id": sale.id, "at": now, "total": str(total)})
    return Payment(sale.id, sale.customer_code, total, tuple(outcomes), now)


def _recheck(
    conn: Connection,
    sale: Row[Any],
    hold: Row[Any],
    scene: checks.Scene,
    switches: checks.Switches,
    now: datetime,
) -> None:
    """The scan's checks once more; any failure now means "no longer valid" (R14)."""
    if hold.hold_state == "expired" or hold.hold_until < now:
        raise Lost(rules.lost("hold_expired", hold.code), hold.id, sale)
    try:
        checks.check_mode(scene)
        checks.check_promotion(hold, switches)
        checks.check_usable(conn, hold, scene)
    except RedemptionError as exc:
        raise Lost(NoLongerValid(hold.code, detail=exc.message), hold.id, sale) from None


def _record(
    conn: Connection,
    station: Station,
    sale: Row[Any],
    hold: Row[Any],
    given: Decimal,
    now: datetime,
) -> CodeOutcome:
    """The hold's new state and the code's history line, for a code taken (or left unused)."""
    used = given > 0
    state = {"hold_id": hold.hold_id, "new_state": "committed" if used else "unused"}
    later(conn, sales.SET_HOLD, state | {"new_discount": str(given) if used else "0"})
    kind = EventKind.REDEEMED if used else EventKind.RELEASED
    detail = f"discount {given}" if used else ZERO_REASON
    sales.note(conn, sale, hold.id, kind, at=now, source=station.source, detail=detail,
               defer=True)
    if used:
        return CodeOutcome(hold.code, "redeemed", given)
    return CodeOutcome(hold.code, "not used", ZERO, ZERO_REASON)
