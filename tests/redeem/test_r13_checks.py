"""R13: each check at scan, with its exact message, and the order in which they apply."""

from __future__ import annotations

from datetime import date

import pytest

from connector import catalog
from connector.errors import (
    AlreadyRedeemed,
    AlreadyScanned,
    CodeExpired,
    CodeNotYetValid,
    InvalidFormat,
    NotNormalMode,
    PromotionUnavailable,
    UnknownCode,
    WrongCustomer,
)
from connector.redeem import SETTING_FORMAT, Register
from connector.store import Store
from tests.redeem.conftest import events, make_codes


def _scan_fails(
    register: Register, sale_id: str, code: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        register.scan(sale_id, code)
    assert str(info.value) == message


def test_R13_returns_mode_refused(store: Store, register: Register) -> None:
    code = make_codes(store)[0]
    for mode in ("returns", "transfers"):
        sale = register.open(mode=mode, lines=["A:20"])
        _scan_fails(
            register,
            sale.id,
            code,
            NotNormalMode,
            "Single-use coupons can only be redeemed in Normal mode",
        )


def test_R13_format_su_setting(store: Store, register: Register) -> None:
    store.set_setting(SETTING_FORMAT, "su")
    code = make_codes(store)[0]
    sale = register.open(lines=["A:20"])
    _scan_fails(register, sale.id, "SU-SHORT", InvalidFormat, "Invalid single-use coupon format")
    _scan_fails(register, sale.id, "bad code!", InvalidFormat, "Invalid single-use coupon format")
    assert register.scan(sale.id, code).code == code


def test_R13_format_custom_regex(store: Store, register: Register) -> None:
    store.set_setting(SETTING_FORMAT, r"SU-[A-Z0-9]{16}|WEB-\d{4}")
    sale = register.open(lines=["A:20"])
    _scan_fails(register, sale.id, "WEB-12", InvalidFormat, "Invalid single-use coupon format")
    _scan_fails(register, sale.id, "WEB-1234", UnknownCode, "Invalid coupon code")


def test_R13_unknown_code(store: Store, register: Register) -> None:
    make_codes(store)
    sale = register.open(lines=["A:20"])
    _scan_fails(register, sale.id, "SU-AAAAAAAAAAAAAAAA", UnknownCode, "Invalid coupon code")


def test_R13_deleted_promotion(store: Store, register: Register) -> None:
    code = make_codes(store)[0]
    catalog.delete_promotion(store, "P")
    sale = register.open(lines=["A:20"])
    _scan_fails(
        register,
        sale.id,
        code,
        PromotionUnavailable,
        "This coupon code is not valid. Please contact support.",
    )


def test_R13_same_code_twice_in_one_transaction(store: Store, register: Register) -> None:
    code = make_codes(store)[0]
    sale = register.open(lines=["A:20"])
    register.scan(sale.id, code)
    _scan_fails(
        register, sale.id, code.lower(), AlreadyScanned, "This coupon code has already been scanned"
    )


def test_R13_expired(store: Store, register: Register) -> None:
    code = make_codes(store, expires=date(2026, 3, 9))[0]
    sale = register.open(lines=["A:20"])
    _scan_fails(register, sale.id, code, CodeExpired, "This coupon code has expired")


def test_R13_not_yet_valid(store: Store, register: Register) -> None:
    code = make_codes(store, starts=date(2026, 3, 11))[0]
    sale = register.open(lines=["A:20"])
    _scan_fails(register, sale.id, code, CodeNotYetValid, "this coupon code is not valid yet")


def test_R13_already_redeemed(store: Store, register: Register) -> None:
    code = make_codes(store)[0]
    first = register.open(lines=["A:20"])
    register.scan(first.id, code)
    register.pay(first.id)
    sale = register.open(lines=["A:20"])
    _scan_fails(
        register, sale.id, code, AlreadyRedeemed, "This coupon code has already been redeemed"
    )


def test_R13_bound_code_other_or_no_customer(
    store: Store, register: Register, customers: list[str]
) -> None:
    code = make_codes(store, customers=["ALICE"])[0]
    message = "This coupon is not valid for this customer"
    _scan_fails(register, register.open(lines=["A:20"]).id, code, WrongCustomer, message)
    _scan_fails(
        register, register.open(customer="BOB", lines=["A:20"]).id, code, WrongCustomer, message
    )
    assert register.scan(register.open(customer="alice", lines=["A:20"]).id, code).code == code


def test_R13_group_customer_restriction(
    store: Store, register: Register, customers: list[str]
) -> None:
    catalog.create_group(store, name="VIP", customers=["ALICE"])
    code = make_codes(store, group="VIP")[0]
    _scan_fails(
        register,
        register.open(customer="BOB").id,
        code,
        WrongCustomer,
        "This coupon is not valid for this customer",
    )
    assert register.scan(register.open(customer="ALICE").id, code).code == code


def test_R13_order_of_checks(store: Store, register: Register, customers: list[str]) -> None:
    """A code failing every later check reports the earliest one, step by step, under a custom
    code format (which the server functions leave to Python: test_rule_order.py holds the
    server functions' own order to the table of rules)."""
    store.set_setting(SETTING_FORMAT, r"SU-[A-Z0-9]{16}")
    expired_bound = make_codes(store, customers=["ALICE"], expires=date(2026, 3, 1))[0]
    returns = register.open(mode="returns", customer="BOB")
    _scan_fails(register, returns.id, "nonsense", NotNormalMode, NotNormalMode.message)
    sale = register.open(customer="BOB")
    _scan_fails(register, sale.id, "nonsense", InvalidFormat, InvalidFormat.message)
    _scan_fails(register, sale.id, "SU-ZZZZZZZZZZZZZZZZ", UnknownCode, UnknownCode.message)
    # expired and bound to another customer: expiry comes first
    _scan_fails(register, sale.id, expired_bound, CodeExpired, CodeExpired.message)
    used_bound = make_codes(store, customers=["ALICE"])[0]
    paid = register.open(customer="ALICE", lines=["A:20"])
    register.scan(paid.id, used_bound)
    register.pay(paid.id)
    # used and bound to another customer: "redeemed" comes before "customer"
    _scan_fails(register, sale.id, used_bound, AlreadyRedeemed, AlreadyRedeemed.message)
    catalog.delete_promotion(store, "P")
    # deleted promotion comes before expiry
    _scan_fails(
        register, sale.id, expired_bound, PromotionUnavailable, PromotionUnavailable.message
    )


def test_R13_refusals_are_in_the_code_history(store: Store, register: Register) -> None:
    code = make_codes(store, expires=date(2026, 3, 1))[0]
    sale = register.open()
    with pytest.raises(CodeExpired):
        register.scan(sale.id, code)
    assert events(store, code) == [("refused", sale.id)]
