"""Importing coupon codes (R12): a whole file or nothing.

Two layouts, told apart by the first line: one code per line (.txt, or a one-column .csv), and
NetSuite's coupon-code CSV import layout (promotion name in the first column, code in the
second), comma-separated or with the semicolon or tab its first line uses. A header line is
optional in both ("Coupon Code"; "Promotion,Coupon Code").

Every line is checked before the store is touched: a code is 1-64 characters of A-Z 0-9 . _ -
after normalising (trimmed, upper-case, R3) and does not start with "-" (spreadsheets read that
as a formula, see csvsafe.py); in the NetSuite layout the first column names the promotion or
one of its NetSuite chunks (connector.chunks.chunk_name). A bad line, a code twice in the file,
or a code the store holds already fails the whole file with every line number, and nothing of
the file is stored.

Storing is one transaction: a code_batches row (source "imported", method = the file name), then
the codes in file order through the bulk path. The happy path does no separate duplicate
lookup: the bulk insert skips codes that exist (ON CONFLICT DO NOTHING) and a shortfall means a
duplicate, which is then looked up (for the line numbers) and the transaction rolled back. This
also catches a code that another writer stored while the file was being read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from connector.catalog import group_row, promotion_row
from connector.chunks import chunk_name
from connector.codes import MAX_CODE_LENGTH, parse_pattern, paused_gc
from connector.errors import MAX_BATCH, FileInputError, InputError, SingleUseDisabled, StoreError
from connector.files.readers import block_rows, first_line, line_blocks, sniff_delimiter
from connector.files.summary import ImportSummary
from connector.generate import CodeOptions, single_use_enabled
from connector.models import UseType
from connector.store import Store
from connector.store import schema as s
from connector.store.bulk import insert_codes
from connector.store.schema import utcnow
from connector.text import shown

SLICE = 50_000
LOOKUP = 5_000  # codes per `IN (...)` lookup
SOURCE = "imported"
CODE_RE = re.compile(rf"[A-Z0-9._][A-Z0-9._\-]{{0,{MAX_CODE_LENGTH - 1}}}")
_LOOSE_CODE = re.compile(rf"[A-Z0-9._\-]{{1,{MAX_CODE_LENGTH}}}")
_CODE_HEADERS = frozenset({"CODE", "CODES", "COUPON CODE", "COUPONCODE", "COUPON_CODE", "COUPON"})
Progress = Callable[[int], None]


@dataclass
class ParsedCodes:
    """A checked file: its codes (in file order) with their line numbers, and its problems."""

    codes: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)
    lines: int = 0


def import_codes(
    store: Store,
    promotion: str,
    path: str | Path,
    *,
    group: str | None = None,
    options: CodeOptions | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """R12: store every code of `path` for `promotion`, or none of them.

    `group` (or `options.group`) puts the codes in a coupon group; codes that do not fit the
    group's template are still stored, and counted in a warning (R2). Raises SingleUseDisabled
    for a single-use promotion while single-use codes are off (R19), FileInputError for bad
    lines, duplicates in the file and codes that exist already.
    """
    opts = options or CodeOptions()
    group_name = group or opts.group
    with store.read() as conn:
        prow = promotion_row(conn, promotion)
        template = _template(conn, group_name)
    _check_enabled(store, prow)
    parsed = parse_code_file(path, prow.name)
    with paused_gc(), store.begin() as conn:
        prow = promotion_row(conn, promotion)
        if parsed.problems:
            taken = _taken(conn, parsed.codes, exclude_batch=None)
            raise FileInputError(str(path), sorted(parsed.problems + taken))
        batch_id, base = _open_batch(conn, prow, opts, group_name, Path(path).name,
                                     len(parsed.codes))
        _store(conn, store.dialect, parsed, base, str(path), progress)
    warnings = _template_warning(template, parsed.codes, group_name)
    return ImportSummary(added=len(parsed.codes), updated=0, lines=parsed.lines,
                         warnings=warnings, batch_id=batch_id)


def _check_enabled(store: Store, prow: Any) -> None:
    if prow.use_type == UseType.SINGLE.value and not single_use_enabled(store):
        raise SingleUseDisabled()


def _template(conn: Connection, group_name: str | None) -> str | None:
    return group_row(conn, group_name).template if group_name else None


def parse_code_file(path: str | Path, promotion_name: str) -> ParsedCodes:
    """Read and check every line of a codes file (see the module docstring for the rules)."""
    parser = _CodeParser(str(path), promotion_name)
    for first, lines in line_blocks(path):
        parser.feed(first, lines)
    if not parser.parsed.codes and not parser.parsed.problems:
        raise InputError(f"{path}: no coupon codes found in the file")
    return parser.parsed


class _CodeParser:
    """Checks a codes file block by block.

    A block of clean lines (no blanks, spaces, quotes or stray columns; valid, new codes) is
    checked with one regex and taken in C; any other block goes line by line through the CSV
    reader, which finds and words each problem.
    """

    def __init__(self, path: str, promotion_name: str) -> None:
        self.path = path
        self.names = _NameCheck(promotion_name)
        self.parsed = ParsedCodes()
        self.layout: str | None = None
        self.delimiter: str | None = None  # "," or what the first line uses (";", TAB)
        self._clean: re.Pattern[str] | None = None

    def feed(self, first: int, lines: list[str]) -> None:
        if self.delimiter is None and (head := first_line(lines)) is not None:
            self.delimiter = sniff_delimiter(head)
        if self._clean is None:  # until the first row has told the layout
            for line, cells in block_rows(self.path, lines, first, self.delimiter or ","):
                self._row(line, cells)
                if self._clean is not None:
                    lines, first = lines[line - first + 1 :], line + 1
                    break
            else:
                return
        if not lines or self._fast(first, "".join(lines).upper()):
            return
        for line, cells in block_rows(self.path, lines, first, self.delimiter or ","):
            self._row(line, cells)

    def _fast(self, first: int, text: str) -> bool:
        assert self._clean is not None
        if not self._clean.fullmatch(text):
            return False
        rows = text[:-1].split("\n")
        sep = self.delimiter or ","
        new = rows if self.layout == "plain" else [r.rpartition(sep)[2] for r in rows]
        fresh = set(new)
        if len(fresh) != len(new) or not self.parsed.codes.keys().isdisjoint(fresh):
            return False
        self._count(len(new))
        self.parsed.codes.update(zip(new, range(first, first + len(new)), strict=True))
        return True

    def _count(self, lines: int) -> None:
        self.parsed.lines += lines
        if self.parsed.lines > MAX_BATCH:
            raise InputError(f"{self.path}: more than {MAX_BATCH:,} codes; "
                             f"import at most {MAX_BATCH:,} at a time")

    def _start(self, cells: list[str]) -> bool:
        """Pick the layout from the first row; True when that row is a header."""
        self.layout = "netsuite" if len(cells) >= 2 else "plain"
        code = CODE_RE.pattern
        if self.layout == "plain":
            self._clean = re.compile(rf"(?:{code}\n)*")
        else:
            sep = re.escape(self.delimiter or ",")
            self._clean = re.compile(rf"(?:(?:{self.names.upper_pattern}){sep}{code}\n)*")
        return _is_header(cells, self.layout, self.names)

    def _row(self, line: int, cells: list[str]) -> None:
        if self.layout is None and self._start(cells):
            return
        self._count(1)
        problems, codes = self.parsed.problems, self.parsed.codes
        if self.layout == "plain":
            if len(cells) > 1:
                problems.append((line, "expected one code per line"))
                return
            raw = cells[0]
        else:
            if len(cells) != 2:
                problems.append((line, "expected two columns: promotion name, coupon code"))
                return
            if not self.names.ok(cells[0]):
                problems.append((line, f"the promotion {shown(cells[0])} is not "
                                       f"{shown(self.names.name)} or one of its NetSuite chunks"))
                return
            raw = cells[1]
        code = raw.upper()
        if not CODE_RE.fullmatch(code):
            problems.append((line, _why_bad(raw)))
        elif code in codes:
            problems.append((line, f"{code} is also on line {codes[code]}"))
        else:
            codes[code] = line


class _NameCheck:
    """Whether a first-column name is the promotion's, or one of its chunks' (case-insensitive)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._plain = name.casefold()
        self._chunk = re.compile(re.escape(self._chunk_stem(name).casefold()) + r"[1-9]\d*")
        stem = re.escape(self._chunk_stem(name).upper())
        self.upper_pattern = rf"{re.escape(name.upper())}|{stem}[1-9]\d*"

    @staticmethod
    def _chunk_stem(name: str) -> str:
        """The chunk name with its number cut off ("Promo #" of "Promo #1")."""
        first = chunk_name(name, 0, 2)
        assert first.endswith("1")
        return first[:-1]

    def ok(self, cell: str) -> bool:
        key = cell.casefold()
        return key == self._plain or self._chunk.fullmatch(key) is not None


