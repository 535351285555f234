"""SuiteQL over the emulator's SQLite database (POST /services/rest/query/v1/suiteql).

Oracle: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157909186990.html.
A query is translated a little (`suiteql_text.py`), then run read-only: a SQLite authorizer
allows SELECT and reads only, so any write, PRAGMA or ATTACH is refused, and emulator
bookkeeping tables and columns stay hidden. The same authorizer plays the account's catalogue:
a table or column the account does not have (options `suiteql_hidden_tables`,
`suiteql_hidden_columns`, `couponcode_used_in_suiteql`, `tranpromotion_queryable`) is refused
wherever the query names it - select list, WHERE, ORDER BY, aggregates, joins, through any
alias - with NetSuite's 400 "Search error occurred: Field 'x' was not found."; `SELECT *` just
leaves it out. Anything SQLite cannot run becomes that 400 body too, never a crash. Values come
back as NetSuite sends them: every value a string, NULL columns omitted, raw date columns in
the user's date format (option `date_format`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from connector.emulator.apierror import ApiError
from connector.emulator.dates import user_date
from connector.emulator.db import (
    HIDDEN_COLUMNS,
    USER_DATE_SQL,
    VALUE_TEXT_SQL,
    Database,
    value_text,
)
from connector.emulator.options import EmulatorOptions
from connector.emulator.suiteql_text import (
    has_star,
    names_column,
    raw_date_outputs,
    search_error,
    translate,
)

__all__ = ["MAX_LIMIT", "MAX_RESULTS", "check_paging", "run", "run_json", "search_error",
           "translate"]
MAX_RESULTS = 100_000  # Oracle section_157909186990: at most 100,000 results per query
MAX_LIMIT = 1000  # max page size (Workato, symon-ai/tap-netsuite: 1000)
_PAGE = "suiteql_page_rows"  # the CTE a page is rendered from
_PLAIN_NAME = re.compile(r"[ !#-\[\]-~]+")  # printable ASCII but " and \: JSON keeps it as is
_MAX_COLUMNS = 60  # json_object takes at most 127 arguments
_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, 33}  # 33: WITH


def check_paging(limit: int, offset: int, offset_multiple: bool) -> None:
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise ApiError(400, "INVALID_PARAMETER",
                       f"Invalid limit or offset: limit must be 1 to {MAX_LIMIT} and offset "
                       "0 or more.")
    if offset + limit > MAX_RESULTS:
        # Oracle section_157909186990: at most 100,000 results; page by key beyond that.
        raise ApiError(400, "INVALID_PARAMETER",
                       f"The query cannot return more than {MAX_RESULTS:,} results; "
                       f"offset {offset} + limit {limit} is past that. Filter by id instead.")
    if offset_multiple and offset % limit:
        raise ApiError(400, "INVALID_PARAMETER", "The offset must be a multiple of the limit.")


class _Guard:
    """SQLite authorizer: reads only, bookkeeping hidden, the account's tables and columns."""

    def __init__(self, options: EmulatorOptions) -> None:
        self.options = options
        self.denied_table: str | None = None
        self.hidden_read: set[str] = set()  # columns the account lacks that the query reads
        self.forbidden = False

    def __call__(self, action: int, arg1: str | None, arg2: str | None, db: str | None,
                 source: str | None) -> int:
        if action not in _ALLOWED:
            self.forbidden = True
            return sqlite3.SQLITE_DENY
        if action != sqlite3.SQLITE_READ:
            return sqlite3.SQLITE_OK
        table, column = (arg1 or "").lower(), (arg2 or "").lower()
        if table.startswith(("_", "sqlite_")) or self.options.table_hidden(table):
            self.denied_table = table
            return sqlite3.SQLITE_DENY
        if column in HIDDEN_COLUMNS:
            return sqlite3.SQLITE_IGNORE
        if self.options.column_hidden(table, column):
            self.hidden_read.add(column)
            return sqlite3.SQLITE_IGNORE
        return sqlite3.SQLITE_OK

    def check_named(self, sql: str) -> None:
        """A hidden column the query names explicitly is NetSuite's "Field ... was not found"
        (one reached only through `*` is left out, as NetSuite lists only what exists)."""
        if not self.hidden_read:
            return
        star = has_star(sql)
        named = [(pos, col) for col in self.hidden_read
                 if (pos := names_column(sql, col)) is not None or not star]
        if named:
            column = min(named, key=lambda p: (p[0] if p[0] is not None else -1, p[1]))[1]
            raise search_error(f"Field '{column}' was not found.")


