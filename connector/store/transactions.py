"""A store's short write transactions (redemption, coupon lists), and "offline" detection.

`Writer`, one per store (`Store.writer`), runs them. SQLite has one writer at a time. Writers
of one process queue on a fair lock before `BEGIN IMMEDIATE`, so they wait in order instead
of in SQLite's busy handler, which sleeps and polls and turns contention into long tail
latencies; they share one kept connection, and its WAL checkpoints run outside that queue
(wal_checkpoints.py). Writers of other processes still meet the busy handler. PostgreSQL needs
no queue (row locks order writers of the same rows); there a write transaction is
pg_batch's (its BEGIN rides with its first statements) and `later` lets its last writes
travel with its COMMIT, in one round trip.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from connector.errors import StoreError, StoreOffline
from connector.store.statements import Statement, wrap
from connector.store.wal_checkpoints import WalCheckpointer


class FairLock:
    """A first-come first-served lock: the releaser hands the lock to the longest waiter.

    threading.Lock is not fair: a thread that releases and at once re-acquires (scan, then
    pay) usually wins again, and the others' waits pile up into long tail latencies.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def __enter__(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            baton = threading.Lock()
            baton.acquire()
            self._waiters.append(baton)
        baton.acquire()  # released by the holder handing over: we hold the lock now

    def __exit__(self, *exc: object) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


class Writer:
    """A store's short write transactions: `with store.writer.transaction() as conn: ...`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._queue = FairLock()  # SQLite: this process's writers, first come first served
        self._connection: Connection | None = None  # SQLite: the kept write connection
        self._checkpointer: WalCheckpointer | None = None
        if engine.dialect.name != "sqlite":
            from connector.store import pg_batch

            event.listen(engine, "before_cursor_execute", pg_batch.pay_owed_begin)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction, queued behind this process's other writers on SQLite.

        On PostgreSQL, statements handed to `later` in the block are sent with the COMMIT, in
        one round trip: writes whose row counts nobody needs (history lines, hold and sale
        states).
        """
        if self._engine.dialect.name != "sqlite":
            with self._postgres() as conn:
                yield conn
            return
        with self._queue:
            conn = self._sqlite_connection()
            try:
                with conn.begin():
                    yield conn
            except DBAPIError:
                self._connection = None
                conn.invalidate()  # not back to the pool: it has no automatic checkpoint
                conn.close()
                raise
        if self._checkpointer is not None:
            self._checkpointer.committed()

    @contextmanager
    def _postgres(self) -> Iterator[Connection]:
        from connector.store import pg_batch

        with self._engine.connect() as conn:
            conn = conn.execution_options(promosync_write=True)
            try:
                with pg_batch.transaction(conn) as pending:
                    conn.info[_LATER] = pending
                    yield conn
            except conn.dialect.loaded_dbapi.Error as exc:  # from the COMMIT or the hook
                raise wrap(conn, exc, []) from exc
            finally:
                if not conn.invalidated:
                    conn.info.pop(_LATER, None)

    def _sqlite_connection(self) -> Connection:
        """The process's one SQLite write connection to the store, used under the queue.

        SQLite has one writer at a time anyway; keeping its connection saves the pool checkout
        and reset that otherwise cost as much as the statements of a short transaction.
        """
        conn = self._connection
        if conn is None or conn.closed or conn.invalidated:
            conn = self._engine.connect().execution_options(promosync_write=True)
            files = conn.exec_driver_sql("PRAGMA database_list").all()
            path = next((str(row[2]) for row in files if row[1] == "main"), "")
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            if path and str(mode).lower() == "wal":  # a file in WAL mode (not in memory)
                conn.exec_driver_sql("PRAGMA wal_autocheckpoint = 0")  # see wal_checkpoints.py
                if self._checkpointer is None:
                    self._checkpointer = WalCheckpointer(self, path, self._queue)
            conn.commit()
            self._connection = conn
        return conn

    def close(self) -> None:
        """Close the kept connection and end the checkpoints (the store is closing)."""
        with self._queue:
            conn, self._connection = self._connection, None
            if conn is not None and not conn.closed:
                conn.close()
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None


_LATER = "promosync_later"  # a PostgreSQL write transaction's writes sent with its COMMIT


def later(conn: Connection, statement: Statement, params: Mapping[str, Any]) -> None:
    """Run `statement` in this write transaction: now, or on PostgreSQL with the COMMIT.

    Only for writes nothing in the transaction reads back and whose row count is not needed.
    """
    pending: list[Any] | None = conn.info.get(_LATER)
    if pending is None:
        statement.run(conn, params)
    else:
        pending.append(statement.item(conn, params, "run"))


@contextmanager
def online() -> Iterator[None]:
    """Turn "the store cannot be reached" into StoreOffline (R13), whatever the engine says."""
    try:
        yield
    except (OperationalError, InterfaceError, DisconnectionError) as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise StoreOffline(detail=first[0] if first else None) from None
    except StoreError as exc:
        if type(exc) is not StoreError:  # not a store, or a newer one: not a connection problem
            raise
        raise StoreOffline(detail=str(exc)) from None
