"""A code's history (R3): who issued it, and every event after (R14, R18, R29); writing one
event (`record`) and reading them all (`code_history`).

Issuance is the code's batch (one row per batch, see store/schema.py); later events are rows of
code_events, of the kinds `models.EventKind` lists: `reserved` (scanned and held), `released`
(removed, customer changed, hold expired, zero discount, transaction cancelled before payment),
`redeemed` (committed at payment; `detail` holds the discount), `refused` (a scan or payment
refused it: the reason), `cancelled` (the paid transaction was cancelled; the code stays used,
R18), `assigned` (handed out by a coupon list). Sync pushes local `redeemed` events (source
"local", pushed_at NULL) and mirrors NetSuite's in (source "netsuite"). Together they answer
"who used this, when, where".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from connector.codes import normalize
from connector.errors import InputError
from connector.models import Code, CodeEvent, EventKind
from connector.store import Store
from connector.store import schema as s
from connector.store.statements import Statement
from connector.store.transactions import later
from connector.text import shown

_INSERT = Statement(
    s.code_events.insert().values(
        code_id=bindparam("code_id"),
        kind=bindparam("kind"),
        at=bindparam("at"),
        source=bindparam("source"),
        transaction_ref=bindparam("transaction_ref"),
        customer_id=bindparam("customer_id"),
        detail=bindparam("detail"),
    )
)


def record(
    conn: Connection,
    code_id: int,
    kind: EventKind,
    *,
    at: datetime,
    sale_id: str | None,
    customer_id: int | None,
    source: str,
    detail: str | None = None,
    defer: bool = False,
) -> None:
    """Write one event; with `defer`, on PostgreSQL together with the transaction's COMMIT."""
    params = {
        "code_id": code_id,
        "kind": kind.value,
        "at": at,
        "source": source,
        "transaction_ref": sale_id,
        "customer_id": customer_id,
        "detail": detail,
    }
    if defer:
        later(conn, _INSERT, params)
    else:
        _INSERT.run(conn, params)


def code_history(store: Store, code: str) -> tuple[Code, list[CodeEvent]]:
    """The code (case-insensitive, spaces ignored) and its history, oldest first."""
    text = normalize(code)
    c, p, g, b, cu = s.codes, s.promotions, s.coupon_groups, s.code_batches, s.customers
    query = (
        select(
            c,
            p.c.name.label("promotion_name"),
            g.c.name.label("group_name"),
            b.c.created_at.label("issued_at"),
            b.c.source.label("issued_by"),
            b.c.method.label("issued_method"),
            cu.c.code.label("customer_code"),
        )
        .join(p, p.c.id == c.c.promotion_id)
        .join(b, b.c.id == c.c.batch_id)
        .outerjoin(g, g.c.id == c.c.group_id)
        .outerjoin(cu, cu.c.id == c.c.customer_id)
        .where(c.c.code == text)
    )
    with store.read() as conn:
        row = conn.execute(query).first()
        if row is None:
            raise InputError(f"no code {shown(text)} in the store")
        events = conn.execute(
            select(s.code_events, s.customers.c.code.label("customer_code"))
            .outerjoin(s.customers, s.customers.c.id == s.code_events.c.customer_id)
            .where(s.code_events.c.code_id == row.id)
            .order_by(s.code_events.c.id)
        ).all()
    model = Code(
        id=row.id,
        code=row.code,
        promotion=row.promotion_name,
        group=row.group_name,
        customer=row.customer_code,
        amount=row.amount,
        starts_on=row.starts_on,
        expires_on=row.expires_on,
        max_uses=row.max_uses,
        max_uses_per_customer=row.max_uses_per_customer,
        use_count=row.use_count,
        state=row.state,
        issued_at=row.issued_at,
        issued_by=row.issued_by,
    )
    issued = CodeEvent(
        at=row.issued_at, kind=EventKind.ISSUED, source=row.issued_by, detail=row.issued_method
    )
    return model, [issued] + [
        CodeEvent(
            at=e.at,
            kind=e.kind,
            source=e.source,
            transaction=e.transaction_ref,
            customer=e.customer_code,
            detail=e.detail,
        )
        for e in events
    ]
