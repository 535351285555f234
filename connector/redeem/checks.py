"""The R13 checks, in their order, over one row that holds a code with its promotion and group.

`CodeInfo` is what one query returns for a code: the code's own columns, its promotion's terms
and dates, its group's dates and usage limits. Dates a code does not set are inherited from its
group (R2); the promotion's dates apply on top. Expiry is end of day (R4): `today` is the date in
the store's time zone, and a code is valid through the whole of its expiry date.

Each check raises the refusal of its rule in rules.py, whose table R13 gives their order. The
same checks run again at payment (R14), where any failure becomes NoLongerValid.

On PostgreSQL, promosync_scan and promosync_refusal in connector/store/redeem_functions.sql run
these checks in the same order: a change here is a change there (tests/redeem/
test_rule_order.py holds both to the table).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, bindparam, exists, select
from sqlalchemy.engine import Connection, Row

from connector.codes import ANY_CODE, SU_CODE
from connector.errors import ConfigError
from connector.generate import SETTING_AUTO_APPLY, SETTING_SINGLE_USE
from connector.redeem.discount import Terms
from connector.redeem.rules import refused
from connector.store import schema as s
from connector.store.statements import Statement

SETTING_FORMAT = "single_use_format"  # R6: "any" (default), "su", or a regular expression

CODE_COLUMNS = (
    s.codes.c.id,
    s.codes.c.code,
    s.codes.c.customer_id,
    s.codes.c.amount,
    s.codes.c.starts_on,
    s.codes.c.expires_on,
    s.codes.c.max_uses,
    s.codes.c.max_uses_per_customer,
    s.codes.c.use_count,
    s.codes.c.state,
    s.codes.c.group_id,
    s.codes.c.promotion_id,
    s.promotions.c.name.label("promotion"),
    s.promotions.c.kind,
    s.promotions.c.discount_type,
    s.promotions.c.rate,
    s.promotions.c.min_order,
    s.promotions.c["items"],
    s.promotions.c.discount_item,
    s.promotions.c.start_date.label("p_start"),
    s.promotions.c.end_date.label("p_end"),
    s.promotions.c.deleted_at,
    s.promotions.c.use_type,
    s.promotions.c.audience,
    s.coupon_groups.c.start_date.label("g_start"),
    s.coupon_groups.c.end_date.label("g_end"),
    s.group_limits.c.max_uses.label("g_max"),
    s.group_limits.c.max_uses_per_customer.label("g_max_pc"),
    s.group_limits.c.use_count.label("g_count"),
)


_JOINED = (
    s.codes.outerjoin(s.promotions, s.promotions.c.id == s.codes.c.promotion_id)
    .outerjoin(s.coupon_groups, s.coupon_groups.c.id == s.codes.c.group_id)
    .outerjoin(s.group_limits, s.group_limits.c.group_id == s.codes.c.group_id)
)
_CUSTOMER = bindparam("customer", type_=Integer)
BY_CODE = select(*CODE_COLUMNS).select_from(_JOINED).where(s.codes.c.code == bindparam("code"))
BY_CUSTOMER = (
    select(*CODE_COLUMNS)
    .select_from(_JOINED)
    .where(s.codes.c.customer_id == _CUSTOMER, s.codes.c.state == "active")
    .order_by(s.codes.c.id)
)

# What the last R13 checks need to know about a customer and a code, in one query, read only
# for codes that have per-customer limits, a group, or a promotion for specific customers:
# the customer's uses of the code and of its group (R3, R2), and whether the group's and the
# promotion's customer lists (if they have one) hold the customer.
_cu, _gu = s.code_customer_uses.c, s.group_customer_uses.c
_gc, _pc = s.group_customers.c, s.promotion_customers.c
CUSTOMER_FACTS = select(
    select(_cu.uses)
    .where(_cu.code_id == s.codes.c.id, _cu.customer_id == _CUSTOMER)
    .scalar_subquery()
    .label("c_uses"),
    select(_gu.uses)
    .where(_gu.group_id == s.codes.c.group_id, _gu.customer_id == _CUSTOMER)
    .scalar_subquery()
    .label("gc_uses"),
    exists().where(_gc.group_id == s.codes.c.group_id).label("g_listed"),
    exists()
    .where(_gc.group_id == s.codes.c.group_id, _gc.customer_id == _CUSTOMER)
    .label("g_allows"),
    exists().where(_pc.promotion_id == s.codes.c.promotion_id).label("p_listed"),
    exists()
    .where(_pc.promotion_id == s.codes.c.promotion_id, _pc.customer_id == _CUSTOMER)
    .label("p_allows"),
).where(s.codes.c.id == bindparam("code_id"))

FAST_BY_CODE = Statement(BY_CODE)
FAST_CUSTOMER_FACTS = Statement(CUSTOMER_FACTS)
FAST_BY_CUSTOMER = Statement(BY_CUSTOMER)


@dataclass(frozen=True)
class Switches:
    """The store settings redemption reads (R6, R17, R19), read in the caller's transaction."""

    single_use: bool
    auto_apply: bool
    code_format: re.Pattern[str]


# The settings as columns of another query (the transaction's, see sales.SALE), so that
# reading them costs no statement of its own: `switches_from(row)`.
SWITCH_COLUMNS = tuple(
    select(s.store_settings.c.value)
    .where(s.store_settings.c.key == key)
    .scalar_subquery()
    .label(f"setting_{key}")
    for key in (SETTING_SINGLE_USE, SETTING_AUTO_APPLY, SETTING_FORMAT)
)


