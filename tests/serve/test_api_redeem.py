"""R41: the HTTP API redeems with the rules, messages and history of `Register` (R13-R18),
and answers R13/R14 refusals with 4xx JSON carrying the rule id and the exact message."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from connector import code_history, delete_promotion
from connector.errors import (
    AlreadyRedeemed,
    AlreadyScanned,
    CodeExpired,
    InvalidFormat,
    NoLongerValid,
    NotNormalMode,
    PromotionUnavailable,
    UnknownCode,
    WrongCustomer,
)
from connector.serve.api import ENDPOINTS
from tests.serve.conftest import Served, start

CART = {"lines": [{"item": "SHIRT", "amount": "40.00"}]}


def _open(served: Served, **body: Any) -> str:
    answer = served.call("POST", "/v1/transactions", json={**CART, **body})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _scan(served: Served, sale: str, code: str) -> Any:
    return served.call("POST", f"/v1/transactions/{sale}/codes", json={"code": code})


def _refusal(answer: Any, status: int, rule: str, message: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert (error["rule"], error["message"]) == (rule, message)
    assert "Traceback" not in answer.text


def test_R41_scan_and_pay_over_http_as_register_does(served: Served) -> None:
    code = served.codes(count=1)[0]
    sale = _open(served)
    held = _scan(served, sale, code.lower())  # normalised like Register.scan
    assert held.status_code == 201 and held.json()["code"] == code
    assert held.json()["discount"] == "5.00"
    paid = served.call("POST", f"/v1/transactions/{sale}/pay")
    assert paid.status_code == 200, paid.text
    assert paid.json()["outcomes"] == [
        {"code": code, "outcome": "redeemed", "discount": "5.00", "reason": None}]
    shown = served.call("GET", f"/v1/transactions/{sale}", key="webstore").json()
    assert shown["state"] == "paid" and shown["discount"] == "5.00"
    record, events = code_history(served.store, code)
    assert record.use_count == 1 and record.state == "redeemed"
    assert [e.kind for e in events] == ["issued", "reserved", "redeemed"]
    assert {e.transaction for e in events[1:]} == {sale}


def test_R13_refusals_carry_rule_id_and_exact_message(served: Served) -> None:
    fresh, scanned, used = served.codes(count=3)
    bound = served.codes(customers=("C1",))[0]
    old = served.codes("Old", count=1, expires=date.today() - timedelta(days=3))[0]
    gone = served.codes("Gone", count=1)[0]
    delete_promotion(served.store, "Gone")
    sale = _open(served)
    _refusal(_scan(served, sale, "SU-NOSUCHCODE0000"), 422, "R13", UnknownCode.message)
    _refusal(_scan(served, sale, old), 422, "R13", CodeExpired.message)
    _refusal(_scan(served, sale, bound), 422, "R13", WrongCustomer.message)
    _refusal(_scan(served, sale, gone), 422, "R13", PromotionUnavailable.message)
    assert _scan(served, sale, scanned).status_code == 201
    _refusal(_scan(served, sale, scanned), 409, "R13", AlreadyScanned.message)
    other = _open(served)
    assert _scan(served, other, used).status_code == 201
    assert served.call("POST", f"/v1/transactions/{other}/pay").status_code == 200
    _refusal(_scan(served, sale, used), 422, "R13", AlreadyRedeemed.message)
    returns = _open(served, mode="returns")
    _refusal(_scan(served, returns, fresh), 422, "R13", NotNormalMode.message)
    served.store.set_setting("single_use_format", "su")
    _refusal(_scan(served, sale, "NOT-SU-1"), 422, "R13", InvalidFormat.message)
    assert _scan(served, sale, fresh).status_code == 201  # the codes that fit still scan


def test_R14_second_register_gets_no_longer_valid(served: Served) -> None:
    code = served.codes(count=1)[0]
    first, second = _open(served), _open(served, customer=None)
    assert _scan(served, first, code).status_code == 201
    assert _scan(served, second, code).status_code == 201  # holds are not exclusive
    assert served.call("POST", f"/v1/transactions/{first}/pay").status_code == 200
    late = served.call("POST", f"/v1/transactions/{second}/pay")
    _refusal(late, 409, "R14", NoLongerValid.message)
    assert code_history(served.store, code)[0].use_count == 1


def test_R13_validate_is_a_dry_run_with_the_discount(served: Served) -> None:
    code = served.codes(count=1)[0]
    writes = served.writes()
    answer = served.call("POST", "/v1/validate", json={"code": code, **CART})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"valid": True, "code": code, "promotion": "P", "discount": "5.00",
                             "override": None, "expires_on": None}
    small = served.call("POST", "/v1/validate",
                        json={"code": code, "lines": [{"item": "PIN", "amount": 3}]})
    assert small.json()["discount"] == "3.00"  # capped by the cart
    record, events = code_history(served.store, code)
    assert (record.use_count, record.state) == (0, "active")
    assert [e.kind for e in events] == ["issued"]
    _refusal(served.call("POST", "/v1/validate", json={"code": "SU-NOSUCHCODE0000"}),
             422, "R13", UnknownCode.message)
    assert served.writes() == writes  # no transaction, hold or history line
    sale = _open(served)  # the code is free: validating held nothing
    assert _scan(served, sale, code).status_code == 201
    assert served.call("POST", f"/v1/transactions/{sale}/pay").json()["discount"] == "5.00"


def test_R13_validate_refuses_with_the_rule_and_message_a_scan_gives(served: Served) -> None:
    bound = served.codes(customers=("C1",))[0]
    old = served.codes("Old", count=1, expires=date.today() - timedelta(days=3))[0]
    sale = _open(served)
    for code in (bound, old, "SU-NOSUCHCODE0000", "not a code!"):
        checked = served.call("POST", "/v1/validate", json={"code": code, **CART})
        scanned = _scan(served, sale, code)
        assert (checked.status_code, checked.json()) == (scanned.status_code, scanned.json())
    unknown = served.call("POST", "/v1/validate", json={"code": bound, "customer": "NOBODY"})
    opened = served.call("POST", "/v1/transactions", json={"customer": "NOBODY"})
    assert (unknown.status_code, unknown.json()) == (opened.status_code, opened.json()) == \
        (400, opened.json())


def test_R15_customer_change_remove_and_R18_cancel(served: Served) -> None:
    a, b = served.codes(count=2)
    sale = _open(served)
    assert _scan(served, sale, a).status_code == 201
    change = served.call("POST", f"/v1/transactions/{sale}/customer", json={"customer": "C9"})
    assert change.status_code == 400 and "unknown customer" in change.json()["error"]["message"]
    served.codes(customers=("C9",))
    change = served.call("POST", f"/v1/transactions/{sale}/customer", json={"customer": "C9"})
    assert change.status_code == 200 and change.json()["removed"] == [a]
    assert _scan(served, sale, b).status_code == 201
    removed = served.call("DELETE", f"/v1/transactions/{sale}/codes/{b}")
    assert removed.status_code == 200 and b not in [c["code"] for c in removed.json()["codes"]]
    assert _scan(served, sale, b).status_code == 201
    assert served.call("POST", f"/v1/transactions/{sale}/pay").status_code == 200
    cancelled = served.call("POST", f"/v1/transactions/{sale}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert code_history(served.store, b)[0].state == "redeemed"  # R18: stays used
    again = served.call("POST", f"/v1/transactions/{sale}/cancel")
    assert again.status_code == 400 and "cancelled already" in again.json()["error"]["message"]


@pytest.fixture
def one_spare_thread(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                     ) -> Iterator[Served]:
    """The server with one thread for everything but registers, and one each for registers'
    transactions and validate."""
    yield from start(sqlite_url, tmp_path, monkeypatch, serve_threads=1,
                     serve_register_threads=1, serve_validate_threads=1)


def test_R41_registers_calls_do_not_wait_behind_other_work(one_spare_thread: Served) -> None:
    """Registers' calls run on threads of their own: with every other thread busy (a long
    message run, say), validate, scan and pay still answer."""
    server = one_spare_thread
    code = server.codes(count=1)[0]
    busy, release = threading.Event(), threading.Event()

    def hold_the_thread() -> None:
        busy.set()
        release.wait(30)

    server.app.state.ctx.pool.submit(hold_the_thread)
    assert busy.wait(10)
    try:
        checked = server.call("POST", "/v1/validate", json={"code": code, **CART})
        assert checked.status_code == 200, checked.text
        sale = _open(server)
        assert _scan(server, sale, code).status_code == 201
        assert server.call("POST", f"/v1/transactions/{sale}/pay").status_code == 200
    finally:
        release.set()
    assert server.call("GET", "/v1/lists", key="lists").status_code == 200


def test_R41_registers_transactions_and_validate_have_threads_of_their_own() -> None:
    lanes = {(method, path): endpoint.lane for method, path, endpoint in ENDPOINTS}
    assert lanes.pop(("POST", "/v1/validate")) == "check"
    assert {lane for (_m, path), lane in lanes.items() if path.startswith("/v1/transactions")} \
        == {"till"}
    assert {lane for (_m, path), lane in lanes.items()
            if not path.startswith("/v1/transactions")} == {"rest"}
