"""PostgreSQL batches: prepared statements sent in one round trip and one call.

psycopg sends each statement with the extended protocol, driven by Python generators; its
pipeline mode puts several statements in one round trip but still costs about 100 us of Python
per statement. With 16 workers and the server on the same 2 cores, that client time was half
the CPU of a redemption (measured: 2.4 ms of client CPU for scan + pay). Here every
`statements.Statement` is PREPAREd once per server session (named promosync_N) and a batch is
ONE simple-protocol query, `EXECUTE promosync_3('ABC', 7); EXECUTE promosync_9(...)`, whose
values psycopg quotes on the client with the server's rules (ClientCursor.mogrify: a value
never becomes SQL; the prepared text itself holds no values). The server keeps the plans: the
same scan query unprepared costs about four times the server CPU (measured 530 us against
120 us).

What this process knows of a server session (the names it prepared, a BEGIN it still owes)
lives in the pooled connection's `info`, which lives exactly as long as that connection.

A write transaction (`transaction`, used by transactions.Writer) puts its connection in
autocommit and owes the server its BEGIN until the first batch, which carries it; the last
writes carry the COMMIT. Any other statement run in the block pays the BEGIN first (the
engine's before_cursor_execute hook, `pay_owed_begin`), so nothing runs outside the
transaction.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ClauseElement

# $1, $2 ... with the parameter's type cast, as PREPARE wants them.
DIALECT = PGDialect_psycopg(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]
_NUMBERS = itertools.count(1)


@dataclass(frozen=True)
class Prepared:
    """One statement as a server-side prepared statement of every session that runs it."""

    name: str
    prepare: str  # PREPARE promosync_N AS ...
    execute: str  # EXECUTE promosync_N(%s, ...), for mogrify; or without parameters

    @classmethod
    def of(cls, compiled_sql: str, parameters: int) -> Prepared:
        name = f"promosync_{next(_NUMBERS)}"
        args = f"({', '.join(['%s'] * parameters)})" if parameters else ""
        return cls(name, f"PREPARE {name} AS {compiled_sql}", f"EXECUTE {name}{args}")


@dataclass
class _Session:
    """What this process knows of one server session: prepared names, an owed BEGIN."""

    prepared: set[str] = field(default_factory=set)
    owes_begin: bool = False
    last_carried_begin: bool = False  # the last batch carried the transaction's BEGIN


_SESSION = "promosync_session"  # the key of a connection's _Session in its pool entry's info


def _session(conn: Connection) -> _Session:
    """What this process knows of `conn`'s server session (kept with the pooled connection)."""
    info = conn.connection.info
    found: _Session | None = info.get(_SESSION)
    if found is None:
        found = info[_SESSION] = _Session()
    return found


def compile_statement(statement: ClauseElement) -> Any:
    return statement.compile(dialect=DIALECT)


Item = tuple[Prepared, Sequence[Any], Any]  # statement, positional values, its result reader


def run(conn: Connection, items: Sequence[Item], *, commit: bool = False) -> list[Any]:
    """Execute `items` in order in one round trip (plus, once per session, their PREPAREs);
    with `commit`, the transaction's COMMIT goes in the same query. Each item's reader is
    called with the cursor positioned on that statement's result."""
    dbapi: Any = conn.connection.dbapi_connection
    session = _session(conn)
    try:
        return _run(dbapi, session, items, commit)
    except psycopg.errors.InvalidSqlStatementName:
        # Something reset the session (DISCARD ALL, a pooler): prepare again. Safe to repeat
        # only when nothing of the transaction had run: this batch was its first.
        session.prepared.clear()
        if not session.last_carried_begin:
            raise
        dbapi.rollback()
        session.owes_begin = True
        return _run(dbapi, session, items, commit)


def _run(dbapi: Any, session: _Session, items: Sequence[Item], commit: bool) -> list[Any]:
    session.last_carried_begin = False
    cursor = psycopg.ClientCursor(dbapi)
    try:
        missing = {p.name: p.prepare for p, _, _ in items if p.name not in session.prepared}
        if missing:
            cursor.execute("; ".join(missing.values()))
            session.prepared.update(missing)
        parts = ["BEGIN"] if session.owes_begin else []
        parts += [
            cursor.mogrify(p.execute, values) if values else p.execute for p, values, _ in items
        ]
        if commit:
            parts.append("COMMIT")
        began, session.owes_begin = session.owes_begin, False
        session.last_carried_begin = began
        cursor.execute("; ".join(parts))
        if began:
            cursor.nextset()
        results = []
        for _, _, read in items:
            results.append(read(cursor))
            cursor.nextset()
        return results
    finally:
        cursor.close()


def pay_owed_begin(conn: Connection, cursor: Any, *_: Any) -> None:
    """Before any other statement of a write transaction: the BEGIN it owes, first. A
    before_cursor_execute hook of the engine (transactions.Writer sets it)."""
    session: _Session | None = conn.connection.info.get(_SESSION)
    if session is not None and session.owes_begin:
        session.owes_begin = False
        cursor.connection.execute("BEGIN")


@contextmanager
def transaction(conn: Connection) -> Iterator[list[Item]]:
    """A write transaction on `conn`; statements appended to the yielded list are sent with
    its COMMIT. On an error the transaction is rolled back (or the connection invalidated)."""
    dbapi: Any = conn.connection.dbapi_connection
    session = _session(conn)
    dbapi.autocommit = True
    session.owes_begin = True
    pending: list[Item] = []
    try:
        yield pending
        if pending:
            run(conn, pending, commit=True)
        elif not session.owes_begin:
            dbapi.commit()  # psycopg sends COMMIT only when a transaction is open
    except BaseException:
        if not session.owes_begin:
            _roll_back(conn, dbapi)
        raise
    finally:
        session.owes_begin = False
        if not dbapi.closed and dbapi.info.transaction_status == TransactionStatus.IDLE:
            dbapi.autocommit = False
        elif not conn.invalidated:
            conn.invalidate()


def _roll_back(conn: Connection, dbapi: Any) -> None:
    try:
        dbapi.rollback()
    except psycopg.Error as exc:  # the connection is gone: the server rolled back for us
        if not conn.invalidated:
            conn.invalidate(exc)
