"""A code's record and history (R3): who issued it, and every event after (R14, R18, R29).

Issuance is the code's batch (one row per batch, see store/schema.py); later events are rows of
code_events. Together they answer "who used this, when, where".
"""

from __future__ import annotations

from sqlalchemy import select

from connector.codes import normalize
from connector.errors import InputError
from connector.models import Code, CodeEvent, EventKind
from connector.store import Store
from connector.store import schema as s
from connector.text import shown


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
