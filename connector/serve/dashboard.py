"""What the admin pages show, read from the store (read-only, one short transaction each).

Code counts per promotion: `total` codes; `issued`, handed to someone (bound to a customer, or
given by a coupon list); `used`, redeemed at least once; `left`, still redeemable (active, not
used up, not expired in the store's time zone, R4). Redemptions per day are counted in the
store's time zone: events are grouped by quarter hour in SQL (both engines), and the quarters
are put on their local day here, which is exact for every zone whose offset is a whole number
of quarter hours (all of them, today).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, case, cast, func, select
from sqlalchemy.sql import ColumnElement

from connector import get_promotion
from connector.store import Store
from connector.store import schema as s
from connector.store.schema import utcnow

QUARTER = 900  # seconds
CHART_DAYS = 30
HISTORY_LINES = 20
RUNS = 50
_C, _P, _E, _SC = s.codes.c, s.promotions.c, s.code_events.c, s.sync_chunks.c


@dataclass(frozen=True)
class Counts:
    total: int = 0
    issued: int = 0
    used: int = 0
    left: int = 0
    last_expiry: date | None = None


def _counts(store: Store, today: date, promotion_id: int | None = None) -> dict[int, Counts]:
    given = (select(s.list_assignments.c.code_id.label("code_id"))
             .where(s.list_assignments.c.code_id.is_not(None)).distinct().subquery())
    query = (
        select(
            _C.promotion_id,
            func.count(),
            func.sum(case((_C.customer_id.is_not(None) | given.c.code_id.is_not(None), 1),
                          else_=0)),
            func.sum(case((_C.use_count > 0, 1), else_=0)),
            func.sum(case(((_C.state == "active")
                           & (_C.expires_on.is_(None) | (_C.expires_on >= today)), 1), else_=0)),
            func.max(_C.expires_on),
        )
        .select_from(s.codes.outerjoin(given, given.c.code_id == _C.id))
        .group_by(_C.promotion_id)
    )
    if promotion_id is not None:
        query = query.where(_C.promotion_id == promotion_id)
    with store.read() as conn:
        rows = conn.execute(query).all()
    return {int(r[0]): Counts(int(r[1]), int(r[2] or 0), int(r[3] or 0), int(r[4] or 0), r[5])
            for r in rows}


def _chunks(store: Store, promotion_id: int | None = None) -> dict[int, list[dict[str, Any]]]:
    query = select(_SC.promotion_id, _SC.chunk, _SC.external_id, _SC.netsuite_id, _SC.state,
                   _SC.target, _SC.updated_at).order_by(_SC.promotion_id, _SC.chunk)
    if promotion_id is not None:
        query = query.where(_SC.promotion_id == promotion_id)
    found: dict[int, list[dict[str, Any]]] = {}
    with store.read() as conn:
        for r in conn.execute(query):
            found.setdefault(int(r.promotion_id), []).append({
                "chunk": r.chunk + 1, "external_id": r.external_id, "netsuite_id": r.netsuite_id,
                "state": r.state, "target": r.target, "updated_at": r.updated_at})
    return found


def chunk_state(chunks: list[dict[str, Any]]) -> str:
    """"not in NetSuite", or how many NetSuite records are in which state ("2 active")."""
    if not chunks:
        return "not in NetSuite"
    states: dict[str, int] = {}
    for c in chunks:
        states[str(c["state"])] = states.get(str(c["state"]), 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(states.items()))


def overview(store: Store, zone: ZoneInfo) -> list[dict[str, Any]]:
    """One row per promotion (deleted ones left out)."""
    today = utcnow().astimezone(zone).date()
    counts = _counts(store, today)
    chunks = _chunks(store)
    with store.read() as conn:
        rows = conn.execute(select(_P.id, _P.name, _P.kind, _P.use_type, _P.codes_from,
                                   _P.end_date).where(_P.deleted_at.is_(None))
                            .order_by(_P.name)).all()
    return [_row(r, counts.get(int(r.id), Counts()), chunks.get(int(r.id), [])) for r in rows]


def _row(r: Any, n: Counts, chunks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": r.name, "kind": r.kind, "use_type": r.use_type, "codes_from": r.codes_from,
            "netsuite": [c["external_id"] for c in chunks], "chunk_state": chunk_state(chunks),
            "total": n.total, "issued": n.issued, "used": n.used, "left": n.left,
            "end_date": r.end_date, "last_code_expiry": n.last_expiry}


def promotion(store: Store, name: str, zone: ZoneInfo) -> dict[str, Any]:
    """One promotion: its terms, chunks, counts, redemptions per day and latest history."""
    promo = get_promotion(store, name)  # InputError when there is none
    today = utcnow().astimezone(zone).date()
    counts = _counts(store, today, promo.id).get(promo.id, Counts())
    chunks = _chunks(store, promo.id).get(promo.id, [])
    return {"promotion": promo, "counts": counts, "chunks": chunks,
            "per_day": redemptions_per_day(store, promo.id, zone),
            "history": latest_history(store, promo.id)}


def _quarter(column: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", column) / QUARTER), BigInteger)
    return cast(func.strftime("%s", column), Integer) / QUARTER


def redemptions_per_day(store: Store, promotion_id: int, zone: ZoneInfo,
                        days: int = CHART_DAYS) -> list[tuple[date, int]]:
    """(local day, redemptions) for the last `days` days, today last, zeros included."""
    today = utcnow().astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    bucket = _quarter(_E.at, store.dialect).label("q")
    query = (select(bucket, func.count()).select_from(s.code_events.join(s.codes,
                                                                         _C.id == _E.code_id))
             .where(_C.promotion_id == promotion_id, _E.kind == "redeemed", _E.at >= since)
             .group_by(bucket))
    per_day = {first + timedelta(days=i): 0 for i in range(days)}
    with store.read() as conn:
        for quarter, n in conn.execute(query):
            day = datetime.fromtimestamp(int(quarter) * QUARTER, tz=zone).date()
            if day in per_day:
                per_day[day] += int(n)
    return sorted(per_day.items())


def latest_history(store: Store, promotion_id: int, limit: int = HISTORY_LINES
                   ) -> list[dict[str, Any]]:
    cu = s.customers.c
    query = (select(_E.at, _C.code, _E.kind, _E.source, _E.transaction_ref, cu.code.label("cust"),
                    _E.detail)
             .select_from(s.code_events.join(s.codes, _C.id == _E.code_id)
                          .outerjoin(s.customers, cu.id == _E.customer_id))
             .where(_C.promotion_id == promotion_id).order_by(_E.id.desc()).limit(limit))
    with store.read() as conn:
        return [{"at": r.at, "code": r.code, "kind": r.kind, "source": r.source,
                 "transaction": r.transaction_ref, "customer": r.cust, "detail": r.detail}
                for r in conn.execute(query)]


def sync_runs(store: Store, limit: int = RUNS) -> list[dict[str, Any]]:
    """The run ledger, newest first: outcome, plan counts and errors of each run."""
    r = s.sync_runs.c
    with store.read() as conn:
        rows = conn.execute(select(s.sync_runs).order_by(r.id.desc()).limit(limit)).all()
    return [_run(row) for row in rows]


def _run(row: Any) -> dict[str, Any]:
    report = row.report if isinstance(row.report, dict) else {}
    outcomes = report.get("promotions") or []
    errors = [f"{o.get('promotion')}: {o.get('error')}" for o in outcomes
              if isinstance(o, dict) and o.get("error")]
    plan = report.get("plan") or {}
    return {"id": row.id, "command": row.command, "started_at": row.started_at,
            "finished_at": row.finished_at, "status": row.status,
            "plan": {k: v for k, v in plan.items() if v} if isinstance(plan, dict) else {},
            "errors": errors}
