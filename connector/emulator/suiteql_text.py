"""SuiteQL text handling: translation to SQLite and a light reading of the select list.

`translate` rewrites what SQLite does not speak (TO_DATE(...) with literal arguments to a
comparable text literal, the `transaction` identifier quoted, BUILTIN.DF dropped,
FETCH FIRST n ROWS ONLY to LIMIT), only outside string literals. `raw_date_outputs` tells which
result columns are raw date columns (a date column, alone or in MAX/MIN), the ones SuiteQL shows
in the user's date format; `names_column` tells whether a query names a column explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from connector.emulator.apierror import ApiError
from connector.emulator.dates import DATE_COLUMNS, to_date_literal

_STRING = re.compile(r"'(?:[^']|'')*'")
_TO_DATE = re.compile(r"TO_DATE\s*\(\s*'([^']*)'\s*,\s*'([^']*)'\s*\)", re.IGNORECASE)
_TRANSACTION = re.compile(r'(?<![\w"])transaction(?![\w"])', re.IGNORECASE)
_BUILTIN_DF = re.compile(r"BUILTIN\.DF\s*\(", re.IGNORECASE)
_FETCH_FIRST = re.compile(r"FETCH\s+FIRST\s+(\d+)\s+ROWS\s+ONLY", re.IGNORECASE)
_KEYWORD = re.compile(r"\b(SELECT|FROM)\b", re.IGNORECASE)
_RAW_DATE = re.compile(
    r'\s*(?:(?:DISTINCT|ALL)\s+)?(?:(?:MAX|MIN)\s*\(\s*)?(?:"?[A-Za-z_]\w*"?\s*\.\s*)?'
    r'(?P<col>[A-Za-z_]\w*)\s*\)?\s*(?:(?:AS\s+)?"?[A-Za-z_]\w*"?)?\s*', re.IGNORECASE)
_STAR = re.compile(r'\s*(?:"?[A-Za-z_]\w*"?\s*\.\s*)?\*\s*')


def search_error(detail: str) -> ApiError:
    """SuiteQL's 400 "Search error occurred: ..." (hotglue tap-netsuite-rest client.py).
    UNCONFIRMED: the o:errorCode; INVALID_PARAMETER is what the emulator sends."""
    return ApiError(400, "INVALID_PARAMETER",
                    "Invalid search query. Detailed unprocessed description follows. "
                    f"Search error occurred: {detail}")


def _to_date(match: re.Match[str]) -> str:
    value, fmt = match.group(1), match.group(2)
    literal = to_date_literal(value, fmt)
    if literal is None:
        raise search_error(f"Unparseable date: {value!r} does not match {fmt.upper()!r}.")
    return f"'{literal}'"


def _outside_strings(text: str, fn: Callable[[str], str]) -> str:
    pieces: list[str] = []
    pos = 0
    for m in _STRING.finditer(text):
        pieces.append(fn(text[pos:m.start()]))
        pieces.append(m.group(0))
        pos = m.end()
    pieces.append(fn(text[pos:]))
    return "".join(pieces)


def translate(query: str) -> str:
    """NetSuite SuiteQL text -> SQLite SQL (only outside string literals)."""
    text = _TO_DATE.sub(_to_date, query.strip().rstrip(";").strip())
    return _outside_strings(text, _translate_code)


def _translate_code(code: str) -> str:
    if ";" in code:
        raise search_error("Only one SELECT statement is allowed.")
    code = _TRANSACTION.sub('"transaction"', code)
    code = _BUILTIN_DF.sub("(", code)
    return _FETCH_FIRST.sub(r"LIMIT \1", code)


def code_only(sql: str) -> str:
    """`sql` with every string literal blanked (same length), so words in strings are not seen."""
    return _STRING.sub(lambda m: "'" + " " * (len(m.group(0)) - 2) + "'", sql)


def _depths(code: str) -> list[int]:
    depth, out = 0, []
    for ch in code:
        if ch == "(":
            depth += 1
        out.append(depth)
        if ch == ")":
            depth -= 1
    return out


def select_items(sql: str) -> list[str] | None:
    """The items of the outermost select list (split at top-level commas), or None."""
    code = code_only(sql)
    depth = _depths(code)
    words = [m for m in _KEYWORD.finditer(code) if depth[m.start()] == 0]
    start = next((m.end() for m in words if m.group(1).upper() == "SELECT"), None)
    if start is None:
        return None
    end = next((m.start() for m in words if m.group(1).upper() == "FROM" and m.start() > start),
               len(code))
    items, begin = [], start
    for i in range(start, end):
        if code[i] == "," and depth[i] == 0:
            items.append(code[begin:i])
            begin = i + 1
    items.append(code[begin:end])
    return items


def raw_date_outputs(sql: str, names: list[str]) -> list[bool]:
    """For each result column: is it a raw date column (shown in the user's date format)?"""
    items = select_items(sql)
    by_name = [n in DATE_COLUMNS for n in names]
    if items is None or any(_STAR.fullmatch(i) for i in items) or len(items) != len(names):
        return by_name
    flags = []
    for item in items:
        m = _RAW_DATE.fullmatch(item)
        flags.append(bool(m and m.group("col").lower() in DATE_COLUMNS))
    return flags


def names_column(sql: str, column: str) -> int | None:
    """Where the query names `column` as an identifier (outside strings), or None."""
    m = re.search(rf"(?<![\w\"]){re.escape(column)}(?![\w\"])", code_only(sql), re.IGNORECASE)
    return None if m is None else m.start()


def has_star(sql: str) -> bool:
    """Whether the query selects `*` or `x.*` anywhere (COUNT(*) does not count)."""
    code = re.sub(r"COUNT\s*\(\s*\*\s*\)", "", code_only(sql), flags=re.IGNORECASE)
    return "*" in code