def switches_from(row: Any) -> Switches:
    """The switches from a row that has SWITCH_COLUMNS."""
    names = (SETTING_SINGLE_USE, SETTING_AUTO_APPLY, SETTING_FORMAT)
    return switches_of(
        (key, value) for key in names if (value := getattr(row, f"setting_{key}")) is not None
    )


def switches_of(settings: Iterable[Any]) -> Switches:
    """The switches from (key, value) rows of store settings."""
    rows = {key: value for key, value in settings}
    return Switches(
        single_use=rows.get(SETTING_SINGLE_USE, "on") == "on",
        auto_apply=rows.get(SETTING_AUTO_APPLY, "off") == "on",
        code_format=code_format(rows.get(SETTING_FORMAT, "any")),
    )


@lru_cache(maxsize=32)
def code_format(setting: str) -> re.Pattern[str]:
    """The R6 format a scanned code must fit: "any", "su", or a custom regular expression."""
    if setting.strip().lower() in ("", "any"):
        return ANY_CODE
    if setting.strip().lower() == "su":
        return SU_CODE
    try:
        return re.compile(setting)
    except re.error as exc:
        raise ConfigError(
            f"the store setting {SETTING_FORMAT} is not a regular expression: {exc}"
        ) from None


@dataclass(frozen=True)
class Scene:
    """Where a check runs: the transaction's mode and customer, today in the store's zone."""

    mode: str
    customer_id: int | None
    today: date


def terms_of(info: Row[Any]) -> Terms:
    amount = None if info.amount is None else Decimal(info.amount)
    return Terms(
        kind=info.kind,
        percent=info.discount_type == "percent",
        rate=Decimal(info.rate),
        min_order=None if info.min_order is None else Decimal(info.min_order),
        items=tuple(info.items or ()),
        gift_item=info.discount_item,
        override=amount,
    )


def check_mode(scene: Scene) -> None:
    if scene.mode != "normal":
        raise refused("mode")


def check_format(code: str, switches: Switches) -> None:
    if switches.code_format.fullmatch(code) is None:
        raise refused("format", code)


def check_promotion(info: Row[Any], switches: Switches) -> None:
    """R19 (single-use codes off), then R13 "promotion missing or deleted"."""
    if not switches.single_use and is_single_use(info):
        raise refused("single_use_off", info.code)
    if info.promotion is None or info.deleted_at is not None:
        raise refused("promotion", info.code)


def is_single_use(info: Row[Any]) -> bool:
    return bool(info.use_type == "single_use" or info.max_uses == 1)


def check_usable(conn: Connection, info: Row[Any], scene: Scene) -> None:
    """R13 after "already scanned": expired (or not yet valid), used, not for this customer."""
    check_dates(info, scene.today)
    facts = customer_facts(conn, info, scene.customer_id)
    check_used(info, facts, scene.customer_id)
    check_customer(info, facts, scene.customer_id)


def customer_facts(conn: Connection, info: Row[Any], customer_id: int | None) -> Any:
    """The CUSTOMER_FACTS row for this code and customer; None when no check needs it."""
    if (
        info.max_uses_per_customer is None
        and info.g_max_pc is None
        and info.group_id is None
        and info.audience != "specific"
    ):
        return None
    return FAST_CUSTOMER_FACTS.first(conn, {"code_id": info.id, "customer": customer_id})


def check_dates(info: Row[Any], today: date) -> None:
    ends = [
        d for d in (info.expires_on if info.expires_on is not None else info.g_end, info.p_end) if d
    ]
    if any(today > end for end in ends):
        raise refused("expired", info.code)
    starts = [
        d
        for d in (info.starts_on if info.starts_on is not None else info.g_start, info.p_start)
        if d
    ]
    if any(today < start for start in starts):
        raise refused("not_yet_valid", info.code)


def check_used(info: Row[Any], facts: Any, customer_id: int | None) -> None:
    if info.state != "active" or (info.max_uses is not None and info.use_count >= info.max_uses):
        raise refused("used", info.code, detail=info.state)
    if info.g_max is not None and (info.g_count or 0) >= info.g_max:
        raise refused("group_limit", info.code)
    if customer_id is None:
        return
    if info.max_uses_per_customer is not None and (facts.c_uses or 0) >= info.max_uses_per_customer:
        raise refused("customer_limit", info.code)
    if info.g_max_pc is not None and (facts.gc_uses or 0) >= info.g_max_pc:
        raise refused("group_customer_limit", info.code)


def check_customer(info: Row[Any], facts: Any, customer_id: int | None) -> None:
    """R13 last check: a bound code needs its customer; group and promotion restrictions too.

    A group or promotion with a customer list admits only the customers on it."""
    if info.customer_id is not None:
        if customer_id != info.customer_id:
            raise refused("other_customer", info.code)
        return
    per_customer = info.max_uses_per_customer is not None or info.g_max_pc is not None
    if per_customer and customer_id is None:
        raise refused("needs_customer", info.code)
    if info.group_id is not None and facts.g_listed and not facts.g_allows:
        raise refused("group_customers", info.code)
    if info.audience == "specific" and facts.p_listed and not facts.p_allows:
        raise refused("promotion_customers", info.code)
