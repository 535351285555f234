"""Taking codes at payment (R14, R2, R3): one conditional statement per counter, row counts decide.

A code is taken with ONE statement that both checks and counts: it matches only while the code
is active, under its total limit and inside its own dates, so of any number of concurrent
payments exactly `max_uses - use_count` see a row count of 1. Per-customer and group limits
are counters taken the same way in the same transaction (a per-customer counter row is
inserted by its first use: INSERT ... ON CONFLICT DO UPDATE ... WHERE uses < limit). On SQLite
the transaction holds the write lock (BEGIN IMMEDIATE); on PostgreSQL (READ COMMITTED) a
statement that waited for a concurrent commit re-reads the row and re-checks its condition, so
the loser matches nothing. All the counters of a payment go in one batch (one round trip on
PostgreSQL), in a fixed order of tables and keys, so two payments never wait for each other
crosswise. If any counter refuses, the caller rolls the whole payment back.

On PostgreSQL, promosync_pay in connector/store/redeem_functions.sql takes the same counters
in the same order (`counters`): a change here is a change there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, bindparam, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from connector.catalog import group_row
from connector.errors import InputError
from connector.models import EventKind
from connector.store import Store
from connector.store import schema as s
from connector.store.statements import Statement, Step, batch
from connector.store.transactions import online

_c = s.codes.c
TAKE_CODE = (
    update(s.codes)
    .where(
        _c.id == bindparam("code_id"),
        _c.state == "active",
        or_(_c.max_uses.is_(None), _c.use_count < _c.max_uses),
        or_(_c.expires_on.is_(None), _c.expires_on >= bindparam("today")),
        or_(_c.starts_on.is_(None), _c.starts_on <= bindparam("today")),
    )
    .values(
        use_count=_c.use_count + 1,
        state=case(
            (_c.max_uses.is_not(None) & (_c.use_count + 1 >= _c.max_uses), "redeemed"),
            else_=_c.state,
        ),
    )
)
_u = s.code_customer_uses.c
_g = s.group_limits.c
_gu = s.group_customer_uses.c


def _count_up(table: Table, keys: tuple[str, str]) -> dict[str, Statement]:
    """Count one use in a per-customer counter row: the first use inserts it (uses = 1), later
    ones add one while under the limit. One statement, so its row count decides (0: refused).
    """
    values: dict[str, Any] = {k: bindparam(k) for k in keys}
    values["uses"] = 1
    under = table.c.uses < bindparam("limit")
    pg = postgresql.insert(table).values(values)
    lite = sqlite.insert(table).values(values)
    return {
        "postgresql": Statement(
            pg.on_conflict_do_update(
                index_elements=list(keys), set_={"uses": table.c.uses + 1}, where=under
            )
        ),
        "sqlite": Statement(
            lite.on_conflict_do_update(
                index_elements=list(keys), set_={"uses": table.c.uses + 1}, where=under
            )
        ),
    }


TAKE_CODE_CUSTOMER = _count_up(s.code_customer_uses, ("code_id", "customer_id"))
TAKE_GROUP = (
    update(s.group_limits)
    .where(
        _g.group_id == bindparam("group_id"), or_(_g.max_uses.is_(None), _g.use_count < _g.max_uses)
    )
    .values(use_count=_g.use_count + 1)
)
TAKE_GROUP_CUSTOMER = _count_up(s.group_customer_uses, ("group_id", "customer_id"))

FAST_TAKE_CODE = Statement(TAKE_CODE)
FAST_TAKE_GROUP = Statement(TAKE_GROUP)

# Counters are taken in this order of tables (and by key within one), whatever the order of
# the codes on the transaction: two payments never wait for each other's rows crosswise.
# promosync_pay numbers them the same way; COUNTER_RULES[kind] is the refusal (rules.py) of a
# counter of that kind that could not be taken.
_CODE, _CODE_CUSTOMER, _GROUP, _GROUP_CUSTOMER = range(4)
COUNTER_RULES = ("taken", "customer_limit", "group_limit", "group_customer_limit")


@dataclass(frozen=True)
class Counter:
    """One counter a payment takes a use of: `kind` (_CODE ...), the code's or group's id, the
    place of its code in the payment's list, and the per-customer limit it is held to."""

    kind: int
    key: int
    n: int
    limit: int | None = None


