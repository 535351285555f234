"""Mirroring redemptions back from NetSuite, and pushing local ones there (R29).

Where "used" comes from is a mapping setting:

* `couponcode`: codes with used = 'T'. The watermark is a lastModifiedDate; one run reads the
  closed range [from, to] (`to` = the newest lastModifiedDate when the run starts), by id
  windows in parallel. Rows of the second `to` are read again next time (`>=`), harmlessly.
* `tranpromotion`: rows of the transaction-promotion table; the watermark is the last
  transaction id read (new orders get higher ids).

Either way the range is cut into id windows read on `concurrency` threads (past NetSuite's
100,000-row cap: keyset within windows, never offset), and applied in bulk. The watermark moves
only over the contiguous prefix of windows already applied, in the same transaction as their
rows, so a killed mirror resumes where it stopped. Applying is idempotent (codes still active
only), and nothing ever marks a code unused again: codes of cancelled orders stay used (R18).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connector.codes import paused_gc
from connector.errors import NetSuiteError
from connector.netsuite import NetSuiteClient
from connector.store import Store
from connector.sync import suiteql_values as sql
from connector.sync._writer import StoreWriter
from connector.sync.local import (
    apply_redemptions,
    count_unpushed_local,
    local_redemptions_to_push,
    mark_events_pushed,
)
from connector.sync.mapping import Mapping
from connector.sync.remote import Window, read_window, reader_threads, unordered_map, windows
from connector.sync.state import get_watermark, set_watermark

log = logging.getLogger("promosync.sync")
FLUSH_ROWS = 50_000
Hook = Callable[[str], None]
_Batch = tuple[list[tuple[str, str | None]], str]  # rows (code, transaction), watermark after


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
    def __init__(self, store: Store, client: NetSuiteClient, mapping: Mapping, *,
                 hook: Hook | None = None, progress: Callable[[int], None] | None = None) -> None:
        self.store = store
        self.client = client
        self.mapping = mapping
        self.hook = hook or (lambda step: None)
        self.progress = progress or (lambda n: None)
        self.source = mapping.redemption_source
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
        if self.source == "tranpromotion":
            after = int(state.get("after", 0))
            b = self._bounds(
                "SELECT COUNT(*) AS n, MIN(transaction) AS lo, MAX(transaction) AS hi FROM "
                "tranpromotion WHERE couponcode IS NOT NULL "
                f"AND transaction > {sql.integer(after)}")
            query = ("SELECT tp.couponcode AS id, tp.transaction AS tx, cc.code AS code "
                     "FROM tranpromotion tp JOIN couponcode cc ON cc.id = tp.couponcode "
                     "WHERE tp.couponcode IS NOT NULL")
            if b is None:
                return None
            parts = windows(b[1], b[2], b[0], page)
            return _Range(query, "tp.transaction", "tp.couponcode", parts, {"after": after})
        since = state.get("from")
        cond = "used = 'T'" + (f" AND lastmodifieddate >= {sql.timestamp(since)}" if since else "")
        top = state.get("to")
        if top is None:
            rows = list(self.client.suiteql(
                f"SELECT MAX(lastmodifieddate) AS top FROM couponcode WHERE {cond}",
                page_size=page))
            top = rows[0].get("top") if rows else None
            if top is None:
                return None
        cond += f" AND lastmodifieddate <= {sql.timestamp(top)}"
        after = int(state.get("after", 0))
        b = self._bounds(f"SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM couponcode "
                         f"WHERE {cond} AND id > {sql.integer(after)}")
        query = f"SELECT id, code FROM couponcode WHERE {cond}"
        base = {"from": since, "to": top}
        parts = windows(b[1], b[2], b[0], page) if b else []
        return _Range(query, "id", "id", parts, base)

    def _bounds(self, query: str) -> tuple[int, int, int] | None:
        rows = list(self.client.suiteql(query, page_size=self.mapping.page_size))
        if not rows or not int(rows[0].get("n") or 0):
            return None
        r = rows[0]
        return int(r["n"]), int(r["lo"]), int(r["hi"])

    def _done_state(self, rng: _Range, upto: int | None, finished: bool) -> str:
        if self.source == "tranpromotion":
            return json.dumps({"after": upto if upto is not None else rng.state["after"]})
        if finished:
            return json.dumps({"from": rng.state["to"]})
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
        with self.store.read() as conn:
            todo = [t for t in local_redemptions_to_push(conn) if t[2]]

        def one(item: tuple[int, str, str | None, int | None]) -> tuple[int, str | None]:
            event_id, code, nid, _customer = item
            body: dict[str, Any] = {"couponCode": {"id": nid},
                                    "memo": f"promosync: {code} redeemed at the point of sale"}
            if self.mapping.push_customer:
                body["entity"] = {"id": self.mapping.push_customer}
            try:
                self.client.upsert("salesOrder", f"promosync-redemption-{event_id}", body)
            except NetSuiteError as exc:
                return event_id, f"{code}: {exc}"
            return event_id, None

        pushed = []
        for _item, (event_id, error) in unordered_map(one, todo, self.client.concurrency):
            if error:
                report.push_errors.append(error)
            else:
                pushed.append(event_id)
        with self.store.begin() as conn:
            mark_events_pushed(conn, pushed)
            report.pushed = len(pushed)
            report.not_pushed = count_unpushed_local(conn)
