"""R41: every write honours Idempotency-Key: the same key and body get the first answer, another
body gets 409, concurrent retries redeem once, and keys are kept 24 hours."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select

from connector import code_history
from connector.models import EventKind
from connector.serve.idempotency import Idempotency
from connector.store import schema as s
from connector.store.schema import utcnow
from tests.serve.conftest import Served

CART = {"lines": [{"item": "SHIRT", "amount": "40.00"}]}


def _sale_with_code(served: Served, code: str) -> str:
    sale = served.call("POST", "/v1/transactions", json=CART).json()["id"]
    assert served.call("POST", f"/v1/transactions/{sale}/codes",
                       json={"code": code}).status_code == 201
    return str(sale)


def test_R41_same_key_and_body_get_the_first_answer(served: Served) -> None:
    code = served.codes(count=1)[0]
    sale = _sale_with_code(served, code)
    first = served.call("POST", f"/v1/transactions/{sale}/pay", headers={"Idempotency-Key": "p1"})
    events = served.count(s.code_events)
    again = served.call("POST", f"/v1/transactions/{sale}/pay", headers={"Idempotency-Key": "p1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert served.count(s.code_events) == events  # nothing done twice
    plain = served.call("POST", f"/v1/transactions/{sale}/pay")  # without a key: done again
    assert plain.status_code == 400 and "already paid" in plain.json()["error"]["message"]


def test_R41_same_key_other_body_is_409_and_nothing_written(served: Served) -> None:
    key = {"Idempotency-Key": "open-1"}
    first = served.call("POST", "/v1/transactions", json=CART, headers=key)
    assert first.status_code == 201
    before = served.writes()
    other = served.call("POST", "/v1/transactions", headers=key,
                        json={"lines": [{"item": "HAT", "amount": "9.00"}]})
    assert other.status_code == 409
    assert other.json()["error"]["type"] == "idempotency_key_reused"
    same = served.call("POST", "/v1/transactions", json={**CART, "mode": "normal"}, headers=key)
    assert same.status_code == 201 and same.json()["id"] == first.json()["id"]  # same meaning
    assert served.writes() == before


def test_R41_keys_belong_to_the_api_key_that_sent_them(served: Served) -> None:
    key = {"Idempotency-Key": "shared"}
    one = served.call("POST", "/v1/transactions", json=CART, headers=key)
    two = served.call("POST", "/v1/transactions", json=CART, headers=key, key="webstore")
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] != two.json()["id"]


def test_R41_concurrent_retried_pays_redeem_each_code_once(served: Served) -> None:
    codes = served.codes(count=12)
    sales = [_sale_with_code(served, c) for c in codes]

    def pay(sale: str) -> tuple[int, str]:
        answer = served.call("POST", f"/v1/transactions/{sale}/pay",
                             headers={"Idempotency-Key": f"pay-{sale}"})
        return answer.status_code, answer.text

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(pay, [sale for sale in sales for _retry in range(4)]))
    by_sale: dict[str, set[tuple[int, str]]] = {}
    for sale, answer in zip([x for x in sales for _ in range(4)], answers, strict=True):
        by_sale.setdefault(sale, set()).add(answer)
    assert all(len(seen) == 1 and next(iter(seen))[0] == 200 for seen in by_sale.values())
    for code in codes:
        record, events = code_history(served.store, code)
        assert record.use_count == 1
        assert [e.kind for e in events].count(EventKind.REDEEMED) == 1


def test_R41_keys_are_kept_24_hours_then_forgotten(served: Served) -> None:
    key = {"Idempotency-Key": "day-old"}
    first = served.call("POST", "/v1/transactions", json=CART, headers=key)
    table = s.idempotency_keys
    with served.store.begin() as conn:
        conn.execute(table.update().values(created_at=utcnow() - timedelta(hours=23)))
    assert served.call("POST", "/v1/transactions", json=CART,
                       headers=key).json()["id"] == first.json()["id"]
    with served.store.begin() as conn:
        conn.execute(table.update().values(created_at=utcnow() - timedelta(hours=25)))
    later = served.call("POST", "/v1/transactions", headers=key,
                        json={"lines": [{"item": "HAT", "amount": "9.00"}]})
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]
    with served.store.begin() as conn:
        conn.execute(table.update().values(created_at=utcnow() - timedelta(hours=25)))
    assert Idempotency(served.store).purge() == 1
    with served.store.read() as conn:
        assert conn.scalar(select(func.count()).select_from(table)) == 0


def test_R41_a_malformed_idempotency_key_is_refused_before_any_write(served: Served) -> None:
    before = served.writes()
    for bad in ("x" * 256, "with space", "tab\there"):
        answer = served.call("POST", "/v1/transactions", json=CART,
                             headers={"Idempotency-Key": bad})
        assert answer.status_code == 400
        assert answer.json()["error"]["type"] == "invalid_idempotency_key"
    assert served.writes() == before
