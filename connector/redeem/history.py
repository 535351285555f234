"""A code's history (R3): what happened to it, when, on which transaction, for whom, from where.

Every outcome of redemption is an event row: `reserved` (scanned and held), `released` (removed,
customer changed, hold expired, zero discount, transaction cancelled before payment),
`redeemed` (committed at payment; `detail` holds the discount), `refused` (lost at payment: the
reason), `cancelled` (the paid transaction was cancelled; the code stays used, R18). Sync pushes
local `redeemed` events (source "local", pushed_at NULL) and mirrors NetSuite's in (source
"netsuite"). Issuance is the code's batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from connector.codes import normalize
from connector.errors import InputError
from connector.redeem._db import online
from connector.store import Store
from connector.store import schema as s

RESERVED = "reserved"
RELEASED = "released"
REDEEMED = "redeemed"
REFUSED = "refused"
CANCELLED = "cancelled"

_INSERT = s.code_events.insert().values(
    code_id=bindparam("code_id"),
    kind=bindparam("kind"),
    at=bindparam("at"),
    source=bindparam("source"),
    transaction_ref=bindparam("transaction_ref"),
    customer_id=bindparam("customer_id"),
    detail=bindparam("detail"),
)


@dataclass(frozen=True)
class Event:
    """One line of a code's history."""

    at: datetime
    kind: str
    source: str
    transaction: str | None
    customer: str | None
    detail: str | None


def record(
    conn: Connection,
    code_id: int,
    kind: str,
    *,
    at: datetime,
    sale_id: str | None,
    customer_id: int | None,
    source: str,
    detail: str | None = None,
) -> None:
    conn.execute(
        _INSERT,
        {
            "code_id": code_id,
            "kind": kind,
            "at": at,
            "source": source,
            "transaction_ref": sale_id,
            "customer_id": customer_id,
            "detail": detail,
        },
    )


def code_history(store: Store, code: str) -> list[Event]:
    """The code's issue (its batch) and every event after, oldest first."""
    text = normalize(code)
    with online(), store.read() as conn:
        row = conn.execute(
            select(
                s.codes.c.id,
                s.code_batches.c.created_at,
                s.code_batches.c.source,
                s.code_batches.c.method,
            )
            .join(s.code_batches, s.code_batches.c.id == s.codes.c.batch_id)
            .where(s.codes.c.code == text)
        ).first()
        if row is None:
            raise InputError(f"no code {text!r} in the store")
        events = conn.execute(
            select(
                s.code_events.c.at,
                s.code_events.c.kind,
                s.code_events.c.source,
                s.code_events.c.transaction_ref,
                s.customers.c.code.label("customer"),
                s.code_events.c.detail,
            )
            .outerjoin(s.customers, s.customers.c.id == s.code_events.c.customer_id)
            .where(s.code_events.c.code_id == row.id)
            .order_by(s.code_events.c.id)
        ).all()
    issued = Event(row.created_at, "issued", row.source, None, None, row.method)
    return [issued] + [
        Event(e.at, e.kind, e.source, e.transaction_ref, e.customer, e.detail) for e in events
    ]
