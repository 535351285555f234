"""Statements of the hot paths: SQLAlchemy Core compiled once per dialect, run on the DBAPI cursor.

Redemption and list assignment run a dozen small statements per code. Through
`Connection.execute` each costs about 40 us of Python on top of what the database does
(cache-key lookup, parameter and result set-up, events); measured, that overhead was half of a
scan + pay. `Statement` keeps the statement in Core (so the SQL is written once for SQLite and
PostgreSQL), compiles it once per dialect, converts parameters and result values with the
column types' own bind and result processors, and executes on the cursor of the caller's
Connection, i.e. inside the caller's transaction. The SQL text of a statement never changes,
so psycopg prepares it on the server after a few executions on a connection.

`batch` runs several statements in order. On PostgreSQL every statement is a server-side
prepared statement and a batch goes out as one query of EXECUTEs, one round trip and one call
(see pg_batch.py): a round trip costs more than the statement itself, on the client and on the
server. DBAPI errors are wrapped as SQLAlchemy's (`transactions.online()` turns a lost
connection into StoreOffline), and a dropped connection is invalidated so that the pool does
not hand it out again.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any] | None
Kind = Literal["run", "first", "all"]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None
    constants: dict[str, Any]
    binders: tuple[tuple[str, Callable[[Any], Any]], ...]  # parameters that need converting
    row: Any  # a namedtuple class, or None for statements that return nothing
    readers: tuple[tuple[int, Callable[[Any], Any]], ...]  # columns that need converting
    prepared: Any = None  # PostgreSQL: the pg_batch.Prepared statement


class Statement:
    """One Core statement, executable with `run`, `first` and `all` on a Connection."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        done = self._compiled.get(dialect.name)
        if done is not None:
            return done
        postgres = dialect.name == "postgresql"
        compiled: Any = (
            _pg_batch().compile_statement(self.statement)
            if postgres
            else self.statement.compile(dialect=dialect)
        )
        binds = {name: bp for bp, name in compiled.bind_names.items()}
        constants = {name: bp.value for name, bp in binds.items() if not bp.required}
        binding = (
            (n, bp.type.dialect_impl(dialect).bind_processor(dialect)) for n, bp in binds.items()
        )
        binders = tuple((name, proc) for name, proc in binding if proc is not None)
        columns = list(getattr(self.statement, "selected_columns", ()))
        columns = columns or list(getattr(self.statement, "_returning", ()))
        row = namedtuple("Row", [c.key for c in columns]) if columns else None
        reading = (c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
        readers = tuple((i, proc) for i, proc in enumerate(reading) if proc is not None)
        order = compiled.positiontup
        positional = tuple(order) if compiled.positional and order else None
        count = len(positional or ())
        prepared = _pg_batch().Prepared.of(compiled.string, count) if postgres else None
        done = _Compiled(compiled.string, positional, constants, binders, row, readers, prepared)
        self._compiled[dialect.name] = done
        return done

    def _values(self, c: _Compiled, params: Mapping[str, Any]) -> dict[str, Any]:
        values = {**c.constants, **params}
        for name, proc in c.binders:
            if name in values:
                values[name] = proc(values[name])
        return values

    def _send(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, _Compiled]:
        """SQLite: execute on a cursor of the caller's connection."""
        c = self._compile(conn.dialect)
        values = self._values(c, params)
        cursor = conn.connection.cursor()
        if c.positional is not None:
            cursor.execute(c.sql, tuple(values[n] for n in c.positional))
        else:
            cursor.execute(c.sql, values)
        return cursor, c

    def item(self, conn: Connection, params: Mapping[str, Any] | None, kind: Kind) -> Any:
        """PostgreSQL: this statement with `params` as a pg_batch.Item."""
        c = self._compile(conn.dialect)
        values = self._values(c, params or {})
        ordered = tuple(values[n] for n in c.positional or ())
        return c.prepared, ordered, lambda cursor: Statement._read(cursor, c, kind)

    def _one(self, conn: Connection, params: Mapping[str, Any] | None, kind: Kind) -> Any:
        if conn.dialect.name == "postgresql":
            return batch(conn, [(self, params, kind)])[0]
        try:
            cursor, c = self._send(conn, params or {})
            return self._collect(cursor, c, kind)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise wrap(conn, exc, [self]) from exc

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Execute; the row count (for UPDATE/INSERT/DELETE)."""
        return int(self._one(conn, params, "run"))

    def all(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        return list(self._one(conn, params, "all"))

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        return self._one(conn, params, "first")

    @staticmethod
    def _collect(cursor: Any, c: _Compiled, kind: Kind) -> Any:
        try:
            return Statement._read(cursor, c, kind)
        finally:
            cursor.close()

    @staticmethod
    def _read(cursor: Any, c: _Compiled, kind: Kind) -> Any:
        if kind == "run":
            return int(cursor.rowcount)
        if kind == "first":
            raw = cursor.fetchone()
            return None if raw is None else Statement._row(c, raw)
        return [Statement._row(c, r) for r in cursor.fetchall()]

    @staticmethod
    def _row(c: _Compiled, raw: Any) -> Any:
        values = list(raw)
        for i, proc in c.readers:
            if values[i] is not None:
                values[i] = proc(values[i])
        return c.row._make(values)


Step = tuple[Statement, Mapping[str, Any] | None, Kind]


def batch(conn: Connection, steps: Sequence[Step]) -> list[Any]:
    """Run `steps` in order in the caller's transaction; each one's row count, row or rows.

    On PostgreSQL the lot is one round trip.
    """
    try:
        if conn.dialect.name == "postgresql":
            items = [f.item(conn, p, kind) for f, p, kind in steps]
            results: list[Any] = _pg_batch().run(conn, items)
            return results
        sent = [f._send(conn, p or {}) for f, p, _ in steps]
        kinds = [kind for _, _, kind in steps]
        collect = Statement._collect
        return [collect(cur, c, kind) for (cur, c), kind in zip(sent, kinds, strict=True)]
    except conn.dialect.loaded_dbapi.Error as exc:
        raise wrap(conn, exc, [f for f, _, _ in steps]) from exc


def _pg_batch() -> Any:
    """The PostgreSQL module, imported when first needed (it imports psycopg)."""
    from connector.store import pg_batch as module

    return module


def wrap(conn: Connection, exc: Exception, statements: Sequence[Statement]) -> BaseException:
    """A DBAPI error as SQLAlchemy's; a dropped connection is invalidated."""
    dialect = conn.dialect
    gone = dialect.is_disconnect(exc, conn.connection.dbapi_connection, None)  # type: ignore[arg-type]
    if gone and not conn.invalidated:
        conn.invalidate(exc)
    sql = "; ".join(f._compile(dialect).sql for f in statements) or None
    return DBAPIError.instance(
        sql,
        None,
        exc,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        connection_invalidated=gone,
        dialect=dialect,
    )
