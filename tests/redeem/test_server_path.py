"""R13-R16 through PostgreSQL's server functions (connector/redeem/server_functions.py and
connector/store/redeem_functions.sql): the discounts they work out equal Python's, the cases
they leave to Python get Python's answer, and each thread's own connection survives what a
pooled one survives.

The rest of the redemption suite runs on PostgreSQL through both paths (tests/redeem/
conftest.py), so every check, message and history line is held to the same result there.
These need a PostgreSQL server (PROMOSYNC_TEST_POSTGRES_URL, set by .ci/run).
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from connector.errors import AlreadyScanned, InputError, StoreOffline
from connector.redeem import Register
from connector.redeem.discount import Line, Terms, stacked
from connector.store import Store, open_store
from connector.store import schema as s
from connector.store import thread_connections as threads
from tests.redeem.conftest import Clock, events, make_codes, use_count, wait_gone

ITEMS = ["SHIRT", "shirt", "Hat", "GIFT", "SOCKS"]
money = st.decimals(min_value=0, max_value=500, places=2)

lines = st.lists(
    st.builds(Line, st.sampled_from(ITEMS), money, st.integers(min_value=1, max_value=5)),
    max_size=4,
)
terms = st.builds(
    Terms,
    kind=st.sampled_from(["order", "shipping", "item", "fixed_price", "free_gift"]),
    percent=st.booleans(),
    rate=st.decimals(min_value=0, max_value=100, places=2),
    min_order=st.none() | st.decimals(min_value=0, max_value=300, places=2),
    items=st.lists(st.sampled_from(ITEMS), max_size=2).map(tuple),
    gift_item=st.none() | st.sampled_from(["", *ITEMS]),
    override=st.none() | st.decimals(min_value=0, max_value=60, places=2),
)


def _as_stored(t: Terms) -> dict[str, Any]:
    """A code's terms as the store keeps them (the names promosync_terms gives them)."""
    return {
        "kind": t.kind,
        "discount_type": "percent" if t.percent else "fixed",
        "rate": str(t.rate),
        "min_order": None if t.min_order is None else str(t.min_order),
        "items": list(t.items),
        "discount_item": t.gift_item,
        "amount": None if t.override is None else str(t.override),
    }


def _server_stacked(conn: Any, all_terms: list[Terms], cart: list[Line], ship: Decimal) -> Any:
    row = conn.execute(
        "SELECT promosync_stacked(%s::json, %s::json, %s::numeric)",
        [
            psycopg.types.json.Json([_as_stored(t) for t in all_terms]),
            psycopg.types.json.Json([ln.to_json() for ln in cart]),
            ship,
        ],
    ).fetchone()
    return row[0]


def _own(store: Store) -> Any:
    """This thread's own connection to `store` (the one the server functions are called on)."""
    assert store.thread_connections is not None
    return store.thread_connections.connection()


@pytest.fixture
def raw(pg_store: Store) -> Any:
    url = pg_store.engine.url.set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        yield conn


D = Decimal
EDGES = [  # (terms, cart, shipping): the boundaries random carts seldom hit
    ([Terms("order", False, D("5"), min_order=D("40.00"))], [Line("A", D("40.00"))], D(0)),
    ([Terms("order", True, D("10"))], [Line("A", D("0.05"))], D(0)),  # 0.005: half up
    ([Terms("order", True, D("12.5"))], [Line("A", D("0.36"))], D(0)),  # 0.045
    ([Terms("free_gift", False, D(0), gift_item="A")], [Line("a", D("10.00"), 3)], D(0)),
    ([Terms("item", False, D("4"), items=("A",))], [Line("a", D("10.00"), 3)], D(0)),
    ([Terms("fixed_price", False, D("3"), items=("A",))], [Line("A", D("10.00"), 3)], D(0)),
    ([Terms("shipping", True, D("100"))], [Line("A", D("1.00"))], D("4.99")),
    ([Terms("order", False, D("5"), override=D("50"))], [Line("A", D("20.00"))], D(0)),
    ([Terms("order", False, D("15")), Terms("order", False, D("15"))], [Line("A", D("20"))], D(0)),
    ([Terms("item", False, D("5"), items=("B",))], [Line("A", D("20.00"))], D("3")),
]


@pytest.mark.parametrize("all_terms, cart, ship", EDGES)
def test_R16_server_discounts_equal_python_at_the_edges(
    raw: Any, all_terms: list[Terms], cart: list[Line], ship: Decimal
) -> None:
    expected = [str(d) for d in stacked(all_terms, cart, ship)]
    assert [str(d) for d in _server_stacked(raw, all_terms, cart, ship)] == expected


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(all_terms=st.lists(terms, max_size=3), cart=lines, ship=st.decimals(0, 30, places=2))
def test_R16_server_discounts_equal_python(
    raw: Any, all_terms: list[Terms], cart: list[Line], ship: Decimal
) -> None:
    """Any cart, any stack of codes: the server's discounts are Python's, cent for cent."""
    expected = stacked(all_terms, cart, ship)
    assert [str(d) for d in _server_stacked(raw, all_terms, cart, ship)] == [
        str(d) for d in expected
    ]


