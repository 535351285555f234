"""Promotions, coupon groups and customers (R1, R2): create, read, change, delete.

Every function takes the Store first and keyword arguments after; each write is one transaction.
Names are how users refer to promotions and groups; customer codes (at most 8 characters) are
compared case-insensitively and stored upper-case, like coupon codes.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection, Row

from connector.codes import normalize, parse_pattern
from connector.errors import InputError
from connector.models import (
    CodesFrom,
    CombinationType,
    CouponGroup,
    Customer,
    DiscountType,
    Promotion,
    PromotionKind,
    UseType,
)
from connector.store import Store
from connector.store import schema as s
from connector.store.engine import ids_by_key, inserted_id
from connector.store.schema import utcnow
from connector.text import one_line, plural, shown

MAX_CUSTOMER_CODE = 8
MAX_NAME = 200
# Changes NetSuite cannot make to a promotionCode record in place (the kind picks its customForm).
RECREATED_BY = {"kind": "kind (customForm)", "use_type": "use type"}
RECREATE_NOTE = ("the next sync will re-create it in NetSuite: inactivate the old record when its "
                 "codes were used, else delete it")


def decimal_or_error(value: object, what: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise InputError(f"{what} must be a number, not {shown(value)}") from None
    if not amount.is_finite() or amount < 0:
        raise InputError(f"{what} must be a number of zero or more, not {shown(value)}")
    return amount


def customer_code(value: str) -> str:
    code = normalize(value)
    if not code:
        raise InputError("a customer code cannot be empty")
    if len(code) > MAX_CUSTOMER_CODE:
        raise InputError(
            f"the customer code {shown(value)} is longer than {MAX_CUSTOMER_CODE} characters"
        )
    return one_line(code, "the customer code")


def name_or_error(value: object, what: str) -> str:
    """A promotion, group or list name: trimmed, 1 to 200 characters, one line of text."""
    name = str(value).strip()
    if not name or len(name) > MAX_NAME:
        raise InputError(f"{what} is 1 to {MAX_NAME} characters, not {len(name):,}")
    return one_line(name, what)


def create_promotion(
    store: Store,
    *,
    name: str,
    kind: str | PromotionKind,
    rate: object,
    percent: bool = True,
    discount_item: str | None = None,
    start: date | None = None,
    end: date | None = None,
    min_order: object = None,
    items: Sequence[str] = (),
    combination_type: str = "COMBINABLE",
    use: str | UseType = UseType.SINGLE,
    pattern: str | None = None,
    codes_from: str | CodesFrom = CodesFrom.LOCAL,
    customers: Sequence[str] = (),
) -> Promotion:
    """R1: a new promotion. Refuses a duplicate name, an unknown kind, a bad rate or pattern."""
    row = _promotion_values(
        name=name,
        kind=kind,
        rate=rate,
        percent=percent,
        discount_item=discount_item,
        start=start,
        end=end,
        min_order=min_order,
        items=items,
        combination_type=combination_type,
        use=use,
        pattern=pattern,
        codes_from=codes_from,
    )
    with store.begin() as conn:
        if conn.scalar(select(s.promotions.c.id).where(s.promotions.c.name == row["name"])):
            raise InputError(f"a promotion named {shown(row['name'])} exists already")
        row["audience"] = "specific" if customers else "everyone"
        row["external_key"] = secrets.token_hex(8)
        pid = inserted_id(conn.execute(s.promotions.insert().values(**row)))
        for cid in _customer_ids(conn, customers):
            conn.execute(s.promotion_customers.insert().values(promotion_id=pid, customer_id=cid))
    return get_promotion(store, row["name"])


def _promotion_values(**kw: Any) -> dict[str, Any]:
    """The checked promotion row of R1, from create's keyword arguments; the one validation
    that `create_promotion` and `update_promotion` share."""
    name = name_or_error(kw["name"], "a promotion name")
    kind = _enum(PromotionKind, kw["kind"], "kind")
    use = _enum(UseType, _use_alias(kw["use"]), "use type")
    codes_from = _enum(CodesFrom, kw["codes_from"], "codes-from")
    combination = _enum(CombinationType, str(kw["combination_type"]).upper(), "combination type")
    rate = decimal_or_error(kw["rate"], "the rate")
    if kw["percent"] and rate > 100:
        raise InputError("a percent rate cannot exceed 100")
    if kw["start"] and kw["end"] and kw["end"] < kw["start"]:
        raise InputError(f"the end date {kw['end']} is before the start date {kw['start']}")
    pattern = kw["pattern"]
    if pattern is not None:
        parse_pattern(pattern)
    if codes_from is CodesFrom.NETSUITE and not pattern:
        raise InputError("codes generated by NetSuite need a --pattern (codePattern)")
    min_order = kw["min_order"]
    discount_item = kw["discount_item"]
    return {
        "name": name,
        "kind": kind.value,
        "discount_type": (DiscountType.PERCENT if kw["percent"] else DiscountType.AMOUNT).value,
        "rate": str(rate),
        "discount_item": None
        if discount_item is None
        else one_line(str(discount_item).strip(), "the discount item"),
        "start_date": kw["start"],
        "end_date": kw["end"],
        "min_order": None
        if min_order is None
        else str(decimal_or_error(min_order, "the minimum order")),
        "items": [one_line(str(i).strip(), "an item id") for i in kw["items"] if str(i).strip()],
        "combination_type": combination.value,
        "use_type": use.value,
        "code_pattern": pattern,
        "codes_from": codes_from.value,
    }


@dataclass(frozen=True)
class PromotionUpdate:
    """What `update_promotion` did: the promotion as it is now, each changed column as
    (old, new), and notes for the user (what the next sync will do about it)."""

    promotion: Promotion
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def update_promotion(
    store: Store,
    name: str,
    *,
    kind: str | PromotionKind | None = None,
    rate: object = None,
    percent: bool | None = None,
    discount_item: str | None = None,
    start: date | None = None,
    end: date | None = None,
    min_order: object = None,
    items: Sequence[str] | None = None,
    combination_type: str | None = None,
    use: str | UseType | None = None,
    pattern: str | None = None,
    codes_from: str | CodesFrom | None = None,
) -> PromotionUpdate:
    """R1: change promotion `name`; None leaves a field as it is. One transaction.

    The result is checked like `create_promotion` checks a new one (the end date against the
    start date whichever of them changes, a percent rate against 100, ...). A new kind or use
    type NetSuite cannot take in place (R28): it is changed here, and once the promotion has
    reached NetSuite a note says what the next sync will do. Its codes follow a new use type:
    to single-use, each code's limit becomes 1 (a code used once is then used up), refused
    when a code was used more than once (R3); to multi-use, codes keep their limits, so a
    used code stays used (R28).
    """
    given = {
        "kind": kind, "rate": rate, "percent": percent, "discount_item": discount_item,
        "start": start, "end": end, "min_order": min_order, "items": items,
        "combination_type": combination_type, "use": use, "pattern": pattern,
        "codes_from": codes_from,
    }
    with store.begin() as conn:
        row = promotion_row(conn, name)
        current = _values_of(row)
        values = _promotion_values(**{**current, **{k: v for k, v in given.items()
                                                    if v is not None}})
        before = {col: getattr(row, col) for col in values}
        changes = {col: (before[col], new) for col, new in values.items()
                   if _comparable(col, before[col]) != _comparable(col, new)}
        notes: list[str] = []
        if "use_type" in changes:
            _codes_follow_use_type(conn, row, values["use_type"])
        recreated = [what for col, what in RECREATED_BY.items() if col in changes]
        if recreated and _in_netsuite(conn, row.id):
            notes.append(f"{' and '.join(recreated)} changed, which NetSuite cannot change in "
                         f"place: {RECREATE_NOTE}")
        if changes:
            conn.execute(
                s.promotions.update()
                .where(s.promotions.c.id == row.id)
                .values(**{col: values[col] for col in changes}, updated_at=utcnow(),
                        revision=row.revision + 1)
            )
    return PromotionUpdate(get_promotion(store, row.name), changes, notes)


def _values_of(row: Row[Any]) -> dict[str, Any]:
    """A stored promotion as `_promotion_values` keyword arguments."""
    return {
        "name": row.name, "kind": row.kind, "rate": row.rate,
        "percent": row.discount_type == DiscountType.PERCENT.value,
        "discount_item": row.discount_item, "start": row.start_date, "end": row.end_date,
        "min_order": row.min_order, "items": list(row.items or ()),
        "combination_type": row.combination_type, "use": row.use_type,
        "pattern": row.code_pattern or None, "codes_from": row.codes_from,
    }


def _comparable(column: str, value: Any) -> Any:
    """A column's value as compared for "changed": amounts as numbers, items as a list."""
    if value is not None and column in ("rate", "min_order"):
        return Decimal(str(value))
    if column == "items":
        return list(value or ())
    return value


