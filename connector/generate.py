"""Generating codes into the store (R5-R10), all or nothing.

One batch is one transaction: a batch row, then the codes in slices of SLICE rows through the
store's bulk path, `ON CONFLICT DO NOTHING` on the code. A slice whose codes collide with codes
already in the store (R8: never repeat one) inserts fewer rows; the shortfall is drawn again
until the count is met. Any error rolls the whole batch back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from connector.catalog import customer_code, decimal_or_error, group_row, promotion_row
from connector.codes import CodeFormat, check_count, draw, paused_gc, su_format
from connector.errors import MSG_NO_CODES_GENERATED, InputError, SingleUseDisabled
from connector.models import UseType
from connector.store import Store
from connector.store import schema as s
from connector.store.bulk import insert_codes
from connector.store.engine import ids_by_key, inserted_id
from connector.store.schema import utcnow

SLICE = 50_000
Progress = Callable[[int], None]  # called with the number of codes just stored

SETTING_SINGLE_USE = "single_use_codes"  # R19: "on" (default) or "off"
SETTING_AUTO_APPLY = "auto_apply"  # R17/R19: "off" (default) or "on"


@dataclass
class CodeOptions:
    """What every code of a batch shares (R3)."""

    expires: date | None = None
    starts: date | None = None
    amount: Decimal | None = None
    group: str | None = None
    max_uses: int | None = None  # None: 1 for single-use promotions, unlimited for multi-use
    max_uses_per_customer: int | None = None

    def __post_init__(self) -> None:
        if self.amount is not None:
            self.amount = decimal_or_error(self.amount, "the override amount")
        for value, what in (
            (self.max_uses, "the usage limit"),
            (self.max_uses_per_customer, "the per-customer limit"),
        ):
            if value is not None and value < 1:
                raise InputError(f"{what} must be at least 1")
        if self.starts and self.expires and self.expires < self.starts:
            raise InputError("the expiry date is before the start date")


@dataclass
class BatchResult:
    batch_id: int
    promotion: str
    count: int
    format: str
    warnings: list[str] = field(default_factory=list)
    skipped_customers: int = 0
    codes: list[str] = field(default_factory=list)  # filled for customer-bound batches


def single_use_enabled(store: Store) -> bool:
    return store.get_setting(SETTING_SINGLE_USE, "on") == "on"


def generate_codes(
    store: Store,
    promotion: str,
    *,
    count: object,
    fmt: CodeFormat | None = None,
    options: CodeOptions | None = None,
    allow_guessable: bool = False,
    progress: Progress | None = None,
) -> BatchResult:
    """Generate `count` new codes for `promotion` (R5-R9). Nothing is stored on any error."""
    n = check_count(count)
    opts = options or CodeOptions()
    with store.begin() as conn:
        prow = promotion_row(conn, promotion)
        fmt = fmt or _default_format(prow)
        _check_enabled(store, prow)
        existing = _existing_of_format(conn, prow.id, fmt)
        warning = fmt.check_count(n, existing=existing, allow_guessable=allow_guessable)
        batch_id, base = _open_batch(conn, prow, opts, "generated", fmt.source, n)
        _fill(conn, store, fmt, n, base, progress)
    return BatchResult(batch_id, prow.name, n, fmt.source, [warning] if warning else [])


def generate_for_customers(
    store: Store,
    promotion: str,
    customer_codes: Sequence[str],
    *,
    fmt: CodeFormat | None = None,
    options: CodeOptions | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """R10: one code per customer that exists in the store; unknown customers are skipped."""
    wanted = list(dict.fromkeys(customer_code(c) for c in customer_codes))
    opts = options or CodeOptions()
    with store.begin() as conn:
        prow = promotion_row(conn, promotion)
        fmt = fmt or _default_format(prow)
        _check_enabled(store, prow)
        known = _known_customers(conn, wanted)
        if not known:
            raise InputError(MSG_NO_CODES_GENERATED)
        warning = fmt.check_count(len(known), existing=_existing_of_format(conn, prow.id, fmt))
        batch_id, base = _open_batch(conn, prow, opts, "generated", fmt.source, len(known))
        codes = _fill(
            conn, store, fmt, len(known), base, progress, customers=[cid for _, cid in known]
        )
    result = BatchResult(batch_id, prow.name, len(known), fmt.source, [warning] if warning else [])
    result.skipped_customers = len(wanted) - len(known)
    result.codes = codes
    return result


def _default_format(prow: Any) -> CodeFormat:
    from connector.codes import parse_pattern

    return parse_pattern(prow.code_pattern) if prow.code_pattern else su_format()


def _check_enabled(store: Store, prow: Any) -> None:
    if prow.use_type == UseType.SINGLE.value and not single_use_enabled(store):
        raise SingleUseDisabled()


def _existing_of_format(conn: Connection, promotion_id: int, fmt: CodeFormat) -> int:
    """Codes already made from this same format (they share its capacity, R8)."""
    total = conn.scalar(
        select(func.coalesce(func.sum(s.code_batches.c.count), 0)).where(
            s.code_batches.c.method == fmt.source
        )
    )
    return int(total or 0)


def _known_customers(conn: Connection, wanted: list[str]) -> list[tuple[str, int]]:
    found = ids_by_key(conn, s.customers.c.code, wanted)
    return [(c, found[c]) for c in wanted if c in found]


def _open_batch(
    conn: Connection, prow: Any, opts: CodeOptions, source: str, method: str, count: int
) -> tuple[int, dict[str, Any]]:
    """Insert the batch row; return its id and the column values every code of it shares."""
    group_id = group_row(conn, opts.group).id if opts.group else None
    batch_id = inserted_id(
        conn.execute(
            s.code_batches.insert().values(
                promotion_id=prow.id,
                group_id=group_id,
                source=source,
                method=method,
                count=count,
                created_at=utcnow(),
            )
        )
    )
    single = prow.use_type == UseType.SINGLE.value
    base = {
        "promotion_id": prow.id,
        "group_id": group_id,
        "batch_id": batch_id,
        "amount": None if opts.amount is None else str(opts.amount),
        "starts_on": opts.starts,
        "expires_on": opts.expires,
        "max_uses": 1 if single else opts.max_uses,
        "max_uses_per_customer": opts.max_uses_per_customer,
    }
    return int(batch_id), base


def _fill(
    conn: Connection,
    store: Store,
    fmt: CodeFormat,
    count: int,
    base: dict[str, Any],
    progress: Progress | None,
    customers: list[int] | None = None,
) -> list[str]:
    """Store `count` new codes of `fmt`; returns them when they are bound to customers."""
    if customers is not None:
        return _fill_bound(conn, store, fmt, base, customers, progress)
    stored = 0
    with paused_gc():
        while stored < count:
            need = min(SLICE, count - stored)
            candidates = list(dict.fromkeys(draw(fmt, need + need // 50 + 4)))[:need]
            inserted = insert_codes(conn, store.dialect, candidates, base)
            stored += inserted
            if progress:
                progress(inserted)
    return []


def _fill_bound(
    conn: Connection,
    store: Store,
    fmt: CodeFormat,
    base: dict[str, Any],
    customers: list[int],
    progress: Progress | None,
) -> list[str]:
    """One code per customer; a customer whose code collided gets another draw."""
    pending = list(customers)
    made: list[str] = []
    while pending:
        owners = pending[:SLICE]
        candidates = list(dict.fromkeys(draw(fmt, len(owners) + len(owners) // 50 + 4)))[
            : len(owners)
        ]
        owners = owners[: len(candidates)]
        inserted = insert_codes(conn, store.dialect, candidates, base, owners)
        if inserted == len(candidates):
            made.extend(candidates)
            done = len(owners)
        else:
            ours = set(
                conn.scalars(
                    select(s.codes.c.code).where(
                        s.codes.c.batch_id == base["batch_id"], s.codes.c.code.in_(candidates)
                    )
                )
            )
            made.extend(c for c in candidates if c in ours)
            retry = [o for c, o in zip(candidates, owners, strict=True) if c not in ours]
            pending = retry + pending[len(owners) :]
            done = 0
            inserted = len(ours)
        pending = pending[done:]
        if progress:
            progress(inserted)
    return made