def test_R16_names_only_python_can_compare_are_left_to_python(
    raw: Any, pg_store: Store, clock: Clock
) -> None:
    """Python upper-cases "straße" to "STRASSE"; the server would not. The server leaves such
    carts to Python, so the item promotion for STRASSE still applies."""
    terms_ = Terms("item", False, Decimal("5"), items=("STRASSE",))
    cart = [Line("straße", Decimal("40.00"))]
    assert _server_stacked(raw, [terms_], cart, Decimal(0)) is None
    code = make_codes(pg_store, "Roads", count=1, kind="item", rate=5, items=["STRASSE"])[0]
    reg = Register(pg_store, clock=clock)
    sale = reg.open(lines=[("straße", "40.00")])
    assert reg.scan(sale.id, code).discount == Decimal("5.00")
    payment = reg.pay(sale.id)
    assert payment.discount == Decimal("5.00")
    assert [o.outcome for o in payment.outcomes] == ["redeemed"]
    assert use_count(pg_store, code) == 1


def test_R14_server_path_is_what_a_postgresql_register_uses(pg_store: Store, clock: Clock) -> None:
    """By default a register on PostgreSQL scans and pays through the functions: this
    thread's own connection does the work, and the history is written by the server."""
    code = make_codes(pg_store, count=1)[0]
    reg = Register(pg_store, clock=clock)
    assert reg.server_side
    sale = reg.open(lines=["A:30"])
    reg.scan(sale.id, code)
    reg.pay(sale.id)
    conn = _own(pg_store)
    prepared = {row[0] for row in conn.execute("SELECT statement FROM pg_prepared_statements")}
    assert any("promosync_scan" in p for p in prepared)
    assert any("promosync_pay" in p for p in prepared)
    assert [k for k, _ in events(pg_store, code)] == ["reserved", "redeemed"]



def test_R14_server_side_needs_postgresql(tmp_path: Path) -> None:
    lite = open_store(f"sqlite:///{tmp_path / 'p.db'}")
    with pytest.raises(InputError, match="needs a PostgreSQL store"):
        Register(lite, server_side=True)
    assert not Register(lite).server_side
    lite.close()


def test_R13_a_line_connection_the_server_killed_is_replaced(
    pg_store: Store, clock: Clock
) -> None:
    first, second = make_codes(pg_store, count=2)
    reg = Register(pg_store, clock=clock)
    sale = reg.open(lines=["A:30"])
    reg.scan(sale.id, first)
    reg.pay(sale.id)
    dead = _own(pg_store).info.backend_pid
    with pg_store.begin() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": dead}) is True
    wait_gone(pg_store, dead)
    sale = reg.open(lines=["A:30"])
    assert reg.scan(sale.id, second).state == "held"
    assert reg.pay(sale.id).outcomes[0].outcome == "redeemed"
    assert _own(pg_store).info.backend_pid != dead


