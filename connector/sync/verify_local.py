"""The store side of `sync verify`: a chunk's codes to compare, and a fresh look at candidates.

A chunk's codes are read once, as a dict code -> NetSuite id (None: not pushed yet) of every
code NetSuite should hold (active ones, and any other that was pushed), through the driver's
cursor: half a million rows become half a million dict entries, not ORM rows. Codes that are
not active are few and kept apart with their state. Read only; nothing here writes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from connector.models import EventKind
from connector.store import schema as s


@dataclass
class ChunkCodes:
    ids: dict[str, str | None]  # code -> NetSuite id, for the codes NetSuite should hold
    states: dict[str, str]  # code -> state, for those of them that are not active


def _mark(conn: Connection) -> str:
    return "?" if conn.dialect.name == "sqlite" else "%s"


def chunk_codes(conn: Connection, promotion_id: int, chunk: int) -> ChunkCodes:
    m = _mark(conn)
    where = f"WHERE promotion_id = {m} AND netsuite_chunk = {m}"
    cursor: Any = conn.connection.cursor()
    try:
        cursor.execute(f"SELECT code, netsuite_id FROM codes {where} AND (state = 'active' OR "
                       "netsuite_id IS NOT NULL)", (promotion_id, chunk))
        ids = dict(cursor.fetchall())  # pairs straight into a dict: no Python loop per row
        cursor.execute(f"SELECT code, state FROM codes {where} AND state <> 'active' AND "
                       "netsuite_id IS NOT NULL", (promotion_id, chunk))
        states = dict(cursor.fetchall())
    finally:
        cursor.close()
    return ChunkCodes(ids, states)


def unplaced_codes(conn: Connection, promotion_id: int) -> int:
    """Active codes not yet given a chunk (made after the last run): none is in NetSuite."""
    c = s.codes
    return int(conn.scalar(select(func.count()).where(
        c.c.promotion_id == promotion_id, c.c.netsuite_chunk.is_(None),
        c.c.state == "active")) or 0)


def redeemed_per_chunk(conn: Connection, promotion_id: int) -> dict[int, int]:
    c = s.codes
    return {int(k): int(n) for k, n in conn.execute(
        select(c.c.netsuite_chunk, func.count()).where(
            c.c.promotion_id == promotion_id, c.c.state == "redeemed",
            c.c.netsuite_chunk.is_not(None)).group_by(c.c.netsuite_chunk))}


@dataclass(frozen=True)
class Fresh:
    """A code as the store holds it now (after NetSuite was read)."""

    promotion_id: int
    chunk: int | None
    netsuite_id: str | None
    state: str
    redeemed_by: str | None = None  # source of its last redemption event: local | netsuite
    pushed: bool = False  # that event, if local, was pushed to NetSuite


def fresh(conn: Connection, codes: Iterable[str]) -> dict[str, Fresh]:
    """The store's current view of `codes` (upper-case), with their last redemption event."""
    c, e = s.codes, s.code_events
    wanted = sorted({code.upper() for code in codes})
    out: dict[str, Fresh] = {}
    for i in range(0, len(wanted), 500):
        part = wanted[i:i + 500]
        events: dict[int, tuple[str, bool]] = {}
        for code_id, source, pushed_at in conn.execute(
                select(e.c.code_id, e.c.source, e.c.pushed_at).join(c, c.c.id == e.c.code_id)
                .where(c.c.code.in_(part), e.c.kind == EventKind.REDEEMED).order_by(e.c.id)):
            events[int(code_id)] = (str(source), pushed_at is not None)
        for r in conn.execute(select(c.c.id, c.c.code, c.c.promotion_id, c.c.netsuite_chunk,
                                     c.c.netsuite_id, c.c.state).where(c.c.code.in_(part))):
            source, pushed = events.get(int(r.id), (None, False))
            out[r.code] = Fresh(int(r.promotion_id), r.netsuite_chunk, r.netsuite_id, r.state,
                                source, pushed)
    return out


def promotion_keys(conn: Connection, names: Collection[str] | None
                   ) -> dict[str, tuple[int, str, bool]]:
    """External key -> (id, name, live and single-use) of the promotions (those named)."""
    p = s.promotions
    query = select(p.c.id, p.c.name, p.c.external_key, p.c.use_type, p.c.deleted_at)
    if names is not None:
        query = query.where(p.c.name.in_(list(names)))
    return {r.external_key: (int(r.id), r.name, r.use_type == "single_use"
                             and r.deleted_at is None) for r in conn.execute(query)}


def sync_running(conn: Connection) -> bool:
    """Whether a sync run holds the lock now (a lease that has not expired)."""
    from connector.store.schema import utcnow
    from connector.sync.state import LOCK_NAME

    t = s.sync_lock
    row = conn.execute(select(t.c.expires_at).where(t.c.name == LOCK_NAME)).first()
    return row is not None and row.expires_at > utcnow()
