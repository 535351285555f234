"""R13: `Register.check`, the dry run of a scan (what `POST /v1/validate` answers with), refuses
with the rule, message and detail a scan of the code onto a new transaction with the same cart
would, for every rule a code can fail without a transaction ("already scanned" needs one), on
SQLite, on PostgreSQL through its server functions and on PostgreSQL in Python; it gives that
scan's discount, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from connector.errors import InputError, RedemptionError
from connector.redeem import SETTING_FORMAT, Register
from connector.store import Store
from connector.store import schema as s
from tests.redeem.conftest import Clock, make_codes, use_count
from tests.redeem.test_rule_order import (
    SCAN_CASES,
    _assert_refused_by,
    _later,
    breaking,
    customer_ids,
    make_code,
    settle,
)

CART = ["A:20"]
CHECK_CASES = [(key, text) for key, text in SCAN_CASES if key != "scanned"]


def _refusal(call: Callable[[], Any]) -> tuple[Any, ...]:
    with pytest.raises(RedemptionError) as refused:
        call()
    error = refused.value
    return type(error), str(error), error.message, error.detail, error.code


def _written(store: Store) -> tuple[Any, ...]:
    """Rows of every table a scan, a payment or a refusal writes to."""
    tables = (s.sales, s.sale_codes, s.code_events, s.code_customer_uses,
              s.group_customer_uses)
    with store.read() as conn:
        counts = [conn.scalar(select(func.count()).select_from(t)) for t in tables]
        used = conn.scalar(select(func.coalesce(func.sum(s.codes.c.use_count), 0)))
    return (*counts, used)


@pytest.mark.parametrize(
    "key, text", CHECK_CASES, ids=[f"{k}-{'text' if t else 'code'}" for k, t in CHECK_CASES]
)
def test_R13_check_refuses_by_the_rule_and_message_a_scan_would(
    store: Store, make_register: Callable[..., Register], clock: Clock, key: str, text: str | None
) -> None:
    ids = customer_ids(store)
    made = make_code(store)
    register = make_register(clock=clock)
    customer = None if key == "needs_customer" else "ALICE"
    state = breaking(_later(key) - {"scanned"})
    sale = register.open(customer=customer, mode=state.mode, lines=CART)
    if text is None:
        settle(store, ids, made, state, sale.id)
    written = _written(store)
    checked = _refusal(lambda: register.check(text or made.text, customer=customer,
                                              mode=state.mode, lines=CART))
    assert _written(store) == written, "a check writes nothing"
    scanned = _refusal(lambda: register.scan(sale.id, text or made.text))
    with pytest.raises(RedemptionError) as again:
        register.check(text or made.text, customer=customer, mode=state.mode, lines=CART)
    _assert_refused_by(again.value, key)
    assert checked == scanned


PROMOTIONS = [
    ("order", {"rate": 10}),
    ("order", {"rate": 15, "percent": True, "min_order": 30}),
    ("shipping", {"rate": 4}),
    ("item", {"rate": 25, "percent": True, "items": ["SHIRT", "HÜT"]}),
    ("fixed_price", {"rate": 5, "items": ["SHIRT"]}),
    ("free_gift", {"rate": 0, "discount_item": "PIN"}),
]
CARTS = [
    ["SHIRT:40.00", "PIN:3.50"],
    ["SHIRT:90.00:3", "hüt:12.00"],
    ["PIN:2.00"],
    [],
]


@pytest.mark.parametrize("kind, terms", PROMOTIONS, ids=[f"{k}-{i}" for i, (k, _t) in
                                                          enumerate(PROMOTIONS)])
def test_R16_check_gives_the_discount_and_answer_a_scan_shows(
    store: Store, make_register: Callable[..., Register], clock: Clock, kind: str,
    terms: dict[str, Any]
) -> None:
    register = make_register(clock=clock)
    codes = make_codes(store, f"P-{kind}-{len(terms)}", count=len(CARTS) * 2, kind=kind,
                       **terms)
    for n, cart in enumerate(CARTS):
        for code, shipping in zip(codes[2 * n:2 * n + 2], ("0", "6.95"), strict=True):
            checked = register.check(code.lower(), lines=cart, shipping=shipping)
            sale = register.open(lines=cart, shipping=shipping)
            held = register.scan(sale.id, code)
            assert (checked.code, checked.promotion, checked.discount, checked.override,
                    checked.expires_on) == (held.code, held.promotion, held.discount,
                                            held.override, held.expires_on), (cart, shipping)


def test_R13_check_of_a_good_code_holds_nothing_and_leaves_it_free(
    store: Store, register: Register
) -> None:
    code = make_codes(store, count=1)[0]
    written = _written(store)
    assert register.check(code, lines=CART).discount == 10
    assert _written(store) == written
    sale = register.open(lines=CART)
    register.scan(sale.id, code)
    register.pay(sale.id)
    assert use_count(store, code) == 1
    assert _refusal(lambda: register.check(code, lines=CART))[0].__name__ == "AlreadyRedeemed"


def test_R13_check_with_a_custom_format_and_bad_input_answers_as_open_and_scan_do(
    store: Store, register: Register
) -> None:
    code = make_codes(store, count=1)[0]
    store.set_setting(SETTING_FORMAT, "^SU-[A-Z0-9]+$|^[A-Z0-9]{6,}$")
    sale = register.open(lines=CART)
    assert _refusal(lambda: register.check("AB-1", lines=CART)) == \
        _refusal(lambda: register.scan(sale.id, "AB-1"))
    assert register.check(code, lines=CART).code == code
    for bad in ({"customer": "NOBODY"}, {"mode": "layaway"}, {"lines": ["A:-1"]},
                {"shipping": "x"}):
        with pytest.raises(InputError) as opening:
            register.open(**bad)
        with pytest.raises(InputError) as checking:
            register.check(code, **bad)
        assert str(checking.value) == str(opening.value)


def test_R13_postgresql_checks_in_one_statement_of_the_server_functions(
    pg_store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL register checks through the server functions, not the Python path, except
    where a NUL character leaves it to Python."""
    from connector.redeem import dry_run

    code = make_codes(pg_store, count=1)[0]
    register = Register(pg_store, clock=clock)
    python_path = dry_run.check
    taken: list[str] = []

    def watched(*args: Any, **kwargs: Any) -> Any:
        taken.append(args[1])
        return python_path(*args, **kwargs)

    monkeypatch.setattr(dry_run, "check", watched)
    assert register.check(code, lines=CART).discount == 10
    assert _refusal(lambda: register.check("NO-SUCH-CODE", lines=CART))[0].__name__ == \
        "UnknownCode"
    assert taken == []
    assert _refusal(lambda: register.check("A\x00B", lines=CART))[0].__name__ == "InvalidFormat"
    assert taken == ["A\x00B"]