def _codes_follow_use_type(conn: Connection, row: Row[Any], use_type: str) -> None:
    """R3: a single-use code is used at most once; a promotion's codes follow its use type."""
    if use_type != UseType.SINGLE.value:
        return
    c = s.codes.c
    mine = c.promotion_id == row.id
    overused = conn.scalar(select(func.count()).where(mine, c.use_count > 1)) or 0
    if overused:
        raise InputError(
            f"{plural(overused, 'code')} of {shown(row.name)} "
            f"{'was' if overused == 1 else 'were'} used more than once, and a single-use code is "
            "used at most once: the promotion stays multi-use"
        )
    conn.execute(s.codes.update().where(mine, c.use_count >= 1, c.state == "active")
                 .values(max_uses=1, state="redeemed"))
    conn.execute(s.codes.update().where(mine).values(max_uses=1))


def _in_netsuite(conn: Connection, promotion_id: int) -> bool:
    """Whether a sync has written a NetSuite record for the promotion."""
    t = s.sync_chunks.c
    found = conn.scalar(select(func.count()).where(
        and_(t.promotion_id == promotion_id, t.netsuite_id.is_not(None))))
    return bool(found)


def _use_alias(value: object) -> object:
    return {"single": "single_use", "multi": "multi_use"}.get(str(value), value)