def test_R13_a_connection_lost_during_a_call_is_offline_then_replaced(
    pg_store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the check that would have caught it: the call fails as "offline" (R13's
    message), nothing is kept, and the next call connects anew."""
    code = make_codes(pg_store, count=1)[0]
    reg = Register(pg_store, clock=clock)
    sale = reg.open(lines=["A:30"])
    dead = _own(pg_store).info.backend_pid
    with pg_store.begin() as conn:
        conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": dead})
    wait_gone(pg_store, dead)
    with monkeypatch.context() as patch:
        patch.setattr(threads, "usable", lambda conn: True)
        with pytest.raises(StoreOffline) as lost:
            reg.scan(sale.id, code)
    assert lost.value.message == "Single-use coupons require an online connection"
    assert events(pg_store, code) == []
    assert reg.scan(sale.id, code).state == "held"


def test_R14_a_reset_session_prepares_again(pg_store: Store, clock: Clock) -> None:
    """DISCARD ALL (a pooler's reset) drops the prepared calls: the next one prepares anew."""
    first, second = make_codes(pg_store, count=2)
    reg = Register(pg_store, clock=clock)
    sale = reg.open(lines=["A:30"])
    reg.scan(sale.id, first)
    reg.pay(sale.id)
    _own(pg_store).execute("DISCARD ALL")
    sale = reg.open(lines=["A:30"])
    assert reg.scan(sale.id, second).state == "held"
    assert reg.pay(sale.id).discount == Decimal("10.00")


def test_R14_each_thread_has_its_own_connection_and_none_outlives_the_store(
    pg_store: Store, clock: Clock
) -> None:
    """Three threads redeem on three connections, each closed when its thread ends; the
    store's close() closes the one the main thread still holds."""
    codes = make_codes(pg_store, count=4)
    url = pg_store.engine.url.render_as_string(hide_password=False)
    other = open_store(url, create=False)
    reg = Register(other, clock=clock)
    pids: list[int] = []

    def redeem(code: str) -> None:
        sale = reg.open(lines=["A:30"])
        reg.scan(sale.id, code)
        reg.pay(sale.id)
        pids.append(_own(other).info.backend_pid)

    threads = [threading.Thread(target=redeem, args=(c,)) for c in codes[:3]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    redeem(codes[3])
    assert [use_count(pg_store, c) for c in codes] == [1, 1, 1, 1]
    assert len(set(pids)) == 4, "one connection per thread"
    for pid in pids[:3]:
        wait_gone(pg_store, pid)  # their threads ended
    other.close()
    wait_gone(pg_store, pids[3])


def test_R14_an_older_postgresql_store_gets_the_functions(pg_store: Store, clock: Clock) -> None:
    """A store made before schema version 2 has no functions: opening it installs them."""
    code = make_codes(pg_store, count=1)[0]
    with pg_store.begin() as conn:
        conn.execute(text("DROP FUNCTION promosync_scan, promosync_pay"))
        conn.execute(s.meta.update().where(s.meta.c.key == "schema_version").values(value="1"))
    url = pg_store.engine.url.render_as_string(hide_password=False)
    upgraded = open_store(url, create=False)
    try:
        assert upgraded.schema_version() == s.LATEST_VERSION
        reg = Register(upgraded, clock=clock)
        sale = reg.open(lines=["A:30"])
        reg.scan(sale.id, code)
        assert reg.pay(sale.id).discount == Decimal("10.00")
    finally:
        upgraded.close()


def _redeem_in_child(store: Store, code: str, out: Any) -> None:
    reg = Register(store)
    sale = reg.open(lines=["A:30"])
    reg.scan(sale.id, code)
    reg.pay(sale.id)
    out.put(_own(store).info.backend_pid)


def test_R14_a_forked_process_redeems_on_its_own_connection(pg_store: Store, clock: Clock) -> None:
    """A child made by fork() connects anew and leaves its parent's connection working."""
    import multiprocessing

    first, second, third = make_codes(pg_store, count=3)
    reg = Register(pg_store, clock=clock)
    sale = reg.open(lines=["A:30"])
    reg.scan(sale.id, first)
    reg.pay(sale.id)
    mine = _own(pg_store).info.backend_pid
    fork = multiprocessing.get_context("fork")
    out = fork.Queue()
    child = fork.Process(target=_redeem_in_child, args=(pg_store, second, out))
    child.start()
    theirs = out.get(timeout=30)
    child.join(timeout=30)
    assert child.exitcode == 0
    assert theirs != mine
    sale = reg.open(lines=["A:30"])
    reg.scan(sale.id, third)
    assert reg.pay(sale.id).outcomes[0].outcome == "redeemed"
    assert _own(pg_store).info.backend_pid == mine
    assert [use_count(pg_store, c) for c in (first, second, third)] == [1, 1, 1]


@pytest.mark.parametrize("server_side", [True, False], ids=["server", "python"])
def test_R13_two_scans_of_one_code_on_one_transaction_hold_it_once(
    pg_store: Store, clock: Clock, server_side: bool
) -> None:
    """A double click: two scans of the same code on one transaction, both waiting for the
    transaction's lock. The second to get it sees the first one's hold."""
    code = make_codes(pg_store, count=1)[0]
    reg = Register(pg_store, clock=clock, server_side=server_side)
    sale = reg.open(lines=["A:30"])
    results: list[str] = []

    def scan() -> None:
        try:
            results.append(reg.scan(sale.id, code).state)
        except AlreadyScanned as exc:
            results.append(exc.message)

    threads = [threading.Thread(target=scan) for _ in range(2)]
    with pg_store.engine.connect() as blocker:  # holds the transaction's row lock meanwhile
        blocker.execute(text("SELECT 1 FROM sales WHERE id = :id FOR UPDATE"), {"id": sale.id})
        for t in threads:
            t.start()
        _wait_for_lock_waiters(pg_store, 2)
        blocker.rollback()
    for t in threads:
        t.join()
    assert sorted(results) == ["This coupon code has already been scanned", "held"]
    assert [c.code for c in reg.show(sale.id).codes] == [code]


def _wait_for_lock_waiters(store: Store, count: int) -> None:
    query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with store.read() as conn:
            if conn.scalar(query) >= count:
                return
        time.sleep(0.01)
    raise AssertionError(f"{count} sessions never waited for the lock")
