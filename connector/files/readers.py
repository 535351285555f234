"""Reading user files line by line: UTF-8 (with or without BOM), CRLF or LF, CSV or plain text.

Every reader streams the file (a 2 GB file is never loaded whole) and turns what can go wrong
with a file into one-line InputErrors: not found, a folder, unreadable, not UTF-8 (with the line
of the first bad byte), malformed CSV (with its line), a quoted cell running on over lines (an
unclosed quote: no value of these files spans lines). Problems with single lines are collected
as (line number, what is wrong) and raised together as a FileInputError by the callers.

The separator is the comma, or the semicolon or tab when the first line says so (spreadsheets
set to a language with a decimal comma save "CSV" with semicolons): `sniff_delimiter`.

Also here: the R10 customer-code file (`read_customer_codes`).
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from connector.catalog import MAX_CUSTOMER_CODE
from connector.errors import (
    MAX_BATCH,
    MSG_NO_CUSTOMER_CODES,
    MSG_TOO_MANY_CUSTOMER_CODES,
    FileInputError,
    InputError,
)
from connector.text import shown

Row = tuple[int, list[str]]  # (line number, cells without trailing empty cells)
BLOCK = 1 << 20  # characters read at a time by `line_blocks`
DELIMITERS = (",", ";", "\t")  # the first wins a tie
# A block of plain customer codes (upper-cased): no blanks, separators, quotes or spaces.
_PLAIN_CUSTOMER_BLOCK = re.compile(rf"(?:[^\s,;\"]{{1,{MAX_CUSTOMER_CODE}}}\n)*")

# A first line that names the column rather than holding a customer code. Only names that could
# not be a customer code (more than 8 characters) count, so no real code is ever skipped.
_CUSTOMER_HEADERS = frozenset({"CUSTOMERCODE", "CUSTOMER CODE", "CUSTOMER_CODE", "CUSTOMERID",
                               "CUSTOMER ID", "CUSTOMER_ID"})


def iter_rows(path: str | Path) -> Iterator[Row]:
    """Yield (line number, cells) for each non-blank line of a CSV or text file.

    Cells are stripped; trailing empty cells ("C001,,") are dropped; lines with no text at all
    are skipped. A .txt file is read with the same CSV rules (a code holds no comma or quote).
    The separator is the one the first non-blank line uses (`sniff_delimiter`).
    """
    with _open_text(path) as stream:
        head: list[str] = []
        for line in stream:
            head.append(line)
            if line.strip():
                break
        delimiter = sniff_delimiter(head[-1] if head else "")
        reader = csv.reader(itertools.chain(head, stream), delimiter=delimiter)
        yield from _rows(path, reader, first=1)


def sniff_delimiter(line: str) -> str:
    """The separator of a CSV file, from its first line: the one of ",", ";" and TAB that occurs
    most often outside quotes (the comma on a tie, and when none occurs)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=counts.__getitem__)
    return best if counts[best] else ","


def first_line(lines: Iterable[str]) -> str | None:
    """The first non-blank line of `lines`, None when all are blank."""
    return next((line for line in lines if line.strip()), None)


def line_blocks(path: str | Path, size: int | None = None) -> Iterator[tuple[int, list[str]]]:
    """(number of the first line, lines) in blocks of about `size` characters.

    Line ends are translated (CRLF, CR -> LF) and every line ends with "\n". For files whose
    values never span lines (codes), so that callers can check a whole block with one regex.
    """
    with _open_text(path, newline=None) as stream:
        first = 1
        while lines := stream.readlines(size or BLOCK):
            if not lines[-1].endswith("\n"):
                lines[-1] += "\n"
            yield first, lines
            first += len(lines)


def block_rows(
    path: str | Path, lines: list[str], first: int, delimiter: str = ","
) -> Iterator[Row]:
    """The non-blank CSV rows of a block of lines (from `line_blocks`), with line numbers."""
    yield from _rows(path, csv.reader(lines, delimiter=delimiter), first)