def _enum(enum: Any, value: object, what: str) -> Any:
    try:
        return enum(str(value))
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise InputError(f"unknown {what} {shown(value)}; use one of {allowed}") from None


def _customer_ids(conn: Connection, codes: Iterable[str]) -> list[int]:
    wanted = [customer_code(c) for c in codes]
    if not wanted:
        return []
    found = ids_by_key(conn, s.customers.c.code, wanted)
    missing = [c for c in wanted if c not in found]
    if missing:
        shown_codes = ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")
        raise InputError(f"unknown {plural(len(missing), 'customer')}: {shown_codes}")
    return [found[c] for c in wanted]


def promotion_row(conn: Connection, name: str, *, include_deleted: bool = False) -> Row[Any]:
    query = select(s.promotions).where(s.promotions.c.name == name.strip())
    if not include_deleted:
        query = query.where(s.promotions.c.deleted_at.is_(None))
    row = conn.execute(query).first()
    if row is None:
        raise InputError(f"no promotion named {shown(name)}")
    return row


def get_promotion(store: Store, name: str) -> Promotion:
    with store.read() as conn:
        return _promotion_model(conn, promotion_row(conn, name))


def list_promotions(store: Store) -> list[Promotion]:
    with store.read() as conn:
        rows = conn.execute(
            select(s.promotions)
            .where(s.promotions.c.deleted_at.is_(None))
            .order_by(s.promotions.c.name)
        ).all()
        return [_promotion_model(conn, r) for r in rows]


def _promotion_model(conn: Connection, row: Row[Any]) -> Promotion:
    pid = row.id
    customers = conn.scalars(
        select(s.customers.c.code)
        .join(s.promotion_customers, s.promotion_customers.c.customer_id == s.customers.c.id)
        .where(s.promotion_customers.c.promotion_id == pid)
    ).all()
    groups = conn.scalars(
        select(s.coupon_groups.c.name)
        .join(s.promotion_groups, s.promotion_groups.c.group_id == s.coupon_groups.c.id)
        .where(s.promotion_groups.c.promotion_id == pid)
    ).all()
    count = conn.scalar(
        select(func.count()).select_from(s.codes).where(s.codes.c.promotion_id == pid)
    )
    return Promotion(
        id=pid,
        name=row.name,
        kind=row.kind,
        discount_type=row.discount_type,
        rate=Decimal(row.rate),
        discount_item=row.discount_item,
        start_date=row.start_date,
        end_date=row.end_date,
        min_order=None if row.min_order is None else Decimal(row.min_order),
        items=tuple(row.items or ()),
        combination_type=row.combination_type,
        use_type=row.use_type,
        code_pattern=row.code_pattern,
        codes_from=row.codes_from,
        audience=row.audience,
        customers=tuple(customers),
        groups=tuple(groups),
        deleted=row.deleted_at is not None,
        created_at=row.created_at,
        updated_at=row.updated_at,
        code_count=int(count or 0),
    )


