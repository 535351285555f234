"""What one NetSuite account offers, as `promosync netsuite check` found it: the account profile.

Public evidence leaves open much of what an account does (which SuiteQL columns exist, whether
batch writes are offered, which `discountType` value means percent, how raw dates look), so
promosync reads the account instead of assuming. A profile holds only facts and no secret; any
fact may be None (not known), and callers then take the safest shape. It is cached in the store
(sync reuses it), written to a file by `--write-profile`, and read back by `emulator serve
--profile` to play the same account.

File format (JSON; unknown keys are ignored, missing ones are unknown):
    {"promosync_profile": 1, "account": "...", "checked_at": "...", "auth": "tba",
     "concurrency": 15,
     "records": {"promotionCode": {"fields": [...], "enums": {...}, "labels": {...}},
                 "couponCode": {"fields": [...]}},
     "discount_type": {"percent": "F", "amount": "T", "source": "metadata"},
     "suiteql": {"<table>": [queryable columns] | [] (no such table) | null (unknown)},
     "dates": {"format": "M/D/YYYY", "timezone": "America/Los_Angeles"},
     "async_batch": true, "generation": {"delay_seconds": 0},
     "forms": {"-10502": true}, "items": {"10": true}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from connector.errors import ConfigError

FORMAT_KEY = "promosync_profile"
FORMAT_VERSION = 1
MEANINGS = ("percent", "amount")


@dataclass(frozen=True)
class AccountProfile:
    """Facts about one account; None = not known."""

    account: str | None = None
    checked_at: str | None = None
    auth: str | None = None
    concurrency: int | None = None
    promotion_fields: frozenset[str] | None = None
    coupon_fields: frozenset[str] | None = None
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    discount_type: dict[str, str] | None = None  # {"percent": value, "amount": value}
    discount_type_source: str | None = None  # metadata | select options | read back | mapping
    suiteql: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    date_format: str | None = None
    timezone: str | None = None
    async_batch: bool | None = None
    generation_delay: float | None = None
    forms: dict[str, bool] = field(default_factory=dict)
    items: dict[str, bool] = field(default_factory=dict)

    # ---- questions the sync asks --------------------------------------------------------

    def column(self, table: str, column: str) -> bool | None:
        """Whether SuiteQL can select `table.column`: True, False, or None (not probed)."""
        cols = self.suiteql.get(table.lower())
        if cols is None:
            return None
        return column.lower() in cols

    def table(self, table: str) -> bool | None:
        """Whether SuiteQL knows `table` at all."""
        cols = self.suiteql.get(table.lower())
        return None if cols is None else bool(cols)

    def with_discount_type(self, values: dict[str, str], source: str) -> AccountProfile:
        return replace(self, discount_type=dict(values), discount_type_source=source)

    # ---- JSON ---------------------------------------------------------------------------

    def as_json(self) -> dict[str, Any]:
        records: dict[str, Any] = {}
        if self.promotion_fields is not None or self.enums or self.labels:
            records["promotionCode"] = {
                "fields": sorted(self.promotion_fields) if self.promotion_fields else None,
                "enums": {k: list(v) for k, v in self.enums.items()},
                "labels": {k: dict(v) for k, v in self.labels.items()}}
        if self.coupon_fields is not None:
            records["couponCode"] = {"fields": sorted(self.coupon_fields)}
        out: dict[str, Any] = {
            FORMAT_KEY: FORMAT_VERSION, "account": self.account, "checked_at": self.checked_at,
            "auth": self.auth, "concurrency": self.concurrency, "records": records,
            "discount_type": ({**self.discount_type, "source": self.discount_type_source}
                              if self.discount_type else None),
            "suiteql": {k: (list(v) if v is not None else None) for k, v in self.suiteql.items()},
            "dates": {"format": self.date_format, "timezone": self.timezone},
            "async_batch": self.async_batch,
            "generation": ({"delay_seconds": self.generation_delay}
                           if self.generation_delay is not None else None),
            "forms": dict(self.forms), "items": dict(self.items)}
        return out

    def dumps(self) -> str:
        return json.dumps(self.as_json(), indent=2, sort_keys=True) + "\n"


def _strings(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of strings")
    return tuple(v.lower() for v in value)


def _bools(value: Any) -> dict[str, bool]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, bool) for v in value.values()):
        raise ValueError("must map ids to true or false")
    return {str(k): bool(v) for k, v in value.items()}


def _dict(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be an object")
    return value


def _field_set(value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise ValueError("fields must be a list")
    return frozenset(str(v) for v in value)


def _discount(data: dict[str, Any]) -> tuple[dict[str, str] | None, str | None]:
    raw = data.get("discount_type")
    if raw is None:
        return None, None
    if not isinstance(raw, dict) or not all(isinstance(raw.get(m), str) and raw.get(m)
                                            for m in MEANINGS):
        raise ValueError("discount_type must give a value for percent and for amount")
    return {m: str(raw[m]) for m in MEANINGS}, str(raw.get("source") or "profile")


def profile_from_json(data: Any) -> AccountProfile:
    """The profile in `data`; ValueError (one line) when it is not one."""
    if not isinstance(data, dict) or data.get(FORMAT_KEY) != FORMAT_VERSION:
        raise ValueError(f"not a promosync account profile (no \"{FORMAT_KEY}\": "
                         f"{FORMAT_VERSION} in it)")
    records = _dict(data, "records")
    promo, coupon = _dict(records, "promotionCode"), _dict(records, "couponCode")
    enums = {str(k): tuple(str(x) for x in v) for k, v in _dict(promo, "enums").items()
             if isinstance(v, list)}
    labels = {str(k): {str(a): str(b) for a, b in v.items()}
              for k, v in _dict(promo, "labels").items() if isinstance(v, dict)}
    discount, source = _discount(data)
    dates, generation = _dict(data, "dates"), _dict(data, "generation")
    concurrency, batch = data.get("concurrency"), data.get("async_batch")
    if concurrency is not None and (isinstance(concurrency, bool)
                                    or not isinstance(concurrency, int) or concurrency < 1):
        raise ValueError("concurrency must be a whole number of at least 1")
    if batch is not None and not isinstance(batch, bool):
        raise ValueError("async_batch must be true, false or null")
    delay = generation.get("delay_seconds")
    return AccountProfile(
        account=_text(data.get("account")), checked_at=_text(data.get("checked_at")),
        auth=_text(data.get("auth")), concurrency=concurrency,
        promotion_fields=_field_set(promo.get("fields")),
        coupon_fields=_field_set(coupon.get("fields")), enums=enums, labels=labels,
        discount_type=discount, discount_type_source=source,
        suiteql={str(k).lower(): _strings(v) for k, v in _dict(data, "suiteql").items()},
        date_format=_text(dates.get("format")), timezone=_text(dates.get("timezone")),
        async_batch=batch,
        generation_delay=float(delay) if isinstance(delay, int | float) else None,
        forms=_bools(data.get("forms")), items=_bools(data.get("items")))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def loads(text: str, where: str = "profile") -> AccountProfile:
    try:
        return profile_from_json(json.loads(text))
    except ValueError as exc:  # json.JSONDecodeError is a ValueError too
        reason = "not JSON" if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise ConfigError(f"{where}: {reason}") from None


def read_profile(path: str | Path) -> AccountProfile:
    """A profile file; one ConfigError line when it cannot be read or is not a profile."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"profile {path}: the file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"profile {path}: cannot read it ({exc})") from None
    return loads(text, f"profile {path}")