def _is_header(cells: list[str], layout: str, names: _NameCheck) -> bool:
    if layout == "plain":
        return cells[0].upper() in _CODE_HEADERS
    if names.ok(cells[0]):
        return False
    second = cells[1].upper()
    return second in _CODE_HEADERS or not _LOOSE_CODE.fullmatch(second)


def _why_bad(raw: str) -> str:
    code = raw.upper()
    if len(code) > MAX_CODE_LENGTH:
        return f"the code {shown(raw)} is longer than {MAX_CODE_LENGTH} characters"
    if _LOOSE_CODE.fullmatch(code):
        return f"the code {shown(raw)} starts with '-' (a spreadsheet would read it as a formula)"
    return f"the code {shown(raw)} has characters other than A-Z 0-9 . _ -"


def _open_batch(
    conn: Connection, prow: Any, opts: CodeOptions, group_name: str | None, method: str, count: int
) -> tuple[int, dict[str, Any]]:
    """Insert the batch row; return its id and the column values every code of it shares."""
    group_id = group_row(conn, group_name).id if group_name else None
    key = conn.execute(
        s.code_batches.insert().values(
            promotion_id=prow.id, group_id=group_id, source=SOURCE, method=method[:200],
            count=count, created_at=utcnow(),
        )
    ).inserted_primary_key
    assert key is not None
    batch_id = int(key[0])
    single = prow.use_type == UseType.SINGLE.value
    base = {
        "promotion_id": prow.id, "group_id": group_id, "batch_id": batch_id,
        "amount": None if opts.amount is None else str(opts.amount),
        "starts_on": opts.starts, "expires_on": opts.expires,
        "max_uses": 1 if single else opts.max_uses,
        "max_uses_per_customer": opts.max_uses_per_customer,
    }
    return batch_id, base


