"""Each thread's own connection to a PostgreSQL store, for the calls of its server functions.

A scan or a payment through the server functions (redeem/server_functions.py) is one call.
Through the pool each write transaction also paid a checkout, two autocommit switches, a reset
and a return: about as much client time as the call itself. So every thread that redeems keeps
one connection of its own, taken from the store's engine (same URL, same settings) and
detached from the pool, in autocommit: each call is its own transaction. `ThreadConnections`,
one per PostgreSQL store (`Store.thread_connections`), keeps them: a connection closes when
its thread ends, or with the store's close(); a process started by fork() makes its own
instead of using its parent's (psycopg never ends a session from a process that did not open
it).

Before each use the connection is checked as the pool checks its own (liveness.still_connected:
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
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg import generators
from psycopg.abc import PQGen
from psycopg.pq import ExecStatus
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError

from connector.errors import StoreOffline
from connector.store.liveness import still_connected


@dataclass(frozen=True)
class PreparedCall:
    """A statement every connection prepares once, by name, and then only executes."""

    name: bytes
    sql: bytes

    @classmethod
    def of(cls, name: str, sql: str) -> PreparedCall:
        return cls(f"promosync_line_{name}".encode(), sql.encode())


@dataclass(eq=False)
class OwnConnection:
    """One thread's connection: the psycopg connection, its process, what it has prepared.
    Only its thread holds it: when the thread ends, it goes, and psycopg closes the session."""

    conn: Any
    pid: int = field(default_factory=os.getpid)
    prepared: set[bytes] = field(default_factory=set)

    def call(self, statement: PreparedCall, values: Sequence[Any]) -> Any:
        """Run `statement` with `values` on its own (autocommit: its own transaction) and
        return its one value, parsed as JSON. A database error is raised as psycopg's
        exception for it.

        This goes through libpq directly, with psycopg's own generators and waiting but without
        a cursor, whose bookkeeping cost as much client time as the rest of the call. It uses
        the extended protocol: the values travel apart from the statement, as text, so no value
        is ever read as SQL, and the server parses nothing at a call but the values.
        """
        try:
            return self._call(statement, values)
        except psycopg.errors.InvalidSqlStatementName:
            self.prepared.clear()  # the session was reset (DISCARD ALL): prepare again
            return self._call(statement, values)

    def _call(self, statement: PreparedCall, values: Sequence[Any]) -> Any:
        conn = self.conn
        return reply_value(conn.wait(self.exchange(statement, values)), conn.info.encoding)

    def exchange(self, statement: PreparedCall, values: Sequence[Any]) -> PQGen[Any]:
        """The protocol of a call, as psycopg's generators: waited for by `call` on this
        thread, or on an event loop (loop_connections.py). Its results, unchecked."""
        pgconn = self.conn.pgconn
        encoding = self.conn.info.encoding
        if statement.name not in self.prepared:
            pgconn.send_prepare(statement.name, statement.sql)
            _check((yield from generators.execute(pgconn)), encoding)
            self.prepared.add(statement.name)
        pgconn.send_query_prepared(statement.name, [_text(v, encoding) for v in values])
        return (yield from generators.execute(pgconn))


class ThreadConnections:
    """The own connections of one PostgreSQL store: one per thread, all closed with the store."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._mine = threading.local()
        self._every: weakref.WeakSet[OwnConnection] = weakref.WeakSet()  # to close with us
        self._guard = threading.Lock()

    def own(self) -> OwnConnection:
        """This thread's connection, connected anew if the server closed it."""
        line: OwnConnection | None = getattr(self._mine, "line", None)
        if line is not None and line.pid != os.getpid():
            line = None  # the parent's, inherited by fork(): the parent goes on using it
        elif line is not None and not usable(line.conn):
            line.conn.close()
            line = None
        if line is None:
            line = self._mine.line = OwnConnection(self.connect())
            with self._guard:
                self._every.add(line)
        return line

    def connection(self) -> Any:
        """This thread's psycopg connection (what `own()` calls on)."""
        return self.own().conn

    @contextmanager
    def using(self) -> Iterator[OwnConnection]:
        """This thread's connection, for `call`s. A lost connection is closed and becomes
        StoreOffline; the server rolled back the statement it was running."""
        line = self.own()
        try:
            yield line
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            line.conn.close()
            raise StoreOffline(detail=first_line(exc)) from None

    def close(self) -> None:
        """Close this process's connections (never a parent's, inherited by fork())."""
        with self._guard:
            every = list(self._every)
            self._every.clear()
        for line in every:
            if line.pid == os.getpid():
                line.conn.close()

    def connect(self) -> Any:
        """A new connection of the store's, in autocommit, outside its pool: the caller's."""
        try:
            fairy = self._engine.raw_connection()
        except (SQLAlchemyError, psycopg.Error) as exc:  # the pool raises the driver's own
            raise StoreOffline(detail=first_line(exc)) from None
        fairy.detach()  # ours from now on: the pool neither resets nor reuses it
        conn: Any = fairy.dbapi_connection
        conn.autocommit = True
        return conn


def usable(conn: Any) -> bool:
    try:
        still_connected(conn, None, None)
    except DisconnectionError:
        return False
    return True


def first_line(exc: BaseException) -> str | None:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else None


def reply_value(results: Sequence[Any], encoding: str) -> Any:
    """A call's one value, parsed as JSON; a database error raised as psycopg's exception."""
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
