"""The NetSuite side of `sync verify`: which pages to read, and reading them in parallel.

Per chunk record the snapshot (sync.remote) gives the code count and the id range in one
aggregate query; where used codes come from the tranpromotion table, one more aggregate gives
their count and id range per chunk. The codes are then read once each, in id windows of about
one page, on `reader_threads` threads: consecutive ids (codes NetSuite generated) are cut every
page (`remote.windows`); otherwise the cuts fall at every page-th id the store knows
(`id_windows`), so deleted codes or a code pushed again later cost no extra page, and a window
that holds more than a page goes on by keyset. A chunk of n codes so costs ceil(n / page size)
pages. Used codes are read only for a chunk where NetSuite counts some. Only columns the
account check probes are named: couponcode id, code, promotion, used (when the account lets
SuiteQL read it); tranpromotion couponcode, transaction, promocode.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from connector.netsuite import NetSuiteClient
from connector.sync import suiteql_values as sql
from connector.sync.remote import (
    Window,
    first_query,
    read_window,
    reader_threads,
    unordered_map,
    windows,
)


@dataclass(frozen=True)
class Target:
    """A chunk whose codes are compared one by one."""

    promotion: str
    promotion_id: int
    chunk: int  # 0-based
    external_id: str
    netsuite_id: str
    codes: int
    lo: int | None
    hi: int | None
    used: int = 0  # tranpromotion rows of the chunk (0: none to read)
    used_lo: int | None = None
    used_hi: int | None = None


@dataclass(frozen=True)
class Task:
    kind: str  # "codes" | "used"
    target: Target
    window: Window


def used_ranges(client: NetSuiteClient, nids: list[str], page_size: int
                ) -> dict[str, tuple[int, int, int]]:
    """Per chunk record id: (tranpromotion rows, lowest and highest coupon code id)."""
    out: dict[str, tuple[int, int, int]] = {}
    for i in range(0, len(nids), 500):
        for r in client.suiteql(
                "SELECT promocode, COUNT(*) AS n, MIN(couponcode) AS lo, MAX(couponcode) AS hi "
                f"FROM tranpromotion WHERE promocode IN ({sql.integers(nids[i:i + 500])}) "
                "AND couponcode IS NOT NULL GROUP BY promocode", page_size=page_size):
            if int(r.get("n") or 0):
                out[str(r["promocode"])] = (int(r["n"]), int(r["lo"]), int(r["hi"]))
    return out


def id_windows(known: list[int], lo: int, hi: int, count: int, page_size: int
               ) -> list[Window]:
    """Windows over NetSuite's ids lo..hi (`count` codes) for one chunk, each expected to hold
    one page: consecutive ids are cut every page (`remote.windows`); otherwise the cuts are
    made at every page-th id the store knows (`known`, sorted), so a gap (codes deleted, a code
    pushed again long after) costs no page and a window never holds much more than a page.
    When the store knows too few of the ids, the range is cut evenly."""
    inside = [i for i in known if lo <= i <= hi]
    if hi - lo + 1 == count or 10 * len(inside) < 9 * count:
        return windows(lo, hi, count, page_size)
    out: list[Window] = []
    low = lo - 1
    for cut in inside[page_size - 1::page_size]:
        if cut >= hi:
            break
        out.append(Window(len(out), low, cut))
        low = cut
    out.append(Window(len(out), low, hi))
    return out


def chunk_tasks(t: Target, known: list[int], page_size: int) -> list[Task]:
    """Every page to read for one chunk: its codes, then its used codes."""
    out: list[Task] = []
    if t.codes and t.lo is not None and t.hi is not None:
        out.extend(Task("codes", t, w) for w in id_windows(known, t.lo, t.hi, t.codes,
                                                             page_size))
    if t.used and t.used_lo is not None and t.used_hi is not None:
        # rows, not distinct codes: never dense, so each window is read by keyset
        out.extend(Task("used", t, Window(w.index, w.low, w.high))
                   for w in windows(t.used_lo, t.used_hi, t.used, page_size))
    return out


# A page's shape, and its rows as tuples, read by SQLite's JSON functions on the fetching
# thread (the interpreter lock is free while SQLite reads): a thousand-row page is then a list
# of tuples instead of a thousand dicts (each with its `links` list) built under the lock.
_SHAPE = ("SELECT json_type(?1, '$.items'), json_extract(?1, '$.hasMore'), count(*), "
          "sum(type = 'object' AND json_type(value, '$.id') IN ('text', 'integer') "
          "AND json_type(value, '$.code') = 'text') FROM json_each(?1, '$.items')")
_ROWS = ("SELECT json_extract(value, '$.code'), json_extract(value, '$.id'){used} "
         "FROM json_each(?1, '$.items')")
_local = threading.local()


def _reader() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(":memory:")
    return conn


def compact_rows(text: str, used: bool) -> list[tuple[Any, ...]] | None:
    """A whole page's rows as (code, id[, used]) when it is the last of its window and plain
    ASCII JSON of the expected shape; None sends it the Python way (which also raises
    NetSuite's errors for a malformed body)."""
    if not text.isascii() or "\\u" in text:
        return None
    try:
        kind, more, n, good = _reader().execute(_SHAPE, [text]).fetchone()
        if kind != "array" or more not in (0, None) or good != n:
            return None
        return _reader().execute(_ROWS.format(used=", json_extract(value, '$.used')"
                                              if used else ""), [text]).fetchall()
    except sqlite3.Error:
        return None


Row = tuple[Any, ...]  # (code, id[, used]) of a code page; a used page's rows are dicts


class Pages:
    """Reads tasks' pages; `run(tasks)` yields (task, rows) as each window completes."""

    def __init__(self, client: NetSuiteClient, page_size: int, used_column: bool) -> None:
        self.client = client
        self.page_size = page_size
        self.used_column = used_column

    def run(self, todo: Iterable[Task]) -> Iterator[tuple[Task, list[Any]]]:
        yield from unordered_map(self._fetch, todo, reader_threads(self.client))

    def _fetch(self, task: Task) -> list[Any]:
        nid = sql.integer(task.target.netsuite_id)
        if task.kind == "codes":
            return self._codes(nid, task.window)
        query = ("SELECT tp.couponcode AS id, cc.code AS code, tp.transaction AS tx "
                 "FROM tranpromotion tp JOIN couponcode cc ON cc.id = tp.couponcode "
                 f"WHERE tp.promocode = {nid}")
        # A code used by two orders gives two rows with one key; keyset paging then skips
        # the second only when a page ends between them, and that code is already seen.
        return read_window(self.client, query, task.window, self.page_size,
                           window_key="tp.couponcode", page_key="tp.couponcode")

    def _codes(self, nid: str, window: Window) -> list[Row]:
        """A window's codes: its first page (the whole window, nearly always) as tuples;
        a window holding more than a page goes on by keyset after the first page's last id."""
        used = self.used_column
        query = f"SELECT id, code{', used' if used else ''} FROM couponcode WHERE promotion = {nid}"
        page = self.client.suiteql_page_or(first_query(query, window), limit=self.page_size,
                                           offset=0, take=lambda text: compact_rows(text, used))
        if isinstance(page, list):
            return page
        items = [i for i in page.get("items") or [] if isinstance(i, dict)]
        rows = [_tuple(i, used) for i in items]
        if page.get("hasMore") and items:
            rest = self.client.suiteql_keyset(
                f"{query} AND id > {window.low} AND id <= {window.high} AND id > {{after}} "
                "ORDER BY id", key="id", start_after=int(items[-1]["id"]),
                page_size=self.page_size)
            rows.extend(_tuple(i, used) for i in rest)
        return rows


def _tuple(item: dict[str, Any], used: bool) -> Row:
    return (item["code"], item["id"], item.get("used")) if used else (item["code"], item["id"])
