"""Each thread's own connection to a PostgreSQL store, for the server-side scan and pay.

A scan or a payment through server.py is one function call. Through the pool each write
transaction also paid a checkout, two autocommit switches, a reset and a return: about as
much client time as the call itself. So every thread that redeems keeps one connection of its
own, taken from the store's engine (same URL, same settings) and detached from the pool, in
autocommit: each call is its own transaction. The connection closes when its thread ends, or
with the store's close(); a process started by fork() makes its own instead of using its
parent's (psycopg never ends a session from a process that did not open it).

Before each use the connection is checked as the pool checks its own (engine.still_connected:
no round trip); a connection the server closed is replaced. A connection lost in the middle
of a call is closed and StoreOffline raised; the server rolled back what the call did.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg import generators
from psycopg.pq import ExecStatus
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError

from connector.errors import StoreOffline
from connector.store import Store
from connector.store.engine import still_connected


class _Lines:
    """The connections of one store: one per thread, all of them closed with the store."""

    def __init__(self) -> None:
        self.mine = threading.local()
        self.every: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()

    def close(self) -> None:
        """Close this process's connections (never a parent's, inherited by fork())."""
        for conn, pid in list(self.every.items()):
            if pid == os.getpid():
                conn.close()


_STORES: weakref.WeakKeyDictionary[Store, _Lines] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def _lines(store: Store) -> _Lines:
    lines = _STORES.get(store)
    if lines is not None:
        return lines
    with _GUARD:
        lines = _STORES.get(store)
        if lines is None:
            lines = _STORES[store] = _Lines()
            store.on_close(lines.close)
        return lines


def _connect(store: Store) -> Any:
    try:
        fairy = store.engine.raw_connection()
    except (SQLAlchemyError, psycopg.Error) as exc:  # the pool raises the driver's own errors
        raise StoreOffline(detail=_first_line(exc)) from None
    fairy.detach()  # ours from now on: the pool neither resets nor reuses it
    conn: Any = fairy.dbapi_connection
    conn.autocommit = True
    return conn


def _usable(conn: Any) -> bool:
    try:
        still_connected(conn, None, None)
    except DisconnectionError:
        return False
    return True


def connection(store: Store) -> Any:
    """This thread's connection to `store`, connected anew if the server closed it."""
    lines = _lines(store)
    conn = getattr(lines.mine, "conn", None)
    if conn is not None and lines.every.get(conn) != os.getpid():
        conn = None  # the parent's, inherited by fork(): the parent goes on using it
    elif conn is not None and not _usable(conn):
        conn.close()
        conn = None
    if conn is None:
        conn = lines.mine.conn = _connect(store)
        lines.every[conn] = os.getpid()
    return conn


def _first_line(exc: BaseException) -> str | None:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else None


@contextmanager
def using(store: Store) -> Iterator[Any]:
    """This thread's connection to `store`, for `call`s. A lost connection is closed and
    becomes StoreOffline; the server rolled back the statement it was running."""
    conn = connection(store)
    try:
        yield conn
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        conn.close()
        raise StoreOffline(detail=_first_line(exc)) from None


@dataclass(frozen=True)
class Statement:
    """A statement every connection prepares once, by name, and then only executes."""

    name: bytes
    sql: bytes

    @classmethod
    def of(cls, name: str, sql: str) -> Statement:
        return cls(f"promosync_line_{name}".encode(), sql.encode())


def call(conn: Any, statement: Statement, values: Sequence[Any]) -> Any:
    """Run `statement` with `values` on its own (autocommit: its own transaction) and return
    its one value, parsed as JSON. A database error is raised as psycopg's exception for it.

    This goes through libpq directly, with psycopg's own generators and waiting but without a
    cursor, whose bookkeeping cost as much client time as the rest of the call. It uses the
    extended protocol: the values travel apart from the statement, as text, so no value is
    ever read as SQL, and the server parses nothing at a call but the values.
    """
    prepared = _PREPARED.setdefault(conn, set())
    try:
        return _call(conn, prepared, statement, values)
    except psycopg.errors.InvalidSqlStatementName:
        prepared.clear()  # the session was reset (DISCARD ALL): prepare again
        return _call(conn, prepared, statement, values)


def _call(conn: Any, prepared: set[bytes], statement: Statement, values: Sequence[Any]) -> Any:
    pgconn = conn.pgconn
    encoding = conn.info.encoding
    if statement.name not in prepared:
        pgconn.send_prepare(statement.name, statement.sql)
        _check(conn.wait(generators.execute(pgconn)), encoding)
        prepared.add(statement.name)
    pgconn.send_query_prepared(statement.name, [_text(v, encoding) for v in values])
    results = conn.wait(generators.execute(pgconn))
    _check(results, encoding)
    value = results[-1].get_value(0, 0)
    return None if value is None else json.loads(value)


def _check(results: Sequence[Any], encoding: str) -> None:
    for result in results:
        if result.status == ExecStatus.FATAL_ERROR:
            raise psycopg.errors.error_from_result(result, encoding=encoding)


def _text(value: Any, encoding: str) -> bytes | None:
    """A parameter in PostgreSQL's text format (its type comes from the statement)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode(encoding)
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("timestamps go to the store as UTC without a zone")
        return value.isoformat(sep=" ").encode()
    if isinstance(value, date | int):
        return str(value if isinstance(value, int) else value.isoformat()).encode()
    raise TypeError(f"no text form for a {type(value).__name__} parameter")


_PREPARED: weakref.WeakKeyDictionary[Any, set[bytes]] = weakref.WeakKeyDictionary()
