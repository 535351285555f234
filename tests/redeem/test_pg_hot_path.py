"""R13/R14 on PostgreSQL's Python path (connector/store/pg_batch.py; a PostgreSQL store takes it
when the server functions leave a case to Python): prepared statements sent as EXECUTEs,
BEGIN and COMMIT riding with them, and pooled connections checked without a ping. The server
path's own connections are tested in test_server_path.py.

These need a PostgreSQL server (PROMOSYNC_TEST_POSTGRES_URL, set by .ci/run).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from connector.errors import NoLongerValid
from connector.redeem import Register
from connector.store import Store, open_store
from tests.conftest import PG_ENV
from tests.redeem.conftest import Clock, events, make_codes, use_count, wait_gone


@pytest.fixture
def one_connection(pg_store: Store) -> Iterator[Store]:
    """The same store through a pool of one connection: every call reuses it."""
    store = open_store(os.environ[PG_ENV], create=False, pool_size=1, max_overflow=0)
    yield store
    store.close()


def _backend_pid(store: Store) -> int:
    with store.read() as conn:
        return int(conn.scalar(text("SELECT pg_backend_pid()")))


def test_R14_redemption_after_the_session_was_reset(
    pg_store: Store, one_connection: Store, clock: Clock
) -> None:
    """DISCARD ALL (a pooler's reset) drops the prepared statements: the next scan prepares
    them again instead of failing."""
    first, second = make_codes(pg_store, count=2)
    reg = Register(one_connection, clock=clock, server_side=False)
    sale = reg.open(lines=["A:30"])
    reg.scan(sale.id, first)
    reg.pay(sale.id)
    with one_connection.read() as conn:  # the connection that prepared them
        conn.connection.dbapi_connection.autocommit = True
        conn.exec_driver_sql("DISCARD ALL")
        conn.connection.dbapi_connection.autocommit = False
    sale = reg.open(lines=["A:30"])
    assert reg.scan(sale.id, second).state == "held"
    assert reg.pay(sale.id).outcomes[0].outcome == "redeemed"
    assert use_count(pg_store, second) == 1


def test_R13_pooled_connection_killed_by_the_server_is_replaced(
    pg_store: Store, one_connection: Store, clock: Clock
) -> None:
    """A connection the server terminated while it sat in the pool is not handed out: the
    register goes on with a new one, no error, no ping round trip per checkout."""
    code = make_codes(pg_store, count=1)[0]
    reg = Register(one_connection, clock=clock, server_side=False)
    sale = reg.open(lines=["A:30"])
    dead = _backend_pid(one_connection)
    with pg_store.begin() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": dead}) is True
    wait_gone(pg_store, dead)  # pg_terminate_backend only signals: the process ends soon after
    reg.scan(sale.id, code)
    assert reg.pay(sale.id).outcomes[0].outcome == "redeemed"
    assert _backend_pid(one_connection) != dead


def test_R14_a_lost_payment_leaves_nothing_and_the_connection_usable(
    pg_store: Store, one_connection: Store, clock: Clock
) -> None:
    """The take fails inside a transaction whose BEGIN rode with its reads: it is rolled back,
    the refusal is recorded, and the same connection serves the next call."""
    code = make_codes(pg_store, count=1)[0]
    a = Register(one_connection, clock=clock, server_side=False)
    b = Register(one_connection, clock=clock, server_side=False)
    sale_a, sale_b = a.open(lines=["A:30"]), b.open(lines=["A:30"])
    a.scan(sale_a.id, code)
    b.scan(sale_b.id, code)
    a.pay(sale_a.id)
    with pytest.raises(NoLongerValid):
        b.pay(sale_b.id)
    assert b.show(sale_b.id).state == "open"
    assert use_count(pg_store, code) == 1
    assert events(pg_store, code, "redeemed") == [("redeemed", sale_a.id)]


def test_R14_statements_outside_the_hot_path_run_inside_the_transaction(pg_store: Store) -> None:
    """A plain SQLAlchemy statement first in a write block pays the owed BEGIN, so a failure
    later in the block rolls it back too."""
    with pg_store.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE probe (n int)")
    with pytest.raises(RuntimeError), pg_store.writer.transaction() as conn:
        conn.exec_driver_sql("INSERT INTO probe VALUES (1)")
        raise RuntimeError("fail after the insert")
    with pg_store.read() as conn:
        assert conn.scalar(text("SELECT count(*) FROM probe")) == 0
    with pg_store.writer.transaction() as conn:
        conn.exec_driver_sql("INSERT INTO probe VALUES (2)")
    with pg_store.read() as conn:
        assert conn.scalar(text("SELECT count(*) FROM probe")) == 1
