"""Each thread's own connection to a PostgreSQL store, for the server-side scan and pay.

A scan or payment through server.py is one or two function calls. Through the pool each
write transaction also paid a checkout, two autocommit switches, a reset and a return: about
as much client time as the calls themselves. So every thread that redeems keeps one
connection of its own, taken from the store's engine (same URL, same settings) and detached
from the pool, always in autocommit: a lone call is its own transaction, and a payment opens
one.

Before each use the connection is checked as the pool checks its own (engine._still_connected:
no round trip); a connection the server closed is replaced. A connection lost in the middle
of a call is closed and StoreOffline raised; the server has rolled back what it did. The
store's close() closes every thread's connection.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import generators
from psycopg.pq import ExecStatus
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError

from connector.errors import StoreOffline
from connector.redeem import _pg
from connector.store import Store
from connector.store.engine import _still_connected


class _Lines:
    """The connections of one store: one per thread, all of them closed with the store."""

    def __init__(self) -> None:
        self.mine = threading.local()
        self.every: weakref.WeakSet[Any] = weakref.WeakSet()

    def close(self) -> None:
        for conn in list(self.every):
            conn.close()


_STORES: weakref.WeakKeyDictionary[Store, _Lines] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def _lines(store: Store) -> _Lines:
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
        _still_connected(conn, None, None)
    except DisconnectionError:
        return False
    return True


def connection(store: Store) -> Any:
    """This thread's connection to `store`, connected anew if the server closed it."""
    lines = _lines(store)
    conn = getattr(lines.mine, "conn", None)
    if conn is None or not _usable(conn):
        if conn is not None:
            conn.close()
        conn = lines.mine.conn = _connect(store)
        lines.every.add(conn)
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


def call(conn: Any, prepared: _pg.Prepared, values: Sequence[Any]) -> Any:
    """Run `prepared` with `values` as a statement on its own (autocommit: its own
    transaction) and return its one value, parsed as JSON. A database error is raised as
    psycopg's exception for it.

    The query goes through libpq directly (psycopg's own generators and waiting, without a
    cursor): a cursor's bookkeeping cost as much client time as the rest of the call. The
    values are quoted by psycopg's ClientCursor.mogrify, with the server's rules, into
    `EXECUTE name(...)`; the statement is PREPAREd once per session, in the same query.
    """
    session = _pg._session(conn)
    try:
        return _call(conn, session, prepared, values)
    except psycopg.errors.InvalidSqlStatementName:
        session.prepared.clear()  # the session was reset (DISCARD ALL): prepare again
        return _call(conn, session, prepared, values)


def _call(conn: Any, session: Any, prepared: _pg.Prepared, values: Sequence[Any]) -> Any:
    quoter = _QUOTERS.get(conn)
    if quoter is None:
        quoter = _QUOTERS[conn] = psycopg.ClientCursor(conn)
    query = quoter.mogrify(prepared.execute, values)
    fresh = prepared.name not in session.prepared
    if fresh:
        query = f"{prepared.prepare}; {query}"
    encoding = conn.info.encoding
    conn.pgconn.send_query(query.encode(encoding))
    results = conn.wait(generators.execute(conn.pgconn))
    if fresh and results and results[0].status == ExecStatus.COMMAND_OK:
        session.prepared.add(prepared.name)  # a PREPARE stays even if the EXECUTE failed
    for result in results:
        if result.status == ExecStatus.FATAL_ERROR:
            raise psycopg.errors.error_from_result(result, encoding=encoding)
    value = results[-1].get_value(0, 0)
    return None if value is None else json.loads(value)


_QUOTERS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
