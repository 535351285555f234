"""What the account profile means for the sync: request shapes, check lines, the cached profile.

`Shapes` is the one place that turns facts about an account (AccountProfile) and the mapping into
choices: where redemptions are read from, how "used" is counted, how local codes go up, which
`discountType` value means percent. A fact that is unknown gives the safest shape, and a shape
that cannot work is refused before any write (`Shapes.refusal`), naming the mapping key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from connector.netsuite.profile import AccountProfile, loads
from connector.store import Store
from connector.store import schema as s
from connector.store.schema import utcnow
from connector.sync.mapping import Mapping
from connector.sync.state import upsert_statement

OK, MISSING, UNKNOWN = "✓", "✗", "?"


@dataclass(frozen=True)
class Shapes:
    """The request shapes one run uses."""

    redemption_source: str | None  # tranpromotion | couponcode | None (none works)
    used_counts: str | None  # couponcode | tranpromotion | None (unknown: assume used)
    code_push: str  # async_batch | upsert
    discount_types: dict[str, str] | None  # None: learn it from the first write
    discount_source: str | None
    timezone: str | None

    wanted_source: str = "auto"  # the mapping's redemptions.source

    @property
    def refusal(self) -> str | None:
        if self.redemption_source is not None:
            return None
        if self.wanted_source == "auto":
            return ("this account offers no way to read redemptions: neither the tranpromotion "
                    "table nor couponcode.used can be queried (mapping key redemptions.source)")
        what = ("couponcode.used" if self.wanted_source == "couponcode"
                else "the tranpromotion table joined to transaction.lastmodifieddate")
        return (f"redemptions.source is {self.wanted_source}, but this account does not let "
                f"SuiteQL read {what}: set redemptions.source = \"auto\" in the mapping")


def shapes(profile: AccountProfile, mapping: Mapping) -> Shapes:
    tranpromotion = (profile.table("tranpromotion") is not False
                     and profile.column("transaction", "lastmodifieddate") is not False)
    used_column = profile.column("couponcode", "used") is True
    source: str | None = mapping.redemption_source
    if source == "auto":
        source = "tranpromotion" if tranpromotion else "couponcode" if used_column else None
    elif source == "tranpromotion" and not tranpromotion:
        source = None
    elif source == "couponcode" and profile.column("couponcode", "used") is False:
        source = None
    used = "couponcode" if used_column else "tranpromotion" if tranpromotion else None
    push = mapping.code_push
    if push == "auto":
        push = "async_batch" if profile.async_batch else "upsert"
    discount, where = mapping.stated_discount_types(), "mapping"
    if discount is None or discount == profile.discount_type:
        discount = discount or profile.discount_type
        where = profile.discount_type_source or "profile"
    return Shapes(source, used, push, discount, where if discount else None,
                  profile.timezone, mapping.redemption_source)


# ---- the cached profile -------------------------------------------------------------------

def load_profile(conn: Connection, account: str) -> AccountProfile | None:
    t = s.netsuite_profiles
    text = conn.scalar(select(t.c.profile).where(t.c.account == account))
    return None if text is None else loads(str(text), "the cached account profile")


def save_profile(store: Store, profile: AccountProfile) -> None:
    t = s.netsuite_profiles
    values: dict[str, Any] = {"profile": profile.dumps(), "checked_at": utcnow()}
    with store.begin() as conn:
        conn.execute(upsert_statement(store.dialect, t, {"account": profile.account or "",
                                                         **values}, ["account"], values))