def _rows(path: str | Path, reader: Any, first: int) -> Iterator[Row]:
    """Stripped cells of each non-blank row, trailing empty cells dropped, numbered from
    `first` by the line the row starts on. A CSV syntax error names its line; a row whose
    quoted cell runs on over lines (a quote never closed) fails the file with the line the row
    starts on, before any later line is taken."""
    before = 0  # reader.line_num before the row: the row starts on the next line
    try:
        for cells in reader:
            start, end = first + before, first + reader.line_num - 1
            before = reader.line_num
            if end > start or any("\n" in c or "\r" in c for c in cells):
                raise FileInputError(str(path), [(start, _runs_on(start, end))])
            trimmed = [c.strip() for c in cells]
            while trimmed and not trimmed[-1]:
                trimmed.pop()
            if trimmed:
                yield start, trimmed
    except csv.Error as exc:
        line = first + reader.line_num - 1
        raise InputError(f"{path}: line {line}: not valid CSV ({exc})") from None


def _runs_on(start: int, end: int) -> str:
    where = f"runs on to line {end:,}" if end > start else "is not closed on this line"
    return f"a quoted cell {where} (a closing quote missing?); every value is on one line"


@contextmanager
def _open_text(path: str | Path, newline: str | None = "") -> Iterator[TextIO]:
    """Open `path` as UTF-8 text (a BOM is dropped), mapping I/O and decoding errors."""
    try:
        stream = open(path, encoding="utf-8-sig", newline=newline)  # noqa: SIM115
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        with stream:
            yield stream
    except UnicodeDecodeError:
        line = first_bad_utf8_line(path)
        raise InputError(f"{path}: line {line}: not UTF-8 text; save the file as UTF-8") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def first_bad_utf8_line(path: str | Path) -> int:
    """The 1-based number of the first line that is not valid UTF-8 (0 if none is found)."""
    with open(path, "rb") as raw:
        for number, line in enumerate(raw, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0


def read_customer_codes(path: str | Path) -> list[str]:
    """R10: the customer codes of a .txt or .csv file, one per line, normalised and de-duplicated.

    The first column of each line is the code (so "C001,," and "C001,Jane" give C001); blank lines
    are skipped; a first line naming the column (CustomerCode, Customer ID) is a header. Raises
    InputError with the R10 messages for a file with no codes or more than 1,000,000 of them
    (reading stops there), FileInputError listing every line whose code is too long.
    """
    seen: dict[str, None] = {}
    problems: list[tuple[int, str]] = []
    entries = 0
    delimiter: str | None = None
    for first, lines in line_blocks(path):
        text = "".join(lines).upper()
        if _PLAIN_CUSTOMER_BLOCK.fullmatch(text):  # the common case, checked in C
            entries += len(lines)
            if entries > MAX_BATCH:
                raise InputError(MSG_TOO_MANY_CUSTOMER_CODES)
            seen.update(dict.fromkeys(text[:-1].split("\n")))
            continue
        if delimiter is None and (head := first_line(lines)) is not None:
            delimiter = sniff_delimiter(head)
        for line, cells in block_rows(path, lines, first, delimiter or ","):
            code = cells[0].upper()
            if entries == 0 and code in _CUSTOMER_HEADERS:
                continue
            entries += 1
            if entries > MAX_BATCH:
                raise InputError(MSG_TOO_MANY_CUSTOMER_CODES)
            if not code:
                problems.append((line, "no customer code in the first column"))
            elif len(code) > MAX_CUSTOMER_CODE:
                why = f"{shown(cells[0])} is longer than {MAX_CUSTOMER_CODE} characters"
                problems.append((line, why))
            else:
                seen[code] = None
    if problems:
        raise FileInputError(str(path), problems)
    if not seen:
        raise InputError(MSG_NO_CUSTOMER_CODES)
    return list(seen)

