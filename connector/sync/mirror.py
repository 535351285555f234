"""Mirroring redemptions back from NetSuite, and pushing local ones there (R29).

Where "used" comes from is chosen from what the account offers (`capabilities.Shapes`):

* `tranpromotion` (preferred): the transaction-promotion table joined to its transaction. The
  watermark is the transaction's lastmodifieddate, read through TO_CHAR (raw SuiteQL dates come
  in the user's format, without the time) in the account's time zone. An order edited later to
  add a code keeps its old, lower id but gets a new lastmodifieddate, so it is seen; each pass
  starts `overlap` before the last one ended (late commits, daylight-saving changes) and rows
  seen twice are harmless. One pass reads [from - overlap, top], `top` being the newest
  lastmodifieddate when the pass starts.
* `couponcode`: codes with used = 'T'. couponcode has no lastmodifieddate, and a code used today
  may have the lowest id, so every pass reads all used codes (by id windows).

Either way the range is cut into id windows (by coupon code id) read on `concurrency` threads
(past NetSuite's 100,000-row cap: keyset within windows, never offset), and applied in bulk. The
watermark moves only over the contiguous prefix of windows already applied, in the same
transaction as their rows, so a killed mirror resumes where it stopped. Applying is idempotent
(codes still active only), and nothing ever marks a code unused again: codes of cancelled orders
stay used (R18).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connector.codes import paused_gc
from connector.netsuite import NetSuiteClient
from connector.store import Store
from connector.sync import suiteql_values as sql
from connector.sync._writer import StoreWriter
from connector.sync.capabilities import Shapes
from connector.sync.local import apply_redemptions, count_unpushed_local
from connector.sync.mapping import Mapping
from connector.sync.push_local import push_local_redemptions
from connector.sync.remote import Window, read_window, reader_threads, unordered_map, windows
from connector.sync.state import get_watermark, set_watermark

log = logging.getLogger("promosync.sync")
TO_CHAR_FORMAT = "YYYY-MM-DD HH24:MI:SS"
FLUSH_ROWS = 50_000
Hook = Callable[[str], None]
_Batch = tuple[list[tuple[str, str | None]], str]  # rows (code, transaction), watermark after


def overlap_start(since: str, minutes: int, timezone: str | None) -> str:
    """`since` (account-local 'YYYY-MM-DD HH:MM:SS') less the overlap: `minutes`, plus an hour
    when the account's time zone is not known or a clock change falls in the last day (an
    hour of local time then repeats, and a later row can carry an earlier-looking time)."""
    at = datetime.strptime(since, "%Y-%m-%d %H:%M:%S")
    margin = timedelta(minutes=minutes)
    if timezone is None or _clock_changed(at, ZoneInfo(timezone)):
        margin += timedelta(hours=1)
    return (at - margin).strftime("%Y-%m-%d %H:%M:%S")


def _clock_changed(at: datetime, zone: ZoneInfo) -> bool:
    before = (at - timedelta(days=1)).replace(tzinfo=zone).utcoffset()
    return before != at.replace(tzinfo=zone).utcoffset()


@dataclass
class MirrorReport:
    source: str
    rows_read: int = 0
    redeemed: int = 0  # codes newly marked redeemed (source netsuite)
    windows: int = 0
    watermark: str | None = None
    pushed: int = 0  # local redemptions written to NetSuite
    not_pushed: int = 0  # local redemptions NetSuite does not have (push off, or failed)
    push_errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class _Range:
    """One mirror pass: a query, its windows, and how the watermark reads when done."""

    query: str
    window_key: str
    page_key: str
    parts: list[Window]
    state: dict[str, Any]


class Mirror:
    def __init__(self, store: Store, client: NetSuiteClient, mapping: Mapping, shapes: Shapes,
                 *, hook: Hook | None = None,
                 progress: Callable[[int], None] | None = None) -> None:
        self.store = store
        self.client = client
        self.mapping = mapping
        self.hook = hook or (lambda step: None)
        self.progress = progress or (lambda n: None)
        self.source = shapes.redemption_source or "tranpromotion"
        self.timezone = shapes.timezone
        self.name = f"mirror.{self.source}"

    def run(self) -> MirrorReport:
        report = MirrorReport(self.source)
        for _ in range(2):  # a pass left unfinished by a killed run, then a fresh one
            state = self._state()
            resumed = state.get("to") is not None
            rng = self._range(state)
            if rng is not None:
                self._read(rng, report)
            if not resumed:
                break
        with self.store.read() as conn:
            report.watermark = get_watermark(conn, self.name)
        self._push_local(report)
        return report

    def _state(self) -> dict[str, Any]:
        with self.store.read() as conn:
            raw = get_watermark(conn, self.name)
        return json.loads(raw) if raw else {}

    # ---- ranges -------------------------------------------------------------------------------

    def _range(self, state: dict[str, Any]) -> _Range | None:
        page = self.mapping.page_size
        if self.source == "couponcode":
            after = int(state.get("after", 0))
            cond = "used = 'T'"
            b = self._bounds(f"SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM couponcode "
                             f"WHERE {cond} AND id > {sql.integer(after)}")
            if b is None:
                return None
            return _Range(f"SELECT id, code FROM couponcode WHERE {cond}", "id", "id",
                          windows(b[1], b[2], b[0], page), {"to": "all"})
        lower = state.get("lower") or self._lower(state.get("from"))
        top = state.get("to")
        after = int(state.get("after", 0))
        cond = "tp.couponcode IS NOT NULL"
        if lower:
            cond += f" AND t.lastmodifieddate >= {sql.timestamp(lower)}"
        if top:
            cond += f" AND t.lastmodifieddate <= {sql.timestamp(top)}"
        rows = list(self.client.suiteql(
            "SELECT COUNT(*) AS n, MIN(tp.couponcode) AS lo, MAX(tp.couponcode) AS hi, "
            f"TO_CHAR(MAX(t.lastmodifieddate), '{TO_CHAR_FORMAT}') AS top FROM tranpromotion tp "
            f"JOIN transaction t ON t.id = tp.transaction WHERE {cond} "
            f"AND tp.couponcode > {sql.integer(after)}", page_size=page))
        r = rows[0] if rows else {}
        if not int(r.get("n") or 0):
            return None
        if not top:
            top = str(r.get("top") or "")
            sql.timestamp(top)  # a date NetSuite sent that is not one is refused here
            cond += f" AND t.lastmodifieddate <= {sql.timestamp(top)}"
        query = ("SELECT tp.couponcode AS id, cc.code AS code, tp.transaction AS tx "
                 "FROM tranpromotion tp JOIN couponcode cc ON cc.id = tp.couponcode "
                 f"JOIN transaction t ON t.id = tp.transaction WHERE {cond}")
        parts = windows(int(r["lo"]), int(r["hi"]), int(r["n"]), page)
        return _Range(query, "tp.couponcode", "tp.couponcode", parts,
                      {"from": state.get("from"), "lower": lower, "to": top})

    def _lower(self, since: str | None) -> str | None:
        """Where a new pass starts: the last pass's top, less the overlap."""
        if not since:
            return None
        return overlap_start(since, self.mapping.overlap_minutes, self.timezone)

    def _bounds(self, query: str) -> tuple[int, int, int] | None:
        rows = list(self.client.suiteql(query, page_size=self.mapping.page_size))
        if not rows or not int(rows[0].get("n") or 0):
            return None
        r = rows[0]
        return int(r["n"]), int(r["lo"]), int(r["hi"])

    def _done_state(self, rng: _Range, upto: int | None, finished: bool) -> str:
        if finished:
            return json.dumps({"from": rng.state["to"]} if self.source == "tranpromotion"
                              else {})
        return json.dumps({**rng.state, "after": upto or 0})

    # ---- reading and applying ------------------------------------------------------------------

    def _read(self, rng: _Range, report: MirrorReport) -> None:
        page = self.mapping.page_size

        def fetch(w: Window) -> list[dict[str, Any]]:
            return read_window(self.client, rng.query, w, page, window_key=rng.window_key,
                               page_key=rng.page_key)

        done: set[int] = set()
        buffer: list[tuple[str, str | None]] = []

        def hand_off(final: bool) -> None:
            # Every window in `done` has its rows in this buffer or an earlier one, so the
            # watermark written with this buffer covers the applied prefix exactly.
            prefix = 0
            while prefix in done:
                prefix += 1
            upto = rng.parts[prefix - 1].high if prefix else None
            state = self._done_state(rng, upto, final and prefix == len(rng.parts))
            writer.add([(list(buffer), state)])
            buffer.clear()

        writer: StoreWriter[_Batch]
        # A million rows are a million short-lived dicts, lists and tuples without cycles: the
        # cyclic collector's full passes over them held the interpreter lock ~2.5 s in all
        # (up to 80 ms at a time, stalling every request in flight); reference counting frees
        # them anyway.
        with paused_gc(), StoreWriter(lambda batches: self._flush(batches, report),
                                      1) as writer:
            for w, rows in unordered_map(fetch, rng.parts, reader_threads(self.client)):
                buffer.extend((str(r["code"]), str(r["tx"]) if r.get("tx") else None)
                              for r in rows)
                report.rows_read += len(rows)
                report.windows += 1
                done.add(w.index)
                if len(buffer) >= FLUSH_ROWS:
                    hand_off(False)
            hand_off(True)

    def _flush(self, batches: list[_Batch], report: MirrorReport) -> int:
        """Apply buffers and move the watermark with them (on the writer thread)."""
        for rows, state in batches:
            with self.store.begin() as conn:
                report.redeemed += apply_redemptions(conn, self.store.dialect, rows)
                set_watermark(conn, self.store.dialect, self.name, state)
            self.progress(len(rows))
            self.hook("mirror_flush")
        return 0

    # ---- local redemptions to NetSuite ----------------------------------------------------------

    def _push_local(self, report: MirrorReport) -> None:
        if not self.mapping.push_local_redemptions:
            with self.store.read() as conn:
                report.not_pushed = count_unpushed_local(conn)
            return
        result = push_local_redemptions(self.store, self.client, self.mapping.push_customer)
        report.pushed = result.pushed
        report.not_pushed = result.not_pushed
        report.push_errors.extend(result.errors + result.skipped)
