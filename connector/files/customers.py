"""Importing customers (customer code, e-mail, name) from a CSV file, all or nothing.

The columns are customer code, e-mail, name, in that order, or in any order under a header row
naming them (``CustomerCode,Email,Name``, ``code,e-mail,name``, ...). The header is optional; it
is recognised by its first cell (``code``, ``customer``, ``customer code``, ``customercode``,
``customer id``) or by an ``email`` column. The separator is the comma, or the semicolon or
tab the first line uses (readers.sniff_delimiter). Every line is checked before anything is
stored; any bad line (empty or too long code, malformed e-mail, a control character, more
columns than three or than the header names, a quote never closed, a code twice in the file)
fails the whole file with the line numbers. An empty e-mail or name cell keeps what the store
has.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Connection

from connector.catalog import MAX_CUSTOMER_CODE, upsert_customers
from connector.errors import FileInputError, InputError
from connector.files.readers import iter_rows
from connector.files.summary import ImportSummary
from connector.store import Store
from connector.store import schema as s
from connector.text import control_character, shown

MAX_EMAIL = 320
MAX_NAME = 200
_EMAIL = re.compile(r"[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"'.][^@\s,;<>\"']*")
_CODE_NAMES = frozenset({"code", "customer", "customercode", "customerid", "customerno"})
_EMAIL_NAMES = frozenset({"email", "emailaddress", "mail"})
_NAME_NAMES = frozenset({"name", "customername", "fullname"})

Customer = tuple[str, str | None, str | None]


def import_customers(store: Store, path: str | Path) -> ImportSummary:
    """Add or update every customer of the file in one transaction; nothing on any bad line."""
    rows, lines = _read(path)
    with store.begin() as conn:
        merged = _keep_stored_values(conn, rows)
        added, updated = upsert_customers(conn, merged)
    return ImportSummary(added=added, updated=updated, lines=lines)


def _read(path: str | Path) -> tuple[list[Customer], int]:
    columns: tuple[int, int | None, int | None] = (0, 1, 2)
    width, named = 3, "three: customer code, e-mail, name"
    rows: dict[str, Customer] = {}
    first_line: dict[str, int] = {}
    problems: list[tuple[int, str]] = []
    lines = 0
    for number, cells in iter_rows(path):
        if lines == 0 and not rows and not problems and _is_header(cells):
            columns = _header_columns(cells)
            width, named = len(cells), f"{len(cells)}, as the header names"
            continue
        lines += 1
        if len(cells) > width:
            problems.append((number, f"{len(cells)} columns; expected at most {named}"))
            continue
        row = _customer(cells, columns, number, problems)
        if row is None:
            continue
        if row[0] in first_line:
            problems.append((number, f"the customer {row[0]} is also on line {first_line[row[0]]}"))
            continue
        first_line[row[0]] = number
        rows[row[0]] = row
    if problems:
        raise FileInputError(str(path), problems)
    if not rows:
        raise InputError(f"{path}: no customers found in the file")
    return list(rows.values()), lines


def _key(cell: str) -> str:
    return re.sub(r"[\s_\-]", "", cell.lower())


def _is_header(cells: list[str]) -> bool:
    return _key(cells[0]) in _CODE_NAMES or any(_key(c) in _EMAIL_NAMES for c in cells)


def _header_columns(cells: list[str]) -> tuple[int, int | None, int | None]:
    keys = [_key(c) for c in cells]

    def find(names: frozenset[str]) -> int | None:
        return next((i for i, k in enumerate(keys) if k in names), None)

    code = find(_CODE_NAMES)
    if code is None:
        raise InputError("the header row has no customer code column (CustomerCode)")
    return code, find(_EMAIL_NAMES), find(_NAME_NAMES)


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def _customer(
    cells: list[str], columns: tuple[int, int | None, int | None], line: int,
    problems: list[tuple[int, str]],
) -> Customer | None:
    """The (code, email, name) of one line, or None after noting what is wrong with it."""
    raw_code, email, name = (_cell(cells, i) for i in columns)
    code = raw_code.upper()
    why = None
    if not code:
        why = "no customer code"
    elif len(code) > MAX_CUSTOMER_CODE:
        why = f"the customer code {shown(raw_code)} is longer than {MAX_CUSTOMER_CODE} characters"
    elif email and (len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email)):
        why = f"{shown(email)} is not an e-mail address"
    elif len(name) > MAX_NAME:
        why = f"the name is longer than {MAX_NAME} characters"
    elif bad := next(filter(None, map(control_character, (code, name))), None):
        why = f"{shown(raw_code if control_character(code) else name)} holds {bad}"
    if why:
        problems.append((line, why))
        return None
    return code, email or None, name or None


def _keep_stored_values(conn: Connection, rows: list[Customer]) -> list[Customer]:
    """Fill empty e-mail or name cells with what the store holds for that customer."""
    gaps = [code for code, email, name in rows if email is None or name is None]
    stored: dict[str, tuple[str | None, str | None]] = {}
    for i in range(0, len(gaps), 5000):
        part = gaps[i : i + 5000]
        query = select(s.customers.c.code, s.customers.c.email, s.customers.c.name)
        for code, email, name in conn.execute(query.where(s.customers.c.code.in_(part))):
            stored[code] = (email, name)
    if not stored:
        return rows
    merged: list[Customer] = []
    for code, email, name in rows:
        old_email, old_name = stored.get(code, (None, None))
        merged.append((code, email if email is not None else old_email,
                       name if name is not None else old_name))
    return merged
