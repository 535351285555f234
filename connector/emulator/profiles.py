"""Which NetSuite account the emulator plays: named variants for tests, and account profiles.

`VARIANTS` names the plausible accounts public evidence leaves open, as overrides of
`EmulatorOptions.evidence_default()`; `options_for(name)` builds one, e.g. for a pytest
parameter. `profile_overrides(data)` / `load_profile(path)` read an account profile (written by
`promosync netsuite check --write-profile FILE`) and play that account:

    {"promosync_profile": 1, "concurrency": 15,
     "records": {"promotionCode": {"labels": {"discountType": {"F": "Percent", "T": "Flat"}}}},
     "discount_type": {"percent": "F", "amount": "T", "source": "metadata"},
     "suiteql": {"couponcode": ["id", "code", "promotion"], "tranpromotion": []},
     "dates": {"format": "M/D/YYYY", "timezone": "America/Los_Angeles"},
     "async_batch": true, "generation": {"delay_seconds": 0}, "forms": {"-10502": true}}

Unknown keys are ignored; a missing or null key plays the evidence default. `suiteql.<table>`
lists the queryable columns (the emulator's other columns of that table are hidden); `[]` means
the table is not queryable at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connector.emulator.dates import zone
from connector.emulator.db import HIDDEN_COLUMNS, schema_columns
from connector.emulator.options import EVIDENCE, LEGACY, EmulatorOptions

# Plausible accounts, as overrides of the evidence default.
VARIANTS: dict[str, dict[str, Any]] = {
    "evidence": {},
    "used_in_suiteql": {"couponcode_used_in_suiteql": True},
    "t_is_percent": {"discount_type_values": {"percent": "T", "amount": "F"}},
    "percent_flat": {"discount_type_values": {"percent": "percent", "amount": "flat"}},
    "labels_in_metadata": {"discount_labels_in_metadata": True, "select_options_offered": True},
    "slow_generation": {"generation_delay_seconds": 1.5},
    "no_async_batch": {"async_batch_offered": False},
    "no_tranpromotion": {"tranpromotion_queryable": False},
    "iso_dates": {"date_format": "YYYY-MM-DD", "timezone": "UTC"},
    # The emulator's defaults before the evidence of December 2026 (all columns queryable,
    # UTC stored text for dates, no body or external-id checks, 1,000 records per batch).
    "legacy": dict(LEGACY),
}
PROFILE_KEY = "promosync_profile"
PROFILE_VERSION = 1


def options_for(variant: str, **overrides: Any) -> EmulatorOptions:
    """The options of a named variant (see VARIANTS), with `overrides` on top."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown emulator variant {variant!r}; one of: "
                         + ", ".join(sorted(VARIANTS)))
    return EmulatorOptions.evidence_default(**{**VARIANTS[variant], **overrides})


def load_profile(path: str | Path, **overrides: Any) -> EmulatorOptions:
    """The options playing the account profile in file `path`; ValueError (one line naming
    the file) when it cannot be read or is not a profile."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not an account profile (not JSON: {exc.msg} at line "
                         f"{exc.lineno})") from None
    try:
        return EmulatorOptions.from_profile(data, **overrides)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


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
    default: frozenset[int] = EmulatorOptions().allowed_custom_forms
    return frozenset(f for f in default if marked.get(f) is not False)
