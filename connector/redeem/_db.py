"""Store plumbing for redemption and lists: the writer queue, "offline" detection, insert-or-skip.

SQLite has one writer at a time. Writers of one process queue on a Python lock before `BEGIN
IMMEDIATE`, so they wait in order instead of in SQLite's busy handler, which sleeps and polls
and turns contention into long tail latencies. Writers of other processes still meet the busy
handler; PostgreSQL needs no queue (row locks order writers of the same rows).
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from connector.errors import StoreError, StoreOffline
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
        _WRITERS[store] = conn
    return conn


@contextmanager
def write(store: Store) -> Iterator[Connection]:
    """One write transaction, queued behind this process's other writers on SQLite."""
    if store.dialect != "sqlite":
        with store.begin() as conn:
            yield conn
        return
    with _lock_for(store):
        conn = _writer(store)
        try:
            with conn.begin():
                yield conn
        except DBAPIError:
            _WRITERS.pop(store, None)
            conn.close()
            raise


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
