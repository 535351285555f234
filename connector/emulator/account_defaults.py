"""The two sets of defaults the emulator's settings come from, as plain data.

`EVIDENCE`: the account as public evidence shows it (December 2026). `LEGACY`: the emulator's
defaults before that evidence (every column queryable, UTC text dates, no body checks).
`PROMOTION_FORMS`: the form ids of the promotion types (Oracle,
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_76112913770.html).
`options.py` builds `EmulatorOptions` on them and `profile_format.py` reads account profiles
over them; this module imports nothing of the emulator.
"""

from __future__ import annotations

from typing import Any

# The account as public evidence shows it (December 2026). Each key names the behaviour; the
# comments on the EmulatorOptions fields say which public evidence each one plays.
EVIDENCE: dict[str, Any] = {
    "suiteql_hidden_columns": frozenset({"promotioncode.customform",
                                         "couponcode.lastmodifieddate"}),
    "couponcode_used_in_suiteql": False,
    "tranpromotion_queryable": True,
    "date_format": "M/D/YYYY",
    "timezone": "America/Los_Angeles",
    "discount_type_values": {"percent": "F", "amount": "T"},
    "discount_type_labels": {"percent": "Percent", "amount": "Flat"},
    "async_batch_max_items": 100,
    "strict_body_fields": True,
    "strict_external_ids": True,
    "sales_order_requires_lines": True,
}
# The emulator's defaults before the evidence of December 2026 (same keys).
LEGACY: dict[str, Any] = {
    "suiteql_hidden_columns": frozenset(),
    "couponcode_used_in_suiteql": True,
    "tranpromotion_queryable": True,
    "date_format": None,
    "timezone": "UTC",
    "discount_type_values": {"percent": "F", "amount": "T"},
    "discount_type_labels": None,
    "async_batch_max_items": 1000,
    "strict_body_fields": False,
    "strict_external_ids": False,
    "sales_order_requires_lines": False,
}
PROMOTION_FORMS: frozenset[int] = frozenset({-10501, -10502, -10503, -10504, -10507})
