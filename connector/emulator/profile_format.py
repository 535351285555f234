"""An account profile file, read into `EmulatorOptions` fields over the evidence default.

The format (`promosync netsuite check --write-profile FILE` writes it; `profiles.py` describes
it and plays it) is one JSON object with `"promosync_profile": 1`. `profile_overrides(data)`
checks it and returns the option fields it sets; ValueError (one line) when it is not a
profile. Nothing here builds options: `EmulatorOptions.from_profile` does, on top of this.
"""

from __future__ import annotations

from typing import Any

from connector.emulator.account_defaults import EVIDENCE, PROMOTION_FORMS
from connector.emulator.dates import zone
from connector.emulator.db import HIDDEN_COLUMNS, schema_columns

PROFILE_KEY = "promosync_profile"
PROFILE_VERSION = 1


def profile_overrides(data: Any) -> dict[str, Any]:
    """EmulatorOptions fields (over the evidence default) for an account-profile object."""
    if not isinstance(data, dict) or data.get(PROFILE_KEY) != PROFILE_VERSION:
        raise ValueError(f'not an account profile (no "{PROFILE_KEY}": {PROFILE_VERSION} in it)')
    out: dict[str, Any] = {}
    out.update(_suiteql(_object(data, "suiteql")))
    out.update(_discount(data))
    dates = _object(data, "dates")
    if dates.get("format") is not None:
        out["date_format"] = _text(dates["format"], "dates.format")
    if dates.get("timezone") is not None:
        out["timezone"] = _text(dates["timezone"], "dates.timezone")
        zone(out["timezone"])
    batch = data.get("async_batch")
    if batch is not None:
        if not isinstance(batch, bool):
            raise ValueError("async_batch must be true, false or null")
        out["async_batch_offered"] = batch
    concurrency = data.get("concurrency")
    if concurrency is not None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError("concurrency must be a whole number of at least 1")
        out["account_concurrency_limit"] = out["concurrency_limit"] = concurrency
    delay = _object(data, "generation").get("delay_seconds")
    if delay is not None:
        if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
            raise ValueError("generation.delay_seconds must be a number of seconds, 0 or more")
        out["generation_delay_seconds"] = float(delay)
    forms = _forms(data.get("forms"))
    if forms is not None:
        out["allowed_custom_forms"] = forms
    return out


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be an object or null")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where} must be a non-empty string or null")
    return value.strip()


def _suiteql(tables: dict[str, Any]) -> dict[str, Any]:
    """Hidden columns and tables for the tables the profile lists (others: evidence)."""
    known = schema_columns()
    hidden = set(EVIDENCE["suiteql_hidden_columns"])
    hidden_tables: set[str] = set()
    out: dict[str, Any] = {}
    for raw, cols in tables.items():
        table = str(raw).lower()
        if cols is None or table not in known:
            continue
        if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
            raise ValueError(f"suiteql.{raw} must be a list of column names or null")
        hidden = {h for h in hidden if not h.startswith(table + ".")}
        listed = {c.lower() for c in cols}
        if table == "tranpromotion":
            out["tranpromotion_queryable"] = bool(listed)
        elif not listed:
            hidden_tables.add(table)
        if table == "couponcode":
            out["couponcode_used_in_suiteql"] = "used" in listed
        if listed:
            hidden |= {f"{table}.{c}" for c in known[table]
                       if c not in listed and c not in HIDDEN_COLUMNS}
    out["suiteql_hidden_columns"] = frozenset(hidden)
    out["suiteql_hidden_tables"] = frozenset(hidden_tables)
    return out


def _discount(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    raw = data.get("discount_type")
    values = dict(EVIDENCE["discount_type_values"])
    if raw is not None:
        if not isinstance(raw, dict) or not all(isinstance(raw.get(m), str) and raw.get(m)
                                                for m in ("percent", "amount")):
            raise ValueError("discount_type must give a value for percent and for amount")
        values = {"percent": str(raw["percent"]), "amount": str(raw["amount"])}
        if values["percent"] == values["amount"]:
            raise ValueError("discount_type gives percent and amount the same value")
        out["discount_type_values"] = values
    promo = _object(_object(data, "records"), "promotionCode")
    labels = _object(promo, "labels").get("discountType")
    if labels is None:
        return out
    if not isinstance(labels, dict):
        raise ValueError("records.promotionCode.labels.discountType must map values to labels")
    shown = {m: str(labels[v]) for m, v in values.items() if v in labels}
    out["discount_type_labels"] = {**EVIDENCE["discount_type_labels"], **shown}
    source = raw.get("source") if isinstance(raw, dict) else None
    if source == "select options":
        out["select_options_offered"] = True
    else:
        out["discount_labels_in_metadata"] = True
    return out


def _forms(raw: Any) -> frozenset[int] | None:
    """Forms marked true; the default forms minus those marked false when none is true."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(isinstance(v, bool) for v in raw.values()):
        raise ValueError("forms must map form ids to true or false")
    try:
        marked = {int(str(k)): bool(v) for k, v in raw.items()}
    except ValueError:
        raise ValueError("forms must map form ids (whole numbers such as -10502) to true or "
                         "false") from None
    chosen = frozenset(k for k, v in marked.items() if v)
    if chosen:
        return chosen
    return frozenset(f for f in PROMOTION_FORMS if marked.get(f) is not False)
