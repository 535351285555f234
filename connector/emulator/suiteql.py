"""SuiteQL over the emulator's SQLite database (NETSUITE.md §4).

A query is translated a little (TO_DATE(...) to a comparable text literal, the `transaction`
identifier quoted, NVL), then run read-only: a SQLite authorizer allows SELECT and reads only,
so any write, PRAGMA or ATTACH is refused, and emulator bookkeeping tables and columns stay
hidden. Anything SQLite cannot run becomes NetSuite's 400 "Search error occurred" body, never a
crash. Values come back as NetSuite sends them: every value a string, NULL columns omitted.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from connector.emulator.apierror import ApiError
from connector.emulator.db import HIDDEN_COLUMNS, VALUE_TEXT_SQL, Database, value_text
from connector.emulator.options import EmulatorOptions

MAX_RESULTS = 100_000  # §4: hard cap of 100,000 results per query
MAX_LIMIT = 1000  # §4: max page size
_STRING = re.compile(r"'(?:[^']|'')*'")
_TO_DATE = re.compile(r"TO_DATE\s*\(\s*'([^']*)'\s*,\s*'([^']*)'\s*\)", re.IGNORECASE)
_TRANSACTION = re.compile(r'(?<![\w"])transaction(?![\w"])', re.IGNORECASE)
_BUILTIN_DF = re.compile(r"BUILTIN\.DF\s*\(", re.IGNORECASE)
_FETCH_FIRST = re.compile(r"FETCH\s+FIRST\s+(\d+)\s+ROWS\s+ONLY", re.IGNORECASE)
_PAGE = "suiteql_page_rows"  # the CTE a page is rendered from
_PLAIN_NAME = re.compile(r"[ !#-\[\]-~]+")  # printable ASCII but " and \: JSON keeps it as is
_MAX_COLUMNS = 60  # json_object takes at most 127 arguments
_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, 33}  # 33: WITH
_DATE_PARTS = (("YYYY", r"(?P<y>\d{4})"), ("MM", r"(?P<m>\d{1,2})"), ("DD", r"(?P<d>\d{1,2})"),
               ("HH24", r"(?P<H>\d{1,2})"), ("MI", r"(?P<M>\d{2})"), ("SS", r"(?P<S>\d{2})"))


def search_error(detail: str) -> ApiError:
    # §5.2: SuiteQL errors are 400 "Search error occurred: ..." (hotglue client.py).
    # UNCONFIRMED: the o:errorCode; INVALID_PARAMETER is what the emulator sends.
    return ApiError(400, "INVALID_PARAMETER",
                    "Invalid search query. Detailed unprocessed description follows. "
                    f"Search error occurred: {detail}")


def _to_date(match: re.Match[str]) -> str:
    value, fmt = match.group(1), match.group(2).upper()
    pattern = re.escape(fmt)
    for token, group in _DATE_PARTS:
        pattern = pattern.replace(re.escape(token), group)
    m = re.fullmatch(pattern, value.strip())
    if not m:
        raise search_error(f"Unparseable date: {value!r} does not match {fmt!r}.")
    parts = m.groupdict()
    return "'{}-{:0>2}-{:0>2} {:0>2}:{:0>2}:{:0>2}'".format(
        parts["y"], parts["m"], parts["d"], parts.get("H") or 0, parts.get("M") or 0,
        parts.get("S") or 0)


def translate(query: str) -> str:
    """NetSuite SuiteQL text -> SQLite SQL (only outside string literals)."""
    text = _TO_DATE.sub(_to_date, query.strip().rstrip(";").strip())
    pieces: list[str] = []
    pos = 0
    for m in _STRING.finditer(text):
        pieces.append(_translate_code(text[pos:m.start()]))
        pieces.append(m.group(0))
        pos = m.end()
    pieces.append(_translate_code(text[pos:]))
    return "".join(pieces)


def _translate_code(code: str) -> str:
    if ";" in code:
        raise search_error("Only one SELECT statement is allowed.")
    code = _TRANSACTION.sub('"transaction"', code)
    code = _BUILTIN_DF.sub("(", code)
    return _FETCH_FIRST.sub(r"LIMIT \1", code)


def check_paging(limit: int, offset: int, offset_multiple: bool) -> None:
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise ApiError(400, "INVALID_PARAMETER",
                       f"Invalid limit or offset: limit must be 1 to {MAX_LIMIT} and offset "
                       "0 or more.")
    if offset + limit > MAX_RESULTS:
        # §3.3/§4: at most 100,000 results through paging; page by key beyond that.
        raise ApiError(400, "INVALID_PARAMETER",
                       f"The query cannot return more than {MAX_RESULTS:,} results; "
                       f"offset {offset} + limit {limit} is past that. Filter by id instead.")
    if offset_multiple and offset % limit:
        raise ApiError(400, "INVALID_PARAMETER", "The offset must be a multiple of the limit.")


class _Guard:
    """SQLite authorizer: reads only, hidden tables/columns, the UNCONFIRMED visibility options."""

    def __init__(self, options: EmulatorOptions) -> None:
        self.options = options
        self.denied_table: str | None = None
        self.used_columns: set[str] = set()
        self.forbidden = False

    def __call__(self, action: int, arg1: str | None, arg2: str | None, db: str | None,
                 source: str | None) -> int:
        if action not in _ALLOWED:
            self.forbidden = True
            return sqlite3.SQLITE_DENY
        if action != sqlite3.SQLITE_READ:
            return sqlite3.SQLITE_OK
        table, column = (arg1 or "").lower(), (arg2 or "").lower()
        if table.startswith(("_", "sqlite_")):
            self.denied_table = table
            return sqlite3.SQLITE_DENY
        if table == "tranpromotion" and not self.options.tranpromotion_queryable:
            self.denied_table = "tranPromotion"
            return sqlite3.SQLITE_DENY
        if column in HIDDEN_COLUMNS:
            return sqlite3.SQLITE_IGNORE
        if table == "couponcode" and column in ("used", "usecount") and \
                not self.options.couponcode_used_in_suiteql:
            self.used_columns.add(column)
            return sqlite3.SQLITE_IGNORE
        return sqlite3.SQLITE_OK


def _page_sql(sql: str, names: list[str]) -> str | None:
    """SQL giving (rows, JSON array of their items) for LIMIT ? OFFSET ? of `sql`, or None
    when the names cannot be the keys of one object as they stand (a repeated name, `links`,
    a name JSON would escape) or are too many for one json_object call."""
    if (len(set(names)) != len(names) or "links" in names or len(names) > _MAX_COLUMNS
            or any(not _PLAIN_NAME.fullmatch(n) for n in names)):
        return None
    keys = ["'" + n.replace("'", "''") + "'" for n in names]
    pairs = "".join(f", {key}, CASE WHEN typeof(c{i}) IN ('real', 'blob') "
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
            page = _page_sql(sql, names)
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
    if guard.used_columns and re.search(r"\b(used|usecount)\b", sql, re.IGNORECASE):
        column = sorted(guard.used_columns)[0]
        raise search_error(f"Field '{column}' for record 'couponCode' was not found. "
                           "Reason: NOT_EXPOSED - Not available for searching.")
    if page is not None:
        if count > limit:  # drop the row past the page: each item starts with {"links":[]
            items = items[:items.rindex(',{"links":[]')] + "]"
        return _without_nulls(items, names), min(count, limit), total
    del rows[limit:]
    dicts = [{"links": [], **{n: value_text(v) for n, v in zip(names, row, strict=True)
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