def _page_sql(sql: str, names: list[str], dates: list[bool], date_format: str | None
              ) -> str | None:
    """SQL giving (rows, JSON array of their items) for LIMIT ? OFFSET ? of `sql`, or None
    when the names cannot be the keys of one object as they stand (a repeated name, `links`,
    a name JSON would escape) or are too many for one json_object call."""
    if (len(set(names)) != len(names) or "links" in names or len(names) > _MAX_COLUMNS
            or any(not _PLAIN_NAME.fullmatch(n) for n in names)):
        return None
    keys = ["'" + n.replace("'", "''") + "'" for n in names]
    fmt = "'" + (date_format or "").replace("'", "''") + "'"
    pairs = "".join(f", {key}, CASE "
                    + (f"WHEN typeof(c{i}) = 'text' THEN {USER_DATE_SQL}(c{i}, {fmt}) "
                       if dates[i] else "")
                    + f"WHEN typeof(c{i}) IN ('real', 'blob') "
                    f"THEN {VALUE_TEXT_SQL}(c{i}) ELSE CAST(c{i} AS TEXT) END"
                    for i, key in enumerate(keys))
    cols = ", ".join(f"c{i}" for i in range(len(names)))
    return (f"WITH {_PAGE}({cols}) AS ({sql}) SELECT count(*), "
            f"json_group_array(json_object('links', json_array(){pairs})) "
            f"FROM (SELECT * FROM {_PAGE} LIMIT ? OFFSET ?)")


def _without_nulls(items: str, names: list[str]) -> str:
    """NULL columns are omitted (json_object wrote them as null). Every value is a string
    or null, so `,"name":null` cannot occur inside a value."""
    if ":null" in items:
        for name in names:
            items = items.replace(f',"{name}":null', "")
    return items


def run(db: Database, options: EmulatorOptions, query: object, limit: int, offset: int
        ) -> tuple[list[dict[str, Any]], int]:
    """(items, totalResults) for one page of `query`; raises ApiError as NetSuite would."""
    text, _count, total = run_json(db, options, query, limit, offset)
    items: list[dict[str, Any]] = json.loads(text)
    return items, total


def run_json(db: Database, options: EmulatorOptions, query: object, limit: int, offset: int
             ) -> tuple[str, int, int]:
    """(items as the text of a JSON array, how many items, totalResults) for one page.

    SQLite renders the items itself (json_group_array; every value a string, NULL columns
    omitted), so a page of 1,000 rows costs no Python object per row and the interpreter
    lock is free while it is built. Columns `_page_sql` cannot render are rendered by Python
    with the same rules.
    """
    if not isinstance(query, str) or not query.strip():
        raise search_error("The query (q) is empty.")
    check_paging(limit, offset, options.offset_multiple_of_limit)
    sql = translate(query)
    if not re.match(r"\s*(SELECT|WITH)\b", sql, re.IGNORECASE):
        raise search_error("Only SELECT queries are supported.")
    guard = _Guard(options)
    with db.lock:
        conn = db.conn
        conn.set_authorizer(guard)
        conn.set_progress_handler(_deadline(options.suiteql_timeout_seconds), 10_000)
        try:
            names = [d[0].lower() for d in conn.execute(f"SELECT * FROM ({sql}) LIMIT 0"
                                                        ).description]
            guard.check_named(sql)
            fmt = options.date_format
            dates = raw_date_outputs(sql, names) if fmt else [False] * len(names)
            page = _page_sql(sql, names, dates, fmt)
            if page is None:
                rows = conn.execute(f"SELECT * FROM ({sql}) LIMIT ? OFFSET ?",
                                    [limit + 1, offset]).fetchall()
                count = len(rows)
            else:
                count, items = conn.execute(page, [limit + 1, offset]).fetchone()
            # One row past the page tells whether more follow; a last page (or the only one)
            # then gives the total without running the query a second time to count it.
            if count > limit or (offset and not count):
                total = int(conn.execute(f"SELECT COUNT(*) FROM ({sql})").fetchone()[0])
            else:
                total = offset + count
        except (sqlite3.Error, OverflowError, ValueError) as exc:
            raise _explain(exc, guard) from None
        finally:
            conn.set_authorizer(None)
            conn.set_progress_handler(None, 0)
    if page is not None:
        if count > limit:  # drop the row past the page: each item starts with {"links":[]
            items = items[:items.rindex(',{"links":[]')] + "]"
        return _without_nulls(items, names), min(count, limit), total
    del rows[limit:]
    dicts = [{"links": [], **{n: value_text(user_date(v, fmt or "") if d else v)
                              for n, v, d in zip(names, row, dates, strict=True)
                              if v is not None}} for row in rows]
    return json.dumps(dicts, separators=(",", ":")), len(dicts), total


def _deadline(seconds: float) -> Callable[[], int]:
    end = time.monotonic() + seconds
    return lambda: 1 if time.monotonic() > end else 0


def _explain(exc: Exception, guard: _Guard) -> ApiError:
    text = str(exc)
    if guard.denied_table:
        return search_error(f"Record '{guard.denied_table}' was not found.")
    if guard.forbidden or "not authorized" in text:
        return search_error("Only SELECT queries are supported.")
    m = re.search(r"no such column: (\S+)", text)
    if m:
        return search_error(f"Field '{m.group(1)}' was not found.")
    m = re.search(r"no such table: (\S+)", text)
    if m:
        return search_error(f"Record '{m.group(1)}' was not found.")
    if "interrupted" in text:
        return ApiError(400, "INVALID_PARAMETER", "The query took too long and was stopped.")
    return search_error(f"Invalid or unsupported search ({text}).")
