"""Hot-path statements: SQLAlchemy Core compiled once per dialect, run on the DBAPI cursor.

Redemption and list assignment run a dozen small statements per code. Through
`Connection.execute` each costs about 40 us of Python on top of what the database does
(cache-key lookup, parameter and result set-up, events); measured, that overhead was half of a
scan + pay. `Fast` keeps the statement in Core (so the SQL is written once for SQLite and
PostgreSQL), compiles it once per dialect, converts parameters and result values with the
column types' own bind and result processors, and executes on the cursor of the caller's
Connection, i.e. inside the caller's transaction.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None
    constants: dict[str, Any]
    binders: dict[str, Processor]
    row: Any  # a namedtuple class, or None for statements that return nothing
    readers: tuple[Processor, ...]


class Fast:
    """One Core statement, executable with `run`, `first` and `all` on a Connection."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        done = self._compiled.get(dialect.name)
        if done is not None:
            return done
        compiled: Any = self.statement.compile(dialect=dialect)  # a SQLCompiler
        binds = {name: bp for bp, name in compiled.bind_names.items()}
        constants = {name: bp.value for name, bp in binds.items() if not bp.required}
        binders = {
            name: bp.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bp in binds.items()
        }
        columns = list(getattr(self.statement, "selected_columns", ()))
        row = namedtuple("Row", [c.key for c in columns]) if columns else None
        readers = tuple(
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        )
        order = compiled.positiontup
        positional = tuple(order) if compiled.positional and order else None
        done = _Compiled(compiled.string, positional, constants, binders, row, readers)
        self._compiled[dialect.name] = done
        return done

    def _execute(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, _Compiled]:
        c = self._compile(conn.dialect)
        values = {**c.constants, **params}
        for name, proc in c.binders.items():
            if proc is not None and name in values:
                values[name] = proc(values[name])
        cursor = conn.connection.cursor()
        if c.positional is not None:
            cursor.execute(c.sql, tuple(values[n] for n in c.positional))
        else:
            cursor.execute(c.sql, values)
        return cursor, c

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Execute; the row count (for UPDATE/INSERT/DELETE)."""
        cursor, _ = self._execute(conn, params or {})
        count = int(cursor.rowcount)
        cursor.close()
        return count

    def all(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        cursor, c = self._execute(conn, params or {})
        raw = cursor.fetchall()
        cursor.close()
        return [self._row(c, r) for r in raw]

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        cursor, c = self._execute(conn, params or {})
        raw = cursor.fetchone()
        cursor.close()
        return None if raw is None else self._row(c, raw)

    @staticmethod
    def _row(c: _Compiled, raw: Any) -> Any:
        values = (
            v if p is None or v is None else p(v) for p, v in zip(c.readers, raw, strict=True)
        )
        return c.row(*values)
