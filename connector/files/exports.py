"""Exporting a promotion's codes (R11), streamed: rows go from a database cursor to the file in
batches of BATCH, never all in memory.

Formats:
* ``plain``: one code per line, no header (not a CSV; no spreadsheet guard).
* ``customers``: CustomerCode, Email, CouponCode, ExpirationDate, DiscountAmount; only codes bound
  to a customer; DiscountAmount is the code's override amount or empty.
* ``netsuite-csv``: NetSuite's coupon-code import layout, a ``Promotion,Coupon Code`` header then
  promotion name and code; one file per NetSuite promotion (chunk, R25): chunk k holds the codes
  in positions [k*size, (k+1)*size) of the promotion's codes in id order and is named
  chunks.chunk_name(promotion, k, n). "out.csv" stays "out.csv" for one chunk, else becomes
  "out-1.csv", "out-2.csv", ...
* ``usage``: Coupon Code, External ID, User ID, Coupon Given Date, Coupon Expiry Date (R23):
  External ID is chunks.code_external_id(code); User ID the bound customer, else the customer
  of the code's first assignment or redemption; Given Date the first "assigned" event, else the
  day its batch was made, in the store's time zone.

CSV cells pass through csvsafe.safe_cell (codes in bulk: a few substring scans per batch find the
rare code that needs the guard). Files are written atomically (csvsafe.AtomicFiles); "-" writes
to stdout. Reads use a raw DBAPI cursor (a server-side, named cursor on PostgreSQL) with
fetchmany, in one snapshot (REPEATABLE READ on PostgreSQL), and csv.writer.writerows on whole
batches: that keeps an export within a small factor of what the csv module alone needs for the
same rows (benchmarks/bench_export.py).
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, tzinfo
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.engine import Connection

from connector.catalog import promotion_row
from connector.chunks import (
    NETSUITE_MAX_CODES,
    chunk_count,
    chunk_name,
    chunk_of,
    code_external_id,
)
from connector.codes import paused_gc
from connector.errors import InputError
from connector.files.csvsafe import FORMULA_TRIGGERS, STDOUT, AtomicFiles, atomic_files, safe_cell
from connector.files.summary import FORMATS, ExportSummary
from connector.models import EventKind
from connector.store import Store
from connector.text import shown

BATCH = 20_000
CUSTOMER_COLUMNS = ("CustomerCode", "Email", "CouponCode", "ExpirationDate", "DiscountAmount")
NETSUITE_COLUMNS = ("Promotion", "Coupon Code")
USAGE_COLUMNS = ("Coupon Code", "External ID", "User ID", "Coupon Given Date", "Coupon Expiry Date")
Progress = Callable[[int], None]
_first = itemgetter(0)
# in "\n" + codes joined by "\n": a code that starts with a formula character (csvsafe)
_GUARD_MARKS = tuple("\n" + t for t in sorted(FORMULA_TRIGGERS))
_QUOTE_MARKS = (",", '"', "\r", "\n")  # characters that make the csv module quote a cell


def export_codes(
    store: Store,
    promotion: str,
    fmt: str,
    output: str | Path,
    *,
    chunk_size: int = NETSUITE_MAX_CODES,
    zone: tzinfo | None = None,
    progress: Progress | None = None,
) -> ExportSummary:
    """R11: write `promotion`'s codes in format `fmt` to `output` ("-": stdout)."""
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {shown(fmt)}; use one of {', '.join(FORMATS)}")
    if not 1 <= chunk_size <= NETSUITE_MAX_CODES:
        raise InputError(f"the chunk size must be 1 to {NETSUITE_MAX_CODES:,}")
    with paused_gc(), store.read() as conn, atomic_files() as files:
        if conn.dialect.name == "postgresql":  # one snapshot for the count and the rows
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        job = _Job(conn, promotion_row(conn, promotion), files, progress)
        if fmt == "plain":
            summary = job.plain(str(output))
        elif fmt == "customers":
            summary = job.customers(str(output))
        elif fmt == "netsuite-csv":
            summary = job.netsuite(str(output), chunk_size)
        else:
            summary = job.usage(str(output), zone or UTC)
        summary.files = [STDOUT] if str(output) == STDOUT else files.commit()
    return summary


