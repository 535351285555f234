"""The refusals of redemption in one table: R13's checks in the order they apply, then the
reasons a held code is lost at payment (R14).

Each refusal has a key, the error it raises (whose message is the rule's text) and, where
several refusals share one message, the detail that tells them apart. The Python checks
(checks.py, holds.py, pay.py) raise through `refused`; the PostgreSQL server functions
(store/redeem_functions.sql) reply with the key, and server_functions.py turns it into the same
error; tests/redeem/test_rule_order.py holds both paths, and the order the SQL tests the rules
in, to this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.errors import (
    AlreadyRedeemed,
    AlreadyScanned,
    CodeExpired,
    CodeNotYetValid,
    InvalidFormat,
    NoLongerValid,
    NotNormalMode,
    PromotionUnavailable,
    RedemptionError,
    SingleUseDisabled,
    UnknownCode,
    WrongCustomer,
)


@dataclass(frozen=True)
class Rule:
    """One refusal: its key, its error, and the detail it adds to the error's message."""

    key: str
    error: type[RedemptionError]
    detail: str | None = None


# R13, in order: the first rule a code fails is the one a scan answers with.
R13: tuple[Rule, ...] = (
    Rule("mode", NotNormalMode),  # the transaction is a return or a transfer
    Rule("format", InvalidFormat),
    Rule("unknown", UnknownCode),
    Rule("single_use_off", SingleUseDisabled),  # R19
    Rule("promotion", PromotionUnavailable),  # missing or deleted
    Rule("scanned", AlreadyScanned),  # already on this transaction (scan only)
    Rule("expired", CodeExpired),
    Rule("not_yet_valid", CodeNotYetValid),
    Rule("used", AlreadyRedeemed),  # detail: the code's state
    Rule("group_limit", AlreadyRedeemed, "the group's usage limit is reached"),
    Rule("customer_limit", AlreadyRedeemed, "the per-customer limit is reached"),
    Rule("group_customer_limit", AlreadyRedeemed, "the group's per-customer limit is reached"),
    Rule("other_customer", WrongCustomer),  # bound to another customer, or to one and none given
    Rule("needs_customer", WrongCustomer, "a per-customer limit needs a customer"),
    Rule("group_customers", WrongCustomer, "the group is for other customers"),
    Rule("promotion_customers", WrongCustomer, "the promotion is for other customers"),
)

# R14: a held code lost at payment for a reason of its own (any R13 rule it fails again is
# the other reason).
R14: tuple[Rule, ...] = (
    Rule("hold_expired", NoLongerValid, "its hold expired"),
    Rule("taken", NoLongerValid, "used up, expired or voided meanwhile"),  # its counter refused
)

RULES: dict[str, Rule] = {rule.key: rule for rule in R13 + R14}


def refused(key: str, code: str | None = None, *, detail: str | None = None) -> RedemptionError:
    """The error of the R13 rule `key` for `code`; `detail` for a rule without one of its own
    (a used code's state). The mode is the transaction's: that refusal names no code."""
    rule = RULES[key]
    if rule.error is NotNormalMode:
        return NotNormalMode()
    return rule.error(code, detail=rule.detail or detail)


def lost(key: str, code: str) -> NoLongerValid:
    """R14: the held `code` is no longer valid at payment because it fails rule `key` now. The
    detail is an R14 reason's own, or the R13 rule's message (what a scan would say now)."""
    rule = RULES[key]
    return NoLongerValid(code, detail=rule.detail if rule in R14 else rule.error.message)


def limit_reached(key: str, code: str) -> NoLongerValid:
    """R14: a counter of the held `code` refused at payment; the detail names it (rule `key`:
    taken, or a usage limit)."""
    return NoLongerValid(code, detail=RULES[key].detail)
