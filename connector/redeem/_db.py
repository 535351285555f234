"""Store plumbing for redemption and lists: the writer queue, "offline" detection, insert-or-skip.

SQLite has one writer at a time. Writers of one process queue on a Python lock before `BEGIN
IMMEDIATE`, so they wait in order instead of in SQLite's busy handler, which sleeps and polls
and turns contention into long tail latencies. Writers of other processes still meet the busy
handler; PostgreSQL needs no queue (row locks order writers of the same rows).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from connector.errors import StoreError, StoreOffline
from connector.store import Store

_LOCKS: weakref.WeakKeyDictionary[Store, threading.Lock] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def _lock_for(store: Store) -> threading.Lock:
    with _GUARD:
        lock = _LOCKS.get(store)
        if lock is None:
            lock = _LOCKS[store] = threading.Lock()
        return lock


@contextmanager
def write(store: Store) -> Iterator[Connection]:
    """One write transaction, queued behind this process's other writers on SQLite."""
    if store.dialect == "sqlite":
        with _lock_for(store), store.begin() as conn:
            yield conn
    else:
        with store.begin() as conn:
            yield conn


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
