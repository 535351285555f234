"""R41 on PostgreSQL: validate and keyed scans and payments run on the event loop (fast_lane.py)
and answer exactly as the thread path does; whatever the loop cannot finish goes to a thread:
a key not read lately, a refused code, a lost connection. The loop's connections are capped."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from connector import Register, code_history
from connector.errors import StoreOffline
from connector.models import EventKind
from connector.serve import context
from connector.serve.keys import authenticate, revoke_key
from connector.store.loop_connections import LoopConnections
from tests.conftest import empty_postgres_url
from tests.serve.conftest import Served, Statements, start

CART = {"lines": [{"item": "SHIRT", "amount": "40.00"}]}


@pytest.fixture
def served_pg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setattr(context, "KEY_CACHE", 3600.0)
    yield from start(empty_postgres_url(), tmp_path, monkeypatch, guard_refusals=3,
                     serve_loop_connections=2)


@pytest.fixture
def lanes(served_pg: Served, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """(lane, statement) of every server-function call: "loop" or "thread"."""
    sent = Statements(served_pg, monkeypatch)
    yield sent.pairs
    sent.close()


def _sale(served: Served) -> str:
    return str(served.call("POST", "/v1/transactions", json=CART).json()["id"])


def test_R41_the_loops_connections_are_open_before_the_first_request(served_pg: Served
                                                                       ) -> None:
    lines = served_pg.app.state.ctx.loop_lines
    assert lines is not None and lines.opened == 2  # serve_loop_connections=2
    code = served_pg.codes(count=1)[0]
    _sale(served_pg)
    assert served_pg.call("POST", "/v1/validate", json={"code": code, **CART}).status_code == 200
    assert lines.opened == 2


def test_R41_a_connection_not_made_at_start_is_made_when_needed(served_pg: Served) -> None:
    real = served_pg.store.thread_connections
    assert real is not None
    tries: list[int] = []

    class Restarting:  # the store refuses the second connection made at start
        def connect(self) -> Any:
            tries.append(1)
            if len(tries) == 2:
                raise StoreOffline(detail="the database system is starting up")
            return real.connect()

    lines = LoopConnections(Restarting(), 3)  # type: ignore[arg-type]
    try:
        assert asyncio.run(lines.fill()) == (2, "the database system is starting up")
        assert lines.opened == 2
        assert asyncio.run(lines.fill()) == (1, None) and lines.opened == 3
    finally:
        lines.close()
    assert lines.opened == 0


def test_R41_validate_runs_on_the_loop_and_answers_as_register_check(
        served_pg: Served, lanes: list[tuple[str, str]]) -> None:
    code = served_pg.codes(count=1)[0]
    _sale(served_pg)  # the API key is read from the store once (on a thread), then known
    lanes.clear()
    answer = served_pg.call("POST", "/v1/validate", json={"code": code, **CART})
    assert answer.status_code == 200
    assert lanes == [("loop", "check")]
    checked = Register(served_pg.store).check(code, lines=["SHIRT:40.00"])
    body = answer.json()
    assert (body["valid"], body["code"], body["promotion"], body["discount"]) == \
        (True, checked.code, checked.promotion, str(checked.discount))
    record, events = code_history(served_pg.store, code)
    assert record.use_count == 0  # a dry run: nothing written, not even a history line
    assert [e.kind for e in events] == [EventKind.ISSUED]


def test_R13_refused_validates_on_the_loop_count_against_the_guard(
        served_pg: Served, lanes: list[tuple[str, str]]) -> None:
    """Three refusals (the fixture's limit) and the fourth validate is a 429, whose answer
    comes from the thread path; the refusals' answers came from the loop."""
    _sale(served_pg)
    answers = [served_pg.call("POST", "/v1/validate", json={"code": f"NOPE-{n}", **CART})
               for n in range(4)]
    assert [a.status_code for a in answers] == [422, 422, 422, 429]
    error = answers[0].json()["error"]
    assert (error["type"], error["rule"]) == ("unknown_code", "R13")
    assert "Retry-After" in answers[3].headers
    assert [lane for lane, _ in lanes] == ["loop", "loop", "loop"]


def test_R41_a_key_not_read_lately_is_read_on_the_loop_with_the_same_answer(
        served_pg: Served, lanes: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    code = served_pg.codes(count=1)[0]
    sale = _sale(served_pg)
    lanes.clear()
    monkeypatch.setattr(context, "KEY_CACHE", 0.0)  # every request reads its key again
    key = {"Idempotency-Key": "scan-cold"}
    first = served_pg.call("POST", f"/v1/transactions/{sale}/codes", json={"code": code},
                           headers=key)
    assert first.status_code == 201
    assert lanes == [("loop", "live_key"), ("loop", "keyed_scan")]
    monkeypatch.setattr(context, "KEY_CACHE", 3600.0)
    again = served_pg.call("POST", f"/v1/transactions/{sale}/codes", json={"code": code},
                           headers=key)
    assert lanes[2:] == [("loop", "keyed_scan")]
    assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
    presented = served_pg.keys["register"]  # the key as the loop read it, as a thread reads it
    assert served_pg.app.state.ctx.known_key(presented) == authenticate(served_pg.store, presented)


def test_R41_an_unknown_or_revoked_key_read_on_the_loop_is_refused_by_the_thread_path(
        served_pg: Served, lanes: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    code = served_pg.codes(count=1)[0]
    monkeypatch.setattr(context, "KEY_CACHE", 0.0)
    before = served_pg.writes()
    revoke_key(served_pg.store, "test-webstore")
    unknown = served_pg.call("POST", "/v1/validate", key="psk_" + "x" * 43,
                             json={"code": code, **CART})
    revoked = served_pg.call("POST", "/v1/validate", key="webstore", json={"code": code, **CART})
    for answer in (unknown, revoked):
        assert answer.status_code == 401 and answer.json()["error"]["type"] == "unauthorized"
    assert lanes == [("loop", "live_key"), ("loop", "live_key")]  # no check was run
    assert served_pg.writes() == before


def test_R41_a_key_the_loop_cannot_read_is_left_to_the_thread_path(
        served_pg: Served, lanes: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    code = served_pg.codes(count=1)[0]
    monkeypatch.setattr(context, "KEY_CACHE", 0.0)

    async def offline(lines: Any, presented: str) -> Any:
        raise StoreOffline(detail="server closed the connection unexpectedly")

    monkeypatch.setattr(context.Context, "read_key_on", offline)
    answer = served_pg.call("POST", "/v1/validate", json={"code": code, **CART})
    assert answer.status_code == 200 and answer.json()["valid"] is True
    assert lanes == [("thread", "check")]


def test_R41_a_keyed_refusal_claimed_on_the_loop_is_finished_on_a_thread(
        served_pg: Served, lanes: list[tuple[str, str]]) -> None:
    code = served_pg.codes(count=1)[0]
    sale = _sale(served_pg)
    assert served_pg.call("POST", f"/v1/transactions/{sale}/codes", json={"code": code},
                          headers={"Idempotency-Key": "held"}).status_code == 201
    lanes.clear()
    refused = served_pg.call("POST", f"/v1/transactions/{sale}/codes", json={"code": code},
                             headers={"Idempotency-Key": "taken"})
    assert refused.status_code == 409
    assert refused.json()["error"]["type"] == "already_scanned"
    assert lanes[0] == ("loop", "keyed_scan")  # claimed the key, left the refusal to Python
    assert lanes[1:] and all(lane == "thread" for lane, _ in lanes[1:])
    again = served_pg.call("POST", f"/v1/transactions/{sale}/codes", json={"code": code},
                           headers={"Idempotency-Key": "taken"})
    assert again.content == refused.content and again.headers["Idempotent-Replayed"] == "true"
    _, events = code_history(served_pg.store, code)
    assert [e.kind for e in events].count(EventKind.REFUSED) == 1


def test_R41_a_connection_lost_on_the_loop_is_replaced_and_nothing_is_done_twice(
        served_pg: Served, lanes: list[tuple[str, str]]) -> None:
    codes = served_pg.codes(count=2)
    sale = _sale(served_pg)
    assert served_pg.call("POST", f"/v1/transactions/{sale}/codes", json={"code": codes[0]},
                          headers={"Idempotency-Key": "before"}).status_code == 201
    with served_pg.store.engine.connect() as conn:  # the server's sessions end, as at a restart
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        conn.commit()
    after = served_pg.call("POST", f"/v1/transactions/{sale}/codes", json={"code": codes[1]},
                           headers={"Idempotency-Key": "after"})
    assert after.status_code == 201, after.text
    paid = served_pg.call("POST", f"/v1/transactions/{sale}/pay",
                          headers={"Idempotency-Key": "pay"})
    assert paid.status_code == 200, paid.text
    assert lanes[-1] == ("loop", "keyed_pay")  # the loop has a working connection again
    for code in codes:
        record, _ = code_history(served_pg.store, code)
        assert record.use_count == 1


def test_R41_the_loop_keeps_no_more_connections_than_its_setting(
        served_pg: Served) -> None:
    codes = served_pg.codes(count=16)
    sales = [_sale(served_pg) for _ in codes]

    def scan_and_pay(n: int) -> tuple[int, int]:
        scanned = served_pg.call("POST", f"/v1/transactions/{sales[n]}/codes",
                                 json={"code": codes[n]}, headers={"Idempotency-Key": f"s{n}"})
        paid = served_pg.call("POST", f"/v1/transactions/{sales[n]}/pay",
                              headers={"Idempotency-Key": f"p{n}"})
        return scanned.status_code, paid.status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(scan_and_pay, range(16))) == {(201, 200)}
    lines = served_pg.app.state.ctx.loop_lines
    assert lines is not None and 1 <= lines.opened <= 2  # serve_loop_connections=2
