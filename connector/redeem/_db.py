"""Store plumbing for redemption and lists: the writer queue, "offline" detection, insert-or-skip.

SQLite has one writer at a time. Writers of one process queue on a Python lock before `BEGIN
IMMEDIATE`, so they wait in order instead of in SQLite's busy handler, which sleeps and polls
and turns contention into long tail latencies; their WAL checkpoints run outside that queue
(see _wal.py). Writers of other processes still meet the busy handler. PostgreSQL needs no
queue (row locks order writers of the same rows); there a write transaction is _pg's (its
BEGIN rides with its first statements) and `later` lets its last writes travel with its
COMMIT, in one round trip.
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from connector.errors import StoreError, StoreOffline
from connector.redeem._fast import Fast, wrap
from connector.redeem._wal import Checkpointer
from connector.store import Store


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


_LOCKS: weakref.WeakKeyDictionary[Store, FairLock] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def _lock_for(store: Store) -> FairLock:
    with _GUARD:
        lock = _LOCKS.get(store)
        if lock is None:
            lock = _LOCKS[store] = FairLock()
        return lock


_WRITERS: weakref.WeakKeyDictionary[Store, Connection] = weakref.WeakKeyDictionary()


def _writer(store: Store) -> Connection:
    """The process's one SQLite write connection to `store`, used under the writer lock.

    SQLite has one writer at a time anyway; keeping its connection saves the pool checkout
    and reset that otherwise cost as much as the statements of a short transaction.
    """
    conn = _WRITERS.get(store)
    if conn is None or conn.closed or conn.invalidated:
        conn = store.engine.connect().execution_options(promosync_write=True)
        files = conn.exec_driver_sql("PRAGMA database_list").all()
        path = next((str(row[2]) for row in files if row[1] == "main"), "")
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        if path and str(mode).lower() == "wal":  # a file in WAL mode (not in memory)
            conn.exec_driver_sql("PRAGMA wal_autocheckpoint = 0")  # see _wal.py
            if store not in _CHECKPOINTERS:
                _CHECKPOINTERS[store] = Checkpointer(store, path, _lock_for(store))
        conn.commit()
        _WRITERS[store] = conn
    return conn


_CHECKPOINTERS: weakref.WeakKeyDictionary[Store, Checkpointer] = weakref.WeakKeyDictionary()


@contextmanager
def write(store: Store) -> Iterator[Connection]:
    """One write transaction, queued behind this process's other writers on SQLite.

    On PostgreSQL, statements handed to `later` in the block are sent with the COMMIT, in one
    round trip: writes whose row counts nobody needs (history lines, hold and sale states).
    """
    if store.dialect != "sqlite":
        from connector.redeem import _pg

        with store.engine.connect() as conn:
            conn = conn.execution_options(promosync_write=True)
            try:
                with _pg.transaction(conn) as pending:
                    _LATER[id(conn)] = pending
                    yield conn
            except conn.dialect.loaded_dbapi.Error as exc:  # from the COMMIT or the hook
                raise wrap(conn, exc, []) from exc
            finally:
                _LATER.pop(id(conn), None)
        return
    with _lock_for(store):
        conn = _writer(store)
        try:
            with conn.begin():
                yield conn
        except DBAPIError:
            _WRITERS.pop(store, None)
            conn.invalidate()  # not back to the pool: it has no automatic checkpoint
            conn.close()
            raise
    checkpointer = _CHECKPOINTERS.get(store)
    if checkpointer is not None:
        checkpointer.committed()


_LATER: dict[int, list[Any]] = {}


def later(conn: Connection, statement: Fast, params: Mapping[str, Any]) -> None:
    """Run `statement` in this write transaction: now, or on PostgreSQL with the COMMIT.

    Only for writes nothing in the transaction reads back and whose row count is not needed.
    """
    pending = _LATER.get(id(conn))
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


def insert_or_skip(conn: Connection, table: Table, values: dict[str, Any], keys: list[str]) -> None:
    """INSERT a row unless one with the same `keys` exists (ON CONFLICT DO NOTHING)."""
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
        conn.execute(pg)
    else:
        lite = sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
        conn.execute(lite)