def counters(codes: Sequence[Any], customer_id: int | None) -> list[Counter]:
    """Every counter one use of each code in `codes` takes (its own, and any limits), in the
    order they are taken: by table, then by key, then by the code's place."""
    found: list[Counter] = []
    for n, info in enumerate(codes):
        found.append(Counter(_CODE, info.id, n))
        if info.max_uses_per_customer is not None and customer_id is not None:
            found.append(Counter(_CODE_CUSTOMER, info.id, n, info.max_uses_per_customer))
        if info.g_count is not None:  # the group has a limits row: count every use of its codes
            found.append(Counter(_GROUP, info.group_id, n))
            if info.g_max_pc is not None and customer_id is not None:
                found.append(Counter(_GROUP_CUSTOMER, info.group_id, n, info.g_max_pc))
    found.sort(key=lambda c: (c.kind, c.key, c.n))
    return found


def first_lost(codes: Sequence[Any], refused: Sequence[Counter]) -> tuple[Any, str] | None:
    """Of the counters that refused, the first code (in the order given) and its refusal's key
    (COUNTER_RULES); or None."""
    if not refused:
        return None
    n, kind = min((c.n, c.kind) for c in refused)
    return codes[n], COUNTER_RULES[kind]


def take_all(
    conn: Connection, codes: Sequence[Row[Any]], customer_id: int | None, today: date
) -> tuple[Row[Any], str] | None:
    """Count one use of each code in `codes` (rows with checks.CODE_COLUMNS).

    None when every counter took its use; else the first code (in the order given) that could
    not be taken, and the key of its refusal. Then the caller must roll the transaction back.
    """
    steps = counters(codes, customer_id)
    name = conn.dialect.name
    counts = batch(conn, [_step(c, name, customer_id, today) for c in steps])
    return first_lost(codes, [c for c, count in zip(steps, counts, strict=True) if count != 1])


def _step(c: Counter, dialect: str, customer_id: int | None, today: date) -> Step:
    if c.kind == _CODE:
        return FAST_TAKE_CODE, {"code_id": c.key, "today": today}, "run"
    if c.kind == _GROUP:
        return FAST_TAKE_GROUP, {"group_id": c.key}, "run"
    if c.kind == _CODE_CUSTOMER:
        params = {"code_id": c.key, "customer_id": customer_id, "limit": c.limit}
        return TAKE_CODE_CUSTOMER[dialect], params, "run"
    params = {"group_id": c.key, "customer_id": customer_id, "limit": c.limit}
    return TAKE_GROUP_CUSTOMER[dialect], params, "run"


def set_group_limits(
    store: Store,
    group: str,
    *,
    max_uses: int | None = None,
    max_uses_per_customer: int | None = None,
) -> dict[str, Any]:
    """Usage limits of a whole coupon group (R2): uses of all its codes, in total and per customer.

    Uses made before the limits were set count: the counters start from the codes' history.
    """
    for value, what in (
        (max_uses, "the group usage limit"),
        (max_uses_per_customer, "the per-customer limit"),
    ):
        if value is not None and value < 1:
            raise InputError(f"{what} must be at least 1")
    with online(), store.writer.transaction() as conn:
        gid = group_row(conn, group).id
        used = conn.scalar(
            select(func.coalesce(func.sum(_c.use_count), 0)).where(_c.group_id == gid)
        )
        conn.execute(s.group_limits.delete().where(_g.group_id == gid))
        conn.execute(
            s.group_limits.insert().values(
                group_id=gid,
                max_uses=max_uses,
                max_uses_per_customer=max_uses_per_customer,
                use_count=int(used or 0),
            )
        )
        conn.execute(s.group_customer_uses.delete().where(_gu.group_id == gid))
        per_customer = conn.execute(
            select(s.code_events.c.customer_id, func.count())
            .join(s.codes, s.codes.c.id == s.code_events.c.code_id)
            .where(
                _c.group_id == gid,
                s.code_events.c.kind == EventKind.REDEEMED.value,
                s.code_events.c.customer_id.is_not(None),
            )
            .group_by(s.code_events.c.customer_id)
        ).all()
        if per_customer:
            conn.execute(
                s.group_customer_uses.insert(),
                [{"group_id": gid, "customer_id": cid, "uses": n} for cid, n in per_customer],
            )
    return {
        "group": group,
        "max_uses": max_uses,
        "max_uses_per_customer": max_uses_per_customer,
        "use_count": int(used or 0),
    }
