"""A code's history (R3): what happened to it, when, on which transaction, for whom, from where.

Every outcome of redemption is an event row: `reserved` (scanned and held), `released` (removed,
customer changed, hold expired, zero discount, transaction cancelled before payment),
`redeemed` (committed at payment; `detail` holds the discount), `refused` (lost at payment: the
reason), `cancelled` (the paid transaction was cancelled; the code stays used, R18). Sync pushes
local `redeemed` events (source "local", pushed_at NULL) and mirrors NetSuite's in (source
"netsuite"). Issuance is the code's batch; `connector.history.code_history` reads it all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy.engine import Connection

from connector.store import schema as s
from connector.store.statements import Statement
from connector.store.transactions import later

RESERVED = "reserved"
RELEASED = "released"
REDEEMED = "redeemed"
REFUSED = "refused"
CANCELLED = "cancelled"

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
    kind: str,
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
        "kind": kind,
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
