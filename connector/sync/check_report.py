"""The lines `promosync netsuite check` prints: one capability each, ✓ / ✗ / ?, and what it means.

A ✗ on something the mapping or a local promotion uses names the mapping key (or option) to
change and makes the check exit 1; a ? is a fact the account did not give away, for which the
sync takes the safest shape (and says which).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector.netsuite.profile import AccountProfile
from connector.sync.account import Probe
from connector.sync.capabilities import MISSING, OK, UNKNOWN, shapes
from connector.sync.mapping import Mapping


@dataclass(frozen=True)
class Line:
    status: str  # ✓ ✗ ?
    capability: str
    meaning: str
    key: str | None = None  # the mapping key or setting to change, for a ✗
    blocking: bool = False  # a ✗ that the mapping or a promotion relies on

    def as_json(self) -> dict[str, Any]:
        return {"status": {OK: "ok", MISSING: "missing", UNKNOWN: "unknown"}[self.status],
                "capability": self.capability, "meaning": self.meaning, "key": self.key}

    def text(self) -> str:
        key = f" (change: {self.key})" if self.key and self.status == MISSING else ""
        return f"{self.status} {self.capability}: {self.meaning}{key}"


def check_lines(profile: AccountProfile, probe: Probe, mapping: Mapping, concurrency: int,
                used_items: set[str]) -> list[Line]:
    lines = [Line(OK, "credentials", f"accepted ({_auth(probe.auth)})")]
    lines.append(_concurrency(probe, concurrency))
    lines.extend(_metadata(profile, probe, mapping))
    lines.extend(_suiteql(profile, mapping))
    lines.extend(_items(profile, mapping, used_items))
    lines.append(_dates(profile))
    return lines


def exit_code(lines: list[Line]) -> int:
    return 1 if any(line.status == MISSING and line.blocking for line in lines) else 0


def _auth(kind: str) -> str:
    return "OAuth 2.0 client credentials" if kind == "oauth2" else "token-based (OAuth 1.0a)"


def _concurrency(probe: Probe, concurrency: int) -> Line:
    if probe.concurrency is None:
        return Line(UNKNOWN, "concurrency", f"{probe.concurrency_note or 'not readable'}; "
                    f"NETSUITE_CONCURRENCY={concurrency} is used as set")
    if concurrency > probe.concurrency:
        return Line(MISSING, "concurrency", f"the account allows {probe.concurrency} requests at "
                    f"once, NETSUITE_CONCURRENCY is {concurrency}", "NETSUITE_CONCURRENCY", True)
    note = f" ({probe.concurrency_note})" if probe.concurrency_note else ""
    return Line(OK, "concurrency", f"account limit {probe.concurrency}{note}; "
                f"promosync uses {concurrency}")


def _metadata(profile: AccountProfile, probe: Probe, mapping: Mapping) -> list[Line]:
    if profile.promotion_fields is None:
        why = probe.metadata_error or "not offered"
        return [Line(UNKNOWN, "metadata catalog", f"{why}: field and value checks skipped"),
                _discount(profile, mapping)]
    out = [Line(OK, "metadata catalog",
                f"promotionCode has {len(profile.promotion_fields)} fields"
                + (f", couponCode {len(profile.coupon_fields)}" if profile.coupon_fields else ""))]
    wanted = {v for v in mapping.fields.values() if v} | {"customForm", "useType",
                                                           "discountType", "codePattern"}
    missing = sorted(f for f in wanted if f not in profile.promotion_fields)
    if missing:
        out.append(Line(MISSING, "promotionCode fields", f"{', '.join(missing)} not in this "
                        "account's record", "fields.*", True))
    uses = profile.enums.get("useType")
    if uses:
        bad = sorted(v for v in mapping.use_types.values() if v not in uses)
        out.append(Line(MISSING, "useType", f"{', '.join(bad)} not among {', '.join(uses)}",
                        "enums.useType", True) if bad else
                   Line(OK, "useType", f"values {', '.join(uses)}"))
    out.append(_discount(profile, mapping))
    out.append(_batch(profile, mapping))
    return out


def _discount(profile: AccountProfile, mapping: Mapping) -> Line:
    found = shapes(profile, mapping)
    enum = profile.enums.get("discountType") or ()
    stated = mapping.stated_discount_types()
    if stated and enum and any(v not in enum for v in stated.values()):
        return Line(MISSING, "discountType", f"the mapping's {stated['percent']!r} / "
                    f"{stated['amount']!r} are not among {', '.join(enum)}",
                    "enums.discountType", True)
    if found.discount_types:
        return Line(OK, "discountType", f"percent = {found.discount_types['percent']!r}, "
                    f"amount = {found.discount_types['amount']!r} (from the "
                    f"{found.discount_source})")
    if len(enum) == 2:
        return Line(UNKNOWN, "discountType", f"values {', '.join(enum)}, meaning not shown: the "
                    "first percent or amount promotion is written inactive, read back, and only "
                    "then activated")
    return Line(MISSING, "discountType", "which value means percent cannot be found out: "
                "percent and amount promotions are refused", "enums.discountType", True)


def _batch(profile: AccountProfile, mapping: Mapping) -> Line:
    push = shapes(profile, mapping).code_push
    if profile.async_batch:
        return Line(OK, "batch writes", "offered: local codes go up 100 per request"
                    if push == "async_batch" else "offered, but codes.push says upsert")
    if mapping.code_push == "async_batch":
        return Line(MISSING, "batch writes", "not offered by this account", "codes.push", True)
    return Line(UNKNOWN if profile.async_batch is None else MISSING, "batch writes",
                "not offered: local codes go up one request each", "codes.push")


def _suiteql(profile: AccountProfile, mapping: Mapping) -> list[Line]:
    out = []
    snapshot = [c for c in ("id", "externalid", "usetype", "isinactive")
                if profile.column("promotioncode", c) is False]
    out.append(Line(MISSING, "SuiteQL promotioncode", f"{', '.join(snapshot)} not queryable: "
                    "sync cannot compare with NetSuite", None, True) if snapshot else
               Line(OK, "SuiteQL promotioncode", "id, externalid, usetype, isinactive"))
    used = profile.column("couponcode", "used")
    out.append(Line(OK if used else UNKNOWN if used is None else MISSING, "SuiteQL couponcode.used",
                    "queryable" if used else "not queryable: used codes are counted from the "
                    "transaction-promotion table"))
    found = shapes(profile, mapping)
    if found.redemption_source is None:
        out.append(Line(MISSING, "redemptions", "neither tranpromotion nor couponcode.used can be "
                        "read: sync mirror cannot work", "redemptions.source", True))
    elif found.redemption_source == "tranpromotion":
        out.append(Line(OK, "redemptions", "read from tranpromotion joined to transaction, by "
                        "lastmodifieddate"))
    else:
        out.append(Line(OK, "redemptions", "read from couponcode.used (every used code each "
                        "mirror: couponcode has no modification date)"))
    return out


def _items(profile: AccountProfile, mapping: Mapping, used_items: set[str]) -> list[Line]:
    out = []
    for item, there in sorted(profile.items.items()):
        keys = [f"discount_items.{k}" for k, v in mapping.discount_items.items() if v == item]
        key = ", ".join(keys) or "the promotion's --discount-item / --items"
        out.append(Line(OK, f"item {item}", "exists") if there else
                   Line(MISSING, f"item {item}", "not found in NetSuite", key,
                        item in used_items or bool(keys)))
    if not profile.items and used_items:
        out.append(Line(UNKNOWN, "items", "could not be looked up"))
    return out


def _dates(profile: AccountProfile) -> Line:
    fmt = profile.date_format or "unknown (no transaction to look at)"
    if profile.timezone:
        return Line(OK, "dates", f"raw format {fmt}; time zone {profile.timezone}; every date is "
                    "read through TO_CHAR")
    return Line(UNKNOWN, "dates", f"raw format {fmt}; time zone not known: set NETSUITE_TIMEZONE "
                "(until then the mirror overlaps by an extra hour)", "NETSUITE_TIMEZONE")
