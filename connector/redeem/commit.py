"""Taking codes at payment (R14, R2, R3): one conditional UPDATE per counter, row counts decide.

A code is taken with ONE statement that both checks and counts: it matches only while the code
is active, under its total limit and inside its own dates, so of any number of concurrent
payments exactly `max_uses - use_count` see a row count of 1. Per-customer and group limits
are counters taken the same way in the same transaction. On SQLite the transaction holds the
write lock (BEGIN IMMEDIATE); on PostgreSQL (READ COMMITTED) an UPDATE that waited for a
concurrent commit re-reads the row and re-checks its WHERE, so the loser matches nothing.
If any counter refuses, the caller rolls the whole payment back.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import bindparam, case, func, or_, select, update
from sqlalchemy.engine import Connection, Row

from connector.catalog import group_row
from connector.errors import InputError
from connector.redeem._db import insert_or_skip, online, write
from connector.redeem._fast import Fast
from connector.store import Store
from connector.store import schema as s

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
TAKE_CODE_CUSTOMER = (
    update(s.code_customer_uses)
    .where(
        _u.code_id == bindparam("code_id"),
        _u.customer_id == bindparam("customer_id"),
        _u.uses < bindparam("limit"),
    )
    .values(uses=_u.uses + 1)
)
_g = s.group_limits.c
TAKE_GROUP = (
    update(s.group_limits)
    .where(
        _g.group_id == bindparam("group_id"), or_(_g.max_uses.is_(None), _g.use_count < _g.max_uses)
    )
    .values(use_count=_g.use_count + 1)
)
_gu = s.group_customer_uses.c
TAKE_GROUP_CUSTOMER = (
    update(s.group_customer_uses)
    .where(
        _gu.group_id == bindparam("group_id"),
        _gu.customer_id == bindparam("customer_id"),
        _gu.uses < bindparam("limit"),
    )
    .values(uses=_gu.uses + 1)
)

FAST_TAKE_CODE = Fast(TAKE_CODE)
FAST_TAKE_CODE_CUSTOMER = Fast(TAKE_CODE_CUSTOMER)
FAST_TAKE_GROUP = Fast(TAKE_GROUP)
FAST_TAKE_GROUP_CUSTOMER = Fast(TAKE_GROUP_CUSTOMER)


def take(conn: Connection, info: Row[Any], customer_id: int | None, today: date) -> str | None:
    """Count one use of the code in `info`; None when taken, else why it could not be."""
    if FAST_TAKE_CODE.run(conn, {"code_id": info.id, "today": today}) != 1:
        return "used up, expired or voided meanwhile"
    if info.max_uses_per_customer is not None and customer_id is not None:
        insert_or_skip(
            conn,
            s.code_customer_uses,
            {"code_id": info.id, "customer_id": customer_id, "uses": 0},
            ["code_id", "customer_id"],
        )
        params = {
            "code_id": info.id,
            "customer_id": customer_id,
            "limit": info.max_uses_per_customer,
        }
        if FAST_TAKE_CODE_CUSTOMER.run(conn, params) != 1:
            return "the per-customer limit is reached"
    if info.g_count is not None:  # the group has a limits row: count every use of its codes
        if FAST_TAKE_GROUP.run(conn, {"group_id": info.group_id}) != 1:
            return "the group's usage limit is reached"
        if info.g_max_pc is not None and customer_id is not None:
            insert_or_skip(
                conn,
                s.group_customer_uses,
                {"group_id": info.group_id, "customer_id": customer_id, "uses": 0},
                ["group_id", "customer_id"],
            )
            params = {"group_id": info.group_id, "customer_id": customer_id, "limit": info.g_max_pc}
            if FAST_TAKE_GROUP_CUSTOMER.run(conn, params) != 1:
                return "the group's per-customer limit is reached"
    return None


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
    with online(), write(store) as conn:
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
                s.code_events.c.kind == "redeemed",
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
