"""R41 on PostgreSQL: a keyed scan or payment claims its Idempotency-Key, does the work and keeps
its answer in one call of the store (promosync_keyed_scan / promosync_keyed_pay), and every
replay is the first answer, byte for byte; refusals, lost codes and an older store still work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from connector import code_history, open_store
from connector.models import EventKind
from connector.serve import context
from connector.store import schema as s
from tests.conftest import empty_postgres_url
from tests.serve.conftest import Served, Statements, start

CART = {"lines": [{"item": "SHIRT", "amount": "40.00"}]}
KEYED = ("promosync_keyed_scan", "promosync_keyed_pay", "promosync_key_claim",
         "promosync_key_answer")


@pytest.fixture
def served_pg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """The server on PostgreSQL; a key, once found, is trusted for the whole test (so that the
    statements a request sends are its own)."""
    monkeypatch.setattr(context, "KEY_CACHE", 3600.0)
    yield from start(empty_postgres_url(), tmp_path, monkeypatch)


def _sale(served: Served) -> str:
    return str(served.call("POST", "/v1/transactions", json=CART).json()["id"])


def _kept(served: Served, key: str) -> Any:
    with served.store.read() as conn:
        row = conn.execute(select(s.idempotency_keys.c.status, s.idempotency_keys.c.response)
                           .where(s.idempotency_keys.c.key == key)).one()
    return row.status, json.loads(row.response)


def test_R41_a_keyed_scan_and_pay_are_one_call_of_the_store_each(
        served_pg: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    code = served_pg.codes(count=1)[0]
    sale = _sale(served_pg)
    sent = Statements(served_pg, monkeypatch)
    try:
        scanned = served_pg.call("POST", f"/v1/transactions/{sale}/codes", json={"code": code},
                                 headers={"Idempotency-Key": "scan-1"})
        assert scanned.status_code == 201
        assert (sent.calls, sent.other) == (["keyed_scan"], [])
        assert sent.lanes == ["loop"]  # on the event loop, no thread (fast_lane.py)
        sent.clear()
        paid = served_pg.call("POST", f"/v1/transactions/{sale}/pay",
                              headers={"Idempotency-Key": "pay-1"})
        assert paid.status_code == 200
        assert (sent.calls, sent.other) == (["keyed_pay"], [])
        sent.clear()
        again = served_pg.call("POST", f"/v1/transactions/{sale}/pay",
                               headers={"Idempotency-Key": "pay-1"})
        assert (sent.calls, sent.other) == (["keyed_pay"], [])  # the replay: one call too
    finally:
        sent.close()
    assert again.content == paid.content and again.headers["Idempotent-Replayed"] == "true"
    record, events = code_history(served_pg.store, code)
    assert record.use_count == 1
    assert [e.kind for e in events].count(EventKind.REDEEMED) == 1
    assert [e.kind for e in events].count(EventKind.RESERVED) == 1


def test_R41_a_one_call_answer_is_kept_as_its_reply_and_replayed_byte_for_byte(
        served_pg: Served) -> None:
    code = served_pg.codes(count=1)[0]
    sale = _sale(served_pg)
    scan_key = {"Idempotency-Key": "scan-2"}
    first = served_pg.call("POST", f"/v1/transactions/{sale}/codes", json={"code": code},
                           headers=scan_key)
    again = served_pg.call("POST", f"/v1/transactions/{sale}/codes", json={"code": code},
                           headers=scan_key)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert "Idempotent-Replayed" not in first.headers
    status, kept = _kept(served_pg, "scan-2")
    assert status == 201 and list(kept) == ["promosync_reply"]  # kept in the one call
    shown = served_pg.call("GET", f"/v1/transactions/{sale}").json()
    assert shown["codes"] == [first.json()]  # what the transaction shows of the code, exactly
    assert first.json()["discount"] == "5.00" and first.json()["state"] == "held"

    pay_key = {"Idempotency-Key": "pay-2"}
    paid = served_pg.call("POST", f"/v1/transactions/{sale}/pay", headers=pay_key)
    replayed = served_pg.call("POST", f"/v1/transactions/{sale}/pay", headers=pay_key)
    assert paid.status_code == replayed.status_code == 200
    assert replayed.content == paid.content
    assert list(_kept(served_pg, "pay-2")[1]) == ["promosync_reply"]
    after = served_pg.call("GET", f"/v1/transactions/{sale}").json()
    assert paid.json() == {"sale": sale, "customer": None, "discount": "5.00",
                           "outcomes": [{"code": code, "outcome": "redeemed",
                                         "discount": "5.00", "reason": None}],
                           "paid_at": after["paid_at"]}
    unkeyed = served_pg.call("POST", f"/v1/transactions/{_sale(served_pg)}/codes",
                             json={"code": served_pg.codes(count=1)[0]})
    assert list(unkeyed.json()) == list(first.json())  # the same answer as without a key


def test_R41_a_keyed_refusal_keeps_its_message_and_one_history_line(served_pg: Served) -> None:
    code = served_pg.codes(count=1)[0]
    sale = _sale(served_pg)
    assert served_pg.call("POST", f"/v1/transactions/{sale}/codes",
                          json={"code": code}).status_code == 201
    other = _sale(served_pg)
    key = {"Idempotency-Key": "scan-twice"}
    refused = served_pg.call("POST", f"/v1/transactions/{sale}/codes", json={"code": code},
                             headers=key)
    again = served_pg.call("POST", f"/v1/transactions/{sale}/codes", json={"code": code},
                           headers=key)
    assert refused.status_code == again.status_code == 409
    assert again.content == refused.content
    error = refused.json()["error"]
    assert (error["type"], error["rule"], error["code"]) == ("already_scanned", "R13", code)
    status, kept = _kept(served_pg, "scan-twice")
    assert status == 409 and kept == refused.json()  # kept as the answer itself
    _, events = code_history(served_pg.store, code)
    assert [e.kind for e in events].count(EventKind.REFUSED) == 1
    # the code is still free for the other transaction
    assert served_pg.call("POST", f"/v1/transactions/{other}/codes", json={"code": code},
                          headers={"Idempotency-Key": "scan-other"}).status_code == 201


def test_R14_keyed_pays_of_one_code_on_many_transactions_redeem_it_once(
        served_pg: Served) -> None:
    """Eight transactions hold the same code; all pay at once with keys, each sent twice. One
    is paid; the others lose the code (checked again, or a counter that refuses, which rolls
    the claim back), and every key answers the same way each time."""
    code = served_pg.codes(count=1)[0]
    sales = [_sale(served_pg) for _ in range(8)]
    for sale in sales:
        assert served_pg.call("POST", f"/v1/transactions/{sale}/codes",
                              json={"code": code}).status_code == 201

    def pay(sale: str) -> tuple[str, int, bytes]:
        answer = served_pg.call("POST", f"/v1/transactions/{sale}/pay",
                                headers={"Idempotency-Key": f"race-{sale}"})
        return sale, answer.status_code, answer.content

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(pay, sales + sales))
    by_sale: dict[str, set[tuple[int, bytes]]] = {}
    for sale, status, content in answers:
        by_sale.setdefault(sale, set()).add((status, content))
    assert all(len(seen) == 1 for seen in by_sale.values())
    statuses = sorted(next(iter(seen))[0] for seen in by_sale.values())
    assert statuses == [200] + [409] * 7
    for seen in by_sale.values():
        status, content = next(iter(seen))
        if status == 409:
            error = json.loads(content)["error"]
            assert (error["type"], error["rule"]) == ("no_longer_valid", "R14")
    record, events = code_history(served_pg.store, code)
    assert record.use_count == 1
    assert [e.kind for e in events].count(EventKind.REDEEMED) == 1


def test_R41_a_version_5_postgresql_store_gets_the_keyed_functions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = empty_postgres_url()
    made = open_store(url)
    with made.begin() as conn:
        for name in KEYED:
            conn.execute(text(f"DROP FUNCTION {name}"))
        conn.execute(s.meta.update().where(s.meta.c.key == "schema_version").values(value="5"))
    made.close()
    served = start(url, tmp_path, monkeypatch)  # opens the store: the upgrade
    upgraded = next(served)
    try:
        assert upgraded.store.schema_version() == s.LATEST_VERSION == 7
        with upgraded.store.read() as conn:
            found = set(conn.scalars(text("SELECT proname FROM pg_proc WHERE proname = ANY(:n)"),
                                     {"n": list(KEYED)}))
        assert found == set(KEYED)
        code = upgraded.codes(count=1)[0]
        sale = _sale(upgraded)
        assert upgraded.call("POST", f"/v1/transactions/{sale}/codes", json={"code": code},
                             headers={"Idempotency-Key": "s"}).status_code == 201
        assert upgraded.call("POST", f"/v1/transactions/{sale}/pay",
                             headers={"Idempotency-Key": "p"}).status_code == 200
        assert list(_kept(upgraded, "p")[1]) == ["promosync_reply"]
    finally:
        next(served, None)
