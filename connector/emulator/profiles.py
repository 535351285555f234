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

from connector.emulator.account_defaults import LEGACY
from connector.emulator.options import EmulatorOptions
from connector.emulator.profile_format import PROFILE_KEY, PROFILE_VERSION, profile_overrides

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
__all__ = ["PROFILE_KEY", "PROFILE_VERSION", "VARIANTS", "load_profile", "options_for",
           "profile_overrides"]


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