def delete_promotion(store: Store, name: str) -> None:
    """Mark a promotion deleted. Its codes stay (history is never lost) but no longer redeem
    (R13 "promotion missing or deleted"); the next sync removes or inactivates it in NetSuite."""
    with store.begin() as conn:
        row = promotion_row(conn, name)
        conn.execute(
            s.promotions.update()
            .where(s.promotions.c.id == row.id)
            .values(deleted_at=utcnow(), updated_at=utcnow(), revision=row.revision + 1)
        )


def create_group(
    store: Store,
    *,
    name: str,
    start: date | None = None,
    end: date | None = None,
    template: str | None = None,
    customers: Sequence[str] = (),
) -> CouponGroup:
    """R2: a named set of codes whose dates and customers its codes inherit."""
    name = name_or_error(name, "a group name")
    if start and end and end < start:
        raise InputError(f"the end date {end} is before the start date {start}")
    if template is not None:
        parse_pattern(template)
    with store.begin() as conn:
        if conn.scalar(select(s.coupon_groups.c.id).where(s.coupon_groups.c.name == name)):
            raise InputError(f"a group named {shown(name)} exists already")
        gid = inserted_id(
            conn.execute(
                s.coupon_groups.insert().values(
                    name=name, start_date=start, end_date=end, template=template
                )
            )
        )
        for cid in _customer_ids(conn, customers):
            conn.execute(s.group_customers.insert().values(group_id=gid, customer_id=cid))
    return get_group(store, name)


def group_row(conn: Connection, name: str) -> Row[Any]:
    row = conn.execute(
        select(s.coupon_groups).where(s.coupon_groups.c.name == name.strip())
    ).first()
    if row is None:
        raise InputError(f"no coupon group named {shown(name)}")
    return row


def get_group(store: Store, name: str) -> CouponGroup:
    with store.read() as conn:
        row = group_row(conn, name)
        customers = conn.scalars(
            select(s.customers.c.code)
            .join(s.group_customers, s.group_customers.c.customer_id == s.customers.c.id)
            .where(s.group_customers.c.group_id == row.id)
        ).all()
    return CouponGroup(
        id=row.id,
        name=row.name,
        start_date=row.start_date,
        end_date=row.end_date,
        template=row.template,
        customers=tuple(customers),
    )


def list_groups(store: Store) -> list[CouponGroup]:
    with store.read() as conn:
        names = conn.scalars(select(s.coupon_groups.c.name).order_by(s.coupon_groups.c.name)).all()
    return [get_group(store, n) for n in names]


def attach_group(store: Store, *, promotion: str, group: str) -> None:
    """R2: a group can serve one or more promotions."""
    with store.begin() as conn:
        pid, gid = promotion_row(conn, promotion).id, group_row(conn, group).id
        exists = conn.scalar(
            select(func.count())
            .select_from(s.promotion_groups)
            .where(s.promotion_groups.c.promotion_id == pid, s.promotion_groups.c.group_id == gid)
        )
        if not exists:
            conn.execute(s.promotion_groups.insert().values(promotion_id=pid, group_id=gid))


def upsert_customers(
    conn: Connection, rows: Sequence[tuple[str, str | None, str | None]]
) -> tuple[int, int]:
    """Add or update customers (code, email, name) in the caller's transaction.

    Returns (added, updated). Codes must already be valid (see `customer_code`).
    """
    existing = dict(conn.execute(select(s.customers.c.code, s.customers.c.id)).all())
    new = [
        {"code": c, "email": e, "name": n, "created_at": utcnow()}
        for c, e, n in rows
        if c not in existing
    ]
    if new:
        conn.execute(s.customers.insert(), new)
    updated = 0
    for code, email, name in rows:
        if code in existing:
            conn.execute(
                s.customers.update()
                .where(s.customers.c.id == existing[code])
                .values(email=email, name=name)
            )
            updated += 1
    return len(new), updated


def add_customer(
    store: Store, code: str, email: str | None = None, name: str | None = None
) -> Customer:
    cc = customer_code(code)
    with store.begin() as conn:
        upsert_customers(conn, [(cc, email, name)])
        row = conn.execute(select(s.customers).where(s.customers.c.code == cc)).one()
    return Customer(id=row.id, code=row.code, email=row.email, name=row.name)


def list_customers(store: Store) -> list[Customer]:
    with store.read() as conn:
        rows = conn.execute(select(s.customers).order_by(s.customers.c.code)).all()
    return [Customer(id=r.id, code=r.code, email=r.email, name=r.name) for r in rows]