def export_row_count(store: Store, promotion: str, fmt: str) -> int:
    """How many rows `export_codes` will write (for a progress bar)."""
    with store.read() as conn:
        prow = promotion_row(conn, promotion)
        bound = " AND customer_id IS NOT NULL" if fmt == "customers" else ""
        sql = f"SELECT COUNT(*) FROM codes WHERE promotion_id = ?{bound}"
        return _scalar(conn, sql, (prow.id,))


def chunk_paths(output: str, chunks: int) -> list[str]:
    """"out.csv" for one chunk, else "out-1.csv", "out-2.csv", ... (suffix kept)."""
    if chunks == 1 or output == STDOUT:
        return [output] * chunks
    path = Path(output)
    return [str(path.with_name(f"{path.stem}-{k}{path.suffix}")) for k in range(1, chunks + 1)]


def _batches(conn: Connection, sql: str, params: Sequence[Any]) -> Iterator[list[Any]]:
    """Rows of `sql` ("?" placeholders) in lists of up to BATCH, from a raw streaming cursor."""
    dbapi: Any = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        cursor = dbapi.cursor(name=f"promosync_export_{secrets.token_hex(4)}")
        cursor.itersize = BATCH
        sql = sql.replace("?", "%s")
    else:
        cursor = dbapi.cursor()
        cursor.arraysize = BATCH
    try:
        cursor.execute(sql, tuple(params))
        while rows := cursor.fetchmany(BATCH):
            yield rows
    finally:
        cursor.close()


def _scalar(conn: Connection, sql: str, params: Sequence[Any]) -> int:
    """The integer result of a one-row, one-column query with "?" placeholders."""
    if conn.dialect.name == "postgresql":
        sql = sql.replace("?", "%s")
    return int(conn.exec_driver_sql(sql, tuple(params)).scalar() or 0)


def _date_text(value: Any) -> str:
    """A stored date (a date on PostgreSQL, ISO text on SQLite) as YYYY-MM-DD, or ""."""
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def _local_date(value: Any, zone: tzinfo) -> str:
    """A stored UTC timestamp (naive or aware, datetime or text) as its YYYY-MM-DD in `zone`."""
    if value is None:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date().isoformat()


def _write_pairs(out: tuple[TextIO, Any], label: str, codes: list[str]) -> None:
    """Rows (label, code) for each code, exactly as csv.writer writes them.

    When no code needs quoting (the usual case: codes are A-Z 0-9 . _ -), the lines are made
    with one join instead of one csv call per row; otherwise csv.writer.writerows does it.
    """
    stream, writer = out
    if not codes:
        return
    text = "".join(codes)
    if any(mark in text for mark in _QUOTE_MARKS) or "" in codes:
        writer.writerows(zip(repeat(label), codes))
        return
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow((label, ""))
    prefix = buffer.getvalue()[:-2]  # the label as a CSV cell, then the comma
    stream.write(prefix + ("\r\n" + prefix).join(codes) + "\r\n")