def _store(
    conn: Connection, dialect: str, parsed: ParsedCodes, base: dict[str, Any], path: str,
    progress: Progress | None,
) -> None:
    """Insert the codes in slices; any code skipped as existing fails the whole import."""
    codes = list(parsed.codes)
    for i in range(0, len(codes), SLICE):
        part = codes[i : i + SLICE]
        inserted = insert_codes(conn, dialect, part, base)
        if inserted < len(part):
            taken = _taken(conn, parsed.codes, exclude_batch=base["batch_id"])
            if taken:
                raise FileInputError(path, taken)
            raise StoreError(f"{path}: the store took {inserted} of {len(part)} codes; "
                             "nothing was stored")
        if progress:
            progress(inserted)


def _taken(
    conn: Connection, codes: dict[str, int], exclude_batch: int | None
) -> list[tuple[int, str]]:
    """(line, why) for every code of the file that the store holds (outside `exclude_batch`).

    Raw `IN (...)` lookups of LOOKUP codes each on the unique index of codes.code (one
    `= ANY(array)` per slice on PostgreSQL): SQLAlchemy's expanding IN costs more than the lookup.
    """
    found: list[tuple[int, str]] = []
    wanted = list(codes)
    pg = conn.dialect.name == "postgresql"
    other = "" if exclude_batch is None else (" AND batch_id <> %s" if pg else " AND batch_id <> ?")
    tail = () if exclude_batch is None else (exclude_batch,)
    cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for i in range(0, len(wanted), LOOKUP):
            part = wanted[i : i + LOOKUP]
            if pg:
                sql, params = f"SELECT code FROM codes WHERE code = ANY(%s){other}", (part, *tail)
            else:
                marks = ",".join("?" * len(part))
                sql = f"SELECT code FROM codes WHERE code IN ({marks}){other}"
                params = (*part, *tail)
            cursor.execute(sql, params)
            found.extend((codes[c], f"{c} exists in the store already") for c, in cursor.fetchall())
    finally:
        cursor.close()
    return sorted(found)


def _template_warning(template: str | None, codes: dict[str, int], group: str | None) -> list[str]:
    """R2: codes that do not fit the group's template are stored, and counted here."""
    if not template:
        return []
    matcher = parse_pattern(template).regex.fullmatch
    misfits = sum(1 for code in codes if matcher(code) is None)
    if not misfits:
        return []
    return [f"{misfits:,} of {len(codes):,} codes do not fit the template {template} of the "
            f"group {shown(group)}; they were imported anyway"]
