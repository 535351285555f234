"""The files of coupon lists: the code file a unique list is made from, and the usage export.

Both are read and written like every other file users give and get: code files through
connector.files.readers (UTF-8 with or without BOM, the same words for what is wrong), export
cells through connector.files.csvsafe (a cell a spreadsheet would run as a formula gets a ').
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from connector.codes import ANY_CODE, CODE_CHARACTERS, normalize
from connector.errors import FileInputError, InputError
from connector.files.csvsafe import safe_cell
from connector.files.exports import USAGE_COLUMNS
from connector.files.readers import line_blocks
from connector.text import shown

EXPORT_COLUMNS = USAGE_COLUMNS  # a list's usage export has the columns of a promotion's (R11)


def read_code_file(path: str | Path) -> list[str]:
    """A .txt file, one code per line (blank lines skipped). Bad or repeated codes are reported
    with their line numbers and nothing is kept."""
    where = str(path)
    codes: list[str] = []
    seen: dict[str, int] = {}
    problems: list[tuple[int, str]] = []
    for first, lines in line_blocks(path):
        for number, raw in enumerate(lines, start=first):
            code = normalize(raw)
            if not code:
                continue
            if not ANY_CODE.fullmatch(code):
                problems.append((number, f"{shown(raw.strip())} is not a code ({CODE_CHARACTERS})"))
            elif code in seen:
                problems.append((number, f"{code} repeats line {seen[code]}"))
            else:
                seen[code] = number
                codes.append(code)
    if problems:
        raise FileInputError(where, problems)
    if not codes:
        raise InputError(f"{where} holds no codes")
    return codes


def write_usage(out: TextIO, rows: Iterable[Any]) -> int:
    """R11: the usage export of a list's hand-outs (rows of code, external_id, user_id,
    given_at, expires_on) as CSV; how many rows were written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for r in rows:
        expiry = r.expires_on.isoformat() if r.expires_on else ""
        cells = (
            r.code,
            r.external_id or "",
            r.user_id,
            r.given_at.isoformat(timespec="seconds"),
            expiry,
        )
        writer.writerow([safe_cell(c) for c in cells])
        count += 1
    return count