class _Job:
    """One export run: the promotion, its open output files, progress, guarded codes."""

    def __init__(self, conn: Connection, prow: Any, files: AtomicFiles, progress: Progress | None):
        self.conn, self.prow, self.files = conn, prow, files
        self.progress = progress or (lambda n: None)
        self.guarded = 0  # codes written with the spreadsheet guard

    def _writer(self, stream: TextIO, header: Sequence[str]) -> Any:
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(header)
        return writer

    def _guard(self, codes: list[str]) -> list[str]:
        """`codes` as CSV cells, guarded where needed (rare: a few substring scans find out)."""
        joined = "\n" + "\n".join(codes)
        if not any(mark in joined for mark in _GUARD_MARKS):
            return codes
        cells = [safe_cell(c) for c in codes]
        self.guarded += sum(1 for c, cell in zip(codes, cells, strict=True) if c != cell)
        return cells

    def _guard_warning(self) -> list[str]:
        if not self.guarded:
            return []
        return [f"{self.guarded:,} codes start with a formula character and were written with a "
                "leading apostrophe (spreadsheet safety); the plain format has them as they are"]

    def plain(self, output: str) -> ExportSummary:
        stream = self.files.open(output)
        rows = 0
        sql = "SELECT code FROM codes WHERE promotion_id = ? ORDER BY id"
        for batch in _batches(self.conn, sql, (self.prow.id,)):
            stream.write("\n".join(map(_first, batch)))
            stream.write("\n")
            rows += len(batch)
            self.progress(len(batch))
        stream.flush()
        return ExportSummary(rows=rows, files=[])

    def customers(self, output: str) -> ExportSummary:
        writer = self._writer(self.files.open(output), CUSTOMER_COLUMNS)
        sql = ("SELECT cu.code, cu.email, c.code, c.expires_on, c.amount FROM codes c "
               "JOIN customers cu ON cu.id = c.customer_id WHERE c.promotion_id = ? ORDER BY c.id")
        rows = 0
        for batch in _batches(self.conn, sql, (self.prow.id,)):
            codes = self._guard([row[2] for row in batch])
            writer.writerows(
                (safe_cell(cust), safe_cell(email or ""), code, _date_text(expires), amount or "")
                for (cust, email, _, expires, amount), code in zip(batch, codes, strict=True)
            )
            rows += len(batch)
            self.progress(len(batch))
        return ExportSummary(rows=rows, files=[], warnings=self._guard_warning())

    def netsuite(self, output: str, size: int) -> ExportSummary:
        """One file per chunk: chunk k is rows [k*size, (k+1)*size) of one id-ordered query."""
        pid, name = self.prow.id, self.prow.name
        total = _scalar(self.conn, "SELECT COUNT(*) FROM codes WHERE promotion_id = ?", (pid,))
        n = chunk_count(total, size)
        if n > 1 and output == STDOUT:
            raise InputError(f"{total:,} codes make {n} NetSuite promotions of at most {size:,}: "
                             "give --output FILE to write one file per promotion")
        writers = [(stream, self._writer(stream, NETSUITE_COLUMNS))
                   for stream in map(self.files.open, chunk_paths(output, n))]
        labels = [safe_cell(chunk_name(name, k, n)) for k in range(n)]
        sql = "SELECT code FROM codes WHERE promotion_id = ? ORDER BY id"
        position = 0
        for batch in _batches(self.conn, sql, (pid,)):
            codes = self._guard(list(map(_first, batch)))
            start = 0
            while start < len(codes):
                k = min(chunk_of(position, size), n - 1)  # never past the counted chunks
                room = len(codes) - start if k == n - 1 else (k + 1) * size - position
                end = min(len(codes), start + room)
                _write_pairs(writers[k], labels[k], codes[start:end])
                position += end - start
                start = end
            self.progress(len(batch))
        return ExportSummary(rows=position, files=[], warnings=self._guard_warning())

    def usage(self, output: str, zone: tzinfo) -> ExportSummary:
        pid = self.prow.id
        batch_days = {
            bid: _local_date(created, zone)
            for batch in _batches(self.conn, "SELECT id, created_at FROM code_batches "
                                  "WHERE promotion_id = ?", (pid,))
            for bid, created in batch
        }
        writer = self._writer(self.files.open(output), USAGE_COLUMNS)
        rows = 0
        for batch in _batches(self.conn, _USAGE_SQL, (pid,)):
            codes = self._guard([row[0] for row in batch])
            writer.writerows(
                (code, safe_cell(code_external_id(raw)), safe_cell(bound or user or ""),
                 _local_date(given, zone) if given else batch_days.get(bid, ""),
                 _date_text(expires))
                for (raw, bid, expires, bound, given, user), code in zip(batch, codes, strict=True)
            )
            rows += len(batch)
            self.progress(len(batch))
        return ExportSummary(rows=rows, files=[], warnings=self._guard_warning())


_ASSIGNED, _REDEEMED = EventKind.ASSIGNED.value, EventKind.REDEEMED.value  # names, not input
_USAGE_SQL = f"""
SELECT c.code, c.batch_id, c.expires_on, cu.code,
  (SELECT MIN(e.at) FROM code_events e WHERE e.code_id = c.id AND e.kind = '{_ASSIGNED}'),
  (SELECT cu2.code FROM code_events e2 JOIN customers cu2 ON cu2.id = e2.customer_id
     WHERE e2.code_id = c.id AND e2.kind IN ('{_ASSIGNED}', '{_REDEEMED}') ORDER BY e2.id LIMIT 1)
FROM codes c LEFT JOIN customers cu ON cu.id = c.customer_id
WHERE c.promotion_id = ? ORDER BY c.id
"""
