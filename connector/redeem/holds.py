"""Putting codes on a transaction in Python: a scanned code (R13's checks, then a hold) and a
customer's bound codes (auto-apply, R17).

This is the whole scan on SQLite, and on PostgreSQL whenever a register takes the Python path
or the server functions leave a case to Python (server_functions.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, Row

from connector.errors import RedemptionError
from connector.models import EventKind
from connector.redeem import checks, sales
from connector.redeem.results import HeldCode
from connector.redeem.rules import refused
from connector.redeem.station import Station
from connector.store.statements import Step
from connector.store.transactions import later, online


def scan(station: Station, sale_id: str, text: str) -> HeldCode | RedemptionError:
    """R13: check the normalised code `text` in order and hold it on the transaction; the
    held code with its discount so far, or the refusal (already in the code's history)."""
    with online(), station.store.writer.transaction() as conn:
        return _scan(conn, station, sale_id, text)


def _scan(
    conn: Connection, station: Station, sale_id: str, text: str
) -> HeldCode | RedemptionError:
    now = station.clock()
    code: Step = (checks.FAST_BY_CODE, {"code": text}, "first")
    sale, holds, info = sales.read_sale(conn, sale_id, code)
    holds = sales.expire_holds(conn, sale, holds, now=now, source=station.source)
    switches = checks.switches_from(sale)
    scene = checks.Scene(sale.mode, sale.customer_id, station.today(now))
    checks.check_mode(scene)
    checks.check_format(text, switches)
    if info is None:
        raise refused("unknown", text)
    try:
        checks.check_promotion(info, switches)
        if any(h.id == info.id and h.hold_state in sales.PENDING for h in holds):
            raise refused("scanned", text)
        checks.check_usable(conn, info, scene)
    except RedemptionError as exc:
        detail = f"scan: {exc.message}"
        sales.note(conn, sale, info.id, EventKind.REFUSED, at=now, source=station.source,
                   detail=detail, defer=True)
        return exc
    until = hold(conn, station, sale, info, now, auto=False)
    pending = [h for h in holds if h.hold_state in sales.PENDING]
    given = sales.discounts(sale, [*pending, info])[-1]
    return sales.held_code(info, state="held", discount=given, auto=False, until=until)


def hold(
    conn: Connection,
    station: Station,
    sale: Row[Any],
    info: Row[Any],
    now: datetime,
    *,
    auto: bool,
) -> datetime:
    """Hold the code `info` on the transaction until now + the hold time; that moment."""
    until = now + station.hold
    row = {
        "sale_id": sale.id,
        "code_id": info.id,
        "state": "held",
        "auto": auto,
        "held_at": now,
        "expires_at": until,
    }
    params = {"v_" + k: v for k, v in row.items()}
    # A scan's hold is its last write: it goes with the COMMIT (PostgreSQL). Auto-applied
    # holds are read back (the view of the transaction), so they are written at once.
    if auto:
        sales.INSERT_HOLD.run(conn, params)
    else:
        later(conn, sales.INSERT_HOLD, params)
    detail = "auto-applied" if auto else None
    sales.note(conn, sale, info.id, EventKind.RESERVED, at=now, source=station.source,
               detail=detail, defer=not auto)
    return until


def auto_apply(conn: Connection, station: Station, sale: Row[Any], now: datetime) -> list[str]:
    """R17: the customer's valid, unredeemed bound codes join the transaction."""
    switches = checks.switches_from(sale)
    if not switches.auto_apply or sale.customer_id is None or sale.mode != "normal":
        return []
    scene = checks.Scene(sale.mode, sale.customer_id, station.today(now))
    present = {h.id for h in sales.holds_of(conn, sale.id) if h.hold_state in sales.PENDING}
    added = []
    for info in checks.FAST_BY_CUSTOMER.all(conn, {"customer": sale.customer_id}):
        if info.id in present:
            continue
        try:
            checks.check_promotion(info, switches)
            checks.check_usable(conn, info, scene)
        except RedemptionError:
            continue  # not valid now: auto-apply offers only codes that would scan
        hold(conn, station, sale, info, now, auto=True)
        added.append(info.code)
    return added
