"""R14 (check again and commit at payment), R15-R19, R4, discounts, bad input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connector import catalog, history
from connector.errors import (
    AlreadyRedeemed,
    InputError,
    NoLongerValid,
    SingleUseDisabled,
    StoreOffline,
)
from connector.generate import SETTING_AUTO_APPLY, SETTING_SINGLE_USE
from connector.redeem import Register
from connector.store import Store, engine_for
from tests.redeem.conftest import Clock, events, make_codes, use_count


def test_R14_two_registers_scan_one_pays_other_no_longer_valid(
    store: Store, clock: Clock, make_register: Callable[..., Register]
) -> None:
    code = make_codes(store)[0]
    a, b = make_register(clock=clock, name="till-1"), make_register(clock=clock, name="till-2")
    sale_a, sale_b = a.open(lines=["A:30"]), b.open(lines=["A:30"])
    a.scan(sale_a.id, code)
    b.scan(sale_b.id, code)  # holds are not exclusive: payment decides
    assert a.pay(sale_a.id).outcomes[0].outcome == "redeemed"
    with pytest.raises(NoLongerValid) as info:
        b.pay(sale_b.id)
    assert str(info.value) == "Coupon is no longer valid. Remove it and try again."
    assert info.value.code == code
    assert b.show(sale_b.id).state == "open"  # nothing of the failed payment was kept
    b.remove(sale_b.id, code)
    assert b.pay(sale_b.id).discount == Decimal("0.00")
    assert use_count(store, code) == 1
    assert events(store, code, "redeemed") == [("redeemed", sale_a.id)]
    assert ("refused", sale_b.id) in events(store, code)


def test_R14_expiry_between_scan_and_pay(store: Store, register: Register, clock: Clock) -> None:
    code = make_codes(store, expires=date(2026, 3, 10))[0]
    clock.now = datetime(2026, 3, 10, 23, 55, tzinfo=UTC)
    sale = register.open(lines=["A:30"])
    register.scan(sale.id, code)
    clock.now = datetime(2026, 3, 11, 0, 1, tzinfo=UTC)
    with pytest.raises(NoLongerValid):
        register.pay(sale.id)
    assert use_count(store, code) == 0


def test_R14_one_loser_rolls_back_the_whole_payment(
    store: Store, clock: Clock, make_register: Callable[..., Register]
) -> None:
    first, second = make_codes(store, count=2)
    a, b = make_register(clock=clock), make_register(clock=clock)
    sale = a.open(lines=["A:100"])
    a.scan(sale.id, first)
    a.scan(sale.id, second)
    other = b.open(lines=["A:100"])
    b.scan(other.id, second)
    b.pay(other.id)
    with pytest.raises(NoLongerValid) as info:
        a.pay(sale.id)
    assert info.value.code == second
    assert use_count(store, first) == 0  # the winner of the pair was rolled back too


def test_R14_hold_expires_and_is_released(
    store: Store, clock: Clock, make_register: Callable[..., Register]
) -> None:
    code = make_codes(store)[0]
    register = make_register(clock=clock, hold_minutes=5)
    sale = register.open(lines=["A:30"])
    register.scan(sale.id, code)
    clock.advance(minutes=6)
    assert register.show(sale.id).codes[0].state == "expired"
    assert register.release_expired() == 1
    assert ("released", sale.id) in events(store, code)
    with pytest.raises(NoLongerValid):
        register.pay(sale.id)
    register.remove(sale.id, code)
    register.scan(sale.id, code)
    assert register.pay(sale.id).outcomes[0].outcome == "redeemed"


def test_R14_pay_twice_and_unknown_transaction(store: Store, register: Register) -> None:
    code = make_codes(store)[0]
    sale = register.open(lines=["A:30"])
    register.scan(sale.id, code)
    register.pay(sale.id)
    with pytest.raises(InputError, match="already paid"):
        register.pay(sale.id)
    with pytest.raises(InputError, match="already paid"):
        register.scan(sale.id, make_codes(store)[0])
    assert use_count(store, code) == 1
    with pytest.raises(InputError, match="unknown transaction"):
        register.pay("TXN-NOPE")


def test_R3_code_normalised_case_and_spaces(store: Store, register: Register) -> None:
    code = make_codes(store)[0]
    sale = register.open(lines=["A:30"])
    assert register.scan(sale.id, f"  {code.lower()} \t").code == code


def test_R15_stack_and_customer_change_clears(
    store: Store, register: Register, customers: list[str]
) -> None:
    first, second = make_codes(store, count=2)
    sale = register.open(customer="ALICE", lines=["A:50"])
    register.scan(sale.id, first)
    register.scan(sale.id, second)
    assert register.show(sale.id).discount == Decimal("20.00")
    change = register.set_customer(sale.id, "BOB")
    assert set(change.removed) == {first, second}
    assert register.show(sale.id).codes == ()
    register.scan(sale.id, first)
    assert register.set_customer(sale.id, None).removed == (first,)


def test_R15_customer_code_too_long(store: Store, register: Register) -> None:
    with pytest.raises(InputError, match="longer than 8"):
        register.open(customer="CUSTOMER9")
    sale = register.open()
    with pytest.raises(InputError, match="longer than 8"):
        register.set_customer(sale.id, "CUSTOMER9")
    with pytest.raises(InputError, match="unknown customer"):
        register.set_customer(sale.id, "NOBODY")


def test_R16_zero_discount_is_not_used(store: Store, register: Register) -> None:
    code = make_codes(store, kind="item", rate=5, items=["SHOES"])[0]
    sale = register.open(lines=["HAT:20"])
    assert register.scan(sale.id, code).discount == Decimal("0.00")
    payment = register.pay(sale.id)
    assert payment.outcomes[0].outcome == "not used"
    assert use_count(store, code) == 0
    again = register.open(lines=["SHOES:60"])
    assert register.scan(again.id, code).discount == Decimal("5.00")
    assert register.pay(again.id).outcomes[0].outcome == "redeemed"


def test_R17_auto_apply_bound_codes(store: Store, register: Register, customers: list[str]) -> None:
    alice = make_codes(store, customers=["ALICE"])[0]
    assert register.open(customer="ALICE").codes == ()  # off by default
    store.set_setting(SETTING_AUTO_APPLY, "on")
    sale = register.open(lines=["A:40"])
    change = register.set_customer(sale.id, "ALICE")
    assert change.applied == (alice,)
    assert register.show(sale.id).codes[0].auto is True
    assert register.set_customer(sale.id, "BOB").removed == (alice,)


def test_R17_auto_apply_on_open_shows_the_codes(
    store: Store, register: Register, customers: list[str]
) -> None:
    alice = make_codes(store, customers=["ALICE"])[0]
    store.set_setting(SETTING_AUTO_APPLY, "on")
    sale = register.open(customer="ALICE", lines=["A:40"])
    assert [(c.code, c.state, c.auto) for c in sale.codes] == [(alice, "held", True)]
    assert register.show(sale.id).codes == sale.codes
    assert register.pay(sale.id).outcomes[0].outcome == "redeemed"


def test_R18_cancel_after_payment_keeps_code_used(store: Store, register: Register) -> None:
    code, other = make_codes(store, count=2)
    sale = register.open(lines=["A:40"])
    register.scan(sale.id, code)
    register.pay(sale.id)
    assert register.cancel(sale.id).state == "cancelled"
    with pytest.raises(AlreadyRedeemed):
        register.scan(register.open().id, code)
    assert ("cancelled", sale.id) in events(store, code)
    open_sale = register.open(lines=["A:40"])
    register.scan(open_sale.id, other)
    register.cancel(open_sale.id)
    assert use_count(store, other) == 0
    with pytest.raises(InputError, match="cancelled"):
        register.cancel(open_sale.id)


def test_R19_single_use_off_refuses(store: Store, register: Register) -> None:
    code = make_codes(store)[0]
    sale = register.open(lines=["A:40"])
    register.scan(sale.id, code)
    store.set_setting(SETTING_SINGLE_USE, "off")
    with pytest.raises(NoLongerValid):
        register.pay(sale.id)
    with pytest.raises(SingleUseDisabled):
        register.scan(register.open().id, code)


def test_R4_expiry_end_of_day_in_store_zone(
    store: Store, make_register: Callable[..., Register]
) -> None:
    code = make_codes(store, expires=date(2026, 3, 15))[0]
    clock = Clock(datetime(2026, 3, 15, 22, 30, tzinfo=UTC))  # 16 March 09:30 in Sydney
    sydney = make_register(clock=clock, timezone="Australia/Sydney")
    with pytest.raises(Exception, match="expired"):
        sydney.scan(sydney.open().id, code)
    clock.now = datetime(2026, 3, 15, 12, 59, tzinfo=UTC)  # 15 March 23:59 in Sydney
    sale = sydney.open(lines=["A:20"])
    sydney.scan(sale.id, code)
    assert sydney.pay(sale.id).outcomes[0].outcome == "redeemed"
    late = make_codes(store, expires=date(2026, 3, 15))[0]
    clock.now = datetime(2026, 3, 16, 3, 0, tzinfo=UTC)  # still 15 March 20:00 in Los Angeles
    la = make_register(clock=clock, timezone="America/Los_Angeles")
    assert la.scan(la.open().id, late).code == late


def test_R2_group_dates_inherited(store: Store, register: Register) -> None:
    catalog.create_group(store, name="March", start=date(2026, 3, 1), end=date(2026, 3, 5))
    inherited = make_codes(store, group="March")[0]
    own = make_codes(store, group="March", expires=date(2026, 3, 31))[0]
    sale = register.open(lines=["A:20"])
    with pytest.raises(Exception, match="expired"):
        register.scan(sale.id, inherited)
    assert register.scan(sale.id, own).code == own


def test_R2_a_held_code_shows_its_groups_end_date(
    store: Store, register: Register, clock: Clock
) -> None:
    """Scanned first or after other codes, a code without dates of its own shows its group's
    end date as its expiry."""
    catalog.create_group(store, name="April", end=date(2026, 4, 30))
    first, second = make_codes(store, "Grouped", count=2, group="April")
    other = make_codes(store, "Plain", count=1)[0]
    alone = register.open(lines=["A:20"])
    assert register.scan(alone.id, first).expires_on == date(2026, 4, 30)
    after = register.open(lines=["A:20"])
    register.scan(after.id, other)
    held = register.scan(after.id, second)
    assert held.expires_on == date(2026, 4, 30)
    assert [c.expires_on for c in register.show(after.id).codes] == [None, date(2026, 4, 30)]


def test_R16_discount_kinds_and_override(store: Store, register: Register) -> None:
    order = make_codes(store, "Order10", count=1, rate=10, percent=True, min_order=50)[0]
    ship = make_codes(store, "Ship", count=1, kind="shipping", rate=100, percent=True)[0]
    fixed = make_codes(store, "Fixed", count=1, kind="fixed_price", rate=15, items=["SHIRT"])[0]
    gift = make_codes(store, "Gift", count=1, kind="free_gift", rate=0, discount_item="MUG")[0]
    override = make_codes(
        store,
        "Item",
        count=1,
        kind="item",
        rate=50,
        percent=True,
        items=["SHIRT"],
        amount=Decimal("7"),
    )[0]
    sale = register.open(lines=["SHIRT:50:2", "MUG:12"], shipping="4.95")
    given = {c: register.scan(sale.id, c).discount for c in (order, ship, fixed, gift, override)}
    assert given == {
        order: Decimal("6.20"),
        ship: Decimal("4.95"),
        fixed: Decimal("20.00"),
        gift: Decimal("12.00"),
        override: Decimal("7.00"),
    }
    small = register.open(lines=["SHIRT:20"])
    assert (
        register.scan(small.id, make_codes(store, "Order10", count=1)[0]).discount == 0
    )  # min order


def test_R13_offline_store(store: Store) -> None:
    down = Store(engine_for("postgresql://nobody@127.0.0.1:9/none", pool_pre_ping=False))
    register = Register(down)
    with pytest.raises(StoreOffline) as info:
        register.open()
    assert str(info.value) == "Single-use coupons require an online connection"
    with pytest.raises(StoreOffline):
        register.scan("TXN-1", "SU-AAAAAAAAAAAAAAAA")
    down.close()


def test_R3_history_shows_who_used_it(
    store: Store, register: Register, customers: list[str]
) -> None:
    code = make_codes(store)[0]
    sale = register.open(customer="CAROL", lines=["A:20"])
    register.scan(sale.id, code)
    register.pay(sale.id)
    _, trail = history.code_history(store, code)
    redeemed = [e for e in trail if e.kind == "redeemed"]
    assert len(redeemed) == 1
    assert (redeemed[0].transaction, redeemed[0].customer, redeemed[0].source) == (
        sale.id,
        "CAROL",
        "local",
    )
