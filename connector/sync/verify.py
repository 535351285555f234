"""`sync verify`: a three-way reconciliation of the store and NetSuite, read-only (R43).

    records  the snapshot (sync.remote) against the local promotions: chunks NetSuite lacks,
             chunks inactive there, promotions deleted here but active there, and records
             under promosync's external-id prefix that no local promotion or chunk owns
    codes    every code of every single-use chunk, read once (sync.verify_read), against the
             store's codes of that chunk (sync.verify_local): codes missing on either side,
             NetSuite ids the store does not record
    used     used / unused parity: codes used in NetSuite but active here (not mirrored),
             codes redeemed here that NetSuite shows unused (not pushed, or kept here)

Why every code is read: equal counts (or sums of ids) do not prove equal sets - a deleted code
and an added one leave the count as it was - and SuiteQL offers no aggregate over the codes'
text that the account check can vouch for. So each code is seen once, a page holds at most
1,000, and a chunk of n codes costs at least ceil(n / 1,000) pages; the aggregates (records,
per-chunk count and id range, used count) are what makes the pages run in parallel.

No lock is taken and nothing is written. A run may be moving codes meanwhile: every candidate
difference is looked up again in the store after NetSuite was read, so a code pushed, read
back or mirrored in between is not reported. A code the store holds under an id above the
chunk's highest when NetSuite was counted (pushed since, or the highest and deleted since?)
is looked up by id: one query, and only when there is such a code. While a run holds the
lock, what it moves is listed as pending, which does not fail the verify.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from connector.chunks import chunk_count, chunk_external_id
from connector.codes import paused_gc
from connector.netsuite import NetSuiteClient
from connector.store import Store
from connector.sync import suiteql_values as sql
from connector.sync.counting import RequestCounter
from connector.sync.local import local_promotions
from connector.sync.mapping import Mapping
from connector.sync.model import LocalPromotion, RemoteChunk
from connector.sync.plan import chunk_targets
from connector.sync.remote import PREFIX, snapshot
from connector.sync.session import Account
from connector.sync.state import load_records
from connector.sync.verify_local import (
    ChunkCodes,
    Fresh,
    chunk_codes,
    fresh,
    promotion_keys,
    redeemed_per_chunk,
    sync_running,
    unplaced_codes,
)
from connector.sync.verify_model import MOVING, ChunkCheck, Difference, VerifyReport
from connector.sync.verify_read import Pages, Target, Task, chunk_tasks, used_ranges

_CHUNK_EID = re.compile(r"promosync-([0-9a-z]+)-([0-9]+)")
_ABSENT = object()


@dataclass
class _Candidate:
    kind: str
    target: Target
    code: str
    netsuite_id: str | None = None
    transaction: str | None = None


@dataclass
class _Chunk:
    """Comparison state of one chunk while its pages come in."""

    target: Target
    local: ChunkCodes | None = None
    loading: Future[ChunkCodes] | None = None  # the store's codes, read on the loader thread
    left: int = 0  # code windows still to come
    used_left: int = 0
    ns_used: int = 0  # codes NetSuite's pages showed used (couponcode.used)
    redeemed_ids: dict[str, str] = field(default_factory=dict)  # NetSuite id -> code
    used: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # id -> code, tx


class Verifier:
    """`Verifier(store, client, mapping, account).run(names)` -> VerifyReport."""

    def __init__(self, store: Store, client: NetSuiteClient, mapping: Mapping,
                 account: Account) -> None:
        self.store = store
        self.client = client
        self.mapping = mapping
        self.account = account
        self.candidates: list[_Candidate] = []
        self.loader: ThreadPoolExecutor | None = None

    def run(self, names: Collection[str] | None = None) -> VerifyReport:
        started = time.perf_counter()
        counter = RequestCounter(self.client)
        try:
            report = self.account.retrying(lambda: self._run(names))
        finally:
            counter.close()
        report.requests, report.pages = counter.count, counter.pages
        report.seconds = time.perf_counter() - started
        return report

    def _run(self, names: Collection[str] | None) -> VerifyReport:
        self.candidates = []
        report = VerifyReport()
        shapes = self.account.shapes()
        report.used_source = shapes.used_counts
        # The store's side is read on a thread of its own while NetSuite answers, and the
        # pages start as soon as NetSuite's records are known: counting a million codes per
        # chunk takes the store longer than the first requests take NetSuite.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify-store") as side, \
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify-codes") as loader:
            self.loader = loader
            local = side.submit(self._local_side, names)
            with self.store.read() as conn:
                running = sync_running(conn)
                records = load_records(conn)
                basics = promotion_keys(conn, names)
            remote = snapshot(self.client, None, self.mapping.use_types.values(),
                              known=records, keys=None if names is None else list(basics))
            used: dict[str, tuple[int, int, int]] = {}
            chunk_ids = [r.id for eid, r in remote.items() if _CHUNK_EID.fullmatch(eid)]
            if shapes.used_counts == "tranpromotion" and chunk_ids:
                used = used_ranges(self.client, chunk_ids, self.mapping.page_size)
            state = self._codes([_with_used(t, used.get(t.netsuite_id))
                                 for t in _paged(basics, remote)], shapes.used_counts)
            promotions, redeemed, unplaced = local.result()
        owned = {(t.promotion_id, t.chunk) for t in self._records(
            promotions, remote, names is None, report, redeemed, unplaced)}
        checks = {(c.promotion, c.chunk): c for c in report.chunks}
        for key, st in state.items():
            check = checks.get((st.target.promotion, st.target.chunk + 1))
            if key in owned and check is not None:
                check.netsuite_used = (st.ns_used if shapes.used_counts == "couponcode"
                                       else len(st.used) if shapes.used_counts else None)
        # a record past the promotion's last chunk is reported as unknown, its codes are not
        self.candidates = [c for c in self.candidates
                           if (c.target.promotion_id, c.target.chunk) in owned]
        with self.store.read() as conn:
            report.running = running or sync_running(conn)
        self._judge(report)
        if report.running:
            for d in report.differences:
                d.pending = d.kind in MOVING
        return report

    def _local_side(self, names: Collection[str] | None
                    ) -> tuple[list[LocalPromotion], dict[int, dict[int, int]], dict[int, int]]:
        """The local promotions with their code counts per chunk, codes redeemed per chunk,
        and codes in no chunk yet."""
        with self.store.read() as conn:
            promotions = local_promotions(conn, self.mapping.chunk_size)
            if names is not None:
                promotions = [p for p in promotions if p.name in names]
            live = [p for p in promotions if not p.deleted]
            redeemed = {p.id: redeemed_per_chunk(conn, p.id) for p in live}
            unplaced = {p.id: unplaced_codes(conn, p.id) for p in live
                        if p.use_type == "single_use"}
        return promotions, redeemed, unplaced

    # ---- records ----------------------------------------------------------------------------

    def _records(self, promotions: list[LocalPromotion], remote: dict[str, RemoteChunk],
                 every: bool, report: VerifyReport, redeemed_by: dict[int, dict[int, int]],
                 unplaced_by: dict[int, int]) -> list[Target]:
        owned: set[str] = set()
        targets: list[Target] = []
        for promo in sorted(promotions, key=lambda p: p.name):
            prefix = f"{PREFIX}{promo.external_key}-"
            if promo.deleted:
                for eid, old in remote.items():
                    if eid.startswith(prefix):
                        owned.add(eid)
                        if old.inactive is False:
                            report.differences.append(Difference(
                                "deleted_here", promo.name, _chunk_no(eid), eid,
                                netsuite_id=old.id))
                continue
            n = self._chunks(promo)
            redeemed, unplaced = redeemed_by.get(promo.id, {}), unplaced_by.get(promo.id, 0)
            for k in range(n):
                eid = chunk_external_id(promo.external_key, k)
                owned.add(eid)
                rec = remote.get(eid)
                local = promo.chunks.get(k)
                check = ChunkCheck(promo.name, k + 1, eid, rec.id if rec else None,
                                   store_codes=local.codes if local else 0,
                                   netsuite_codes=rec.codes if rec else 0,
                                   store_redeemed=redeemed.get(k, 0))
                report.chunks.append(check)
                if rec is None:
                    report.differences.append(Difference("record_missing", promo.name, k + 1,
                                                         eid))
                    continue
                if rec.inactive:
                    report.differences.append(Difference("record_inactive", promo.name,
                                                         k + 1, eid, netsuite_id=rec.id))
                if promo.use_type == "single_use":
                    targets.append(Target(promo.name, promo.id, k, eid, rec.id, rec.codes,
                                          rec.lo, rec.hi))
                    check.compared = True
            if unplaced:
                report.differences.append(Difference("codes_not_placed", promo.name, None,
                                                     why=f"{unplaced:,}"))
        if every:
            for eid, rec in sorted(remote.items()):
                # an inactive one is harmless: no code of it can be used
                if eid not in owned and "-retired-" not in eid and rec.inactive is not True:
                    report.differences.append(Difference("unknown_record", None, None, eid,
                                                         netsuite_id=rec.id,
                                                         repair={"step": "inactivate",
                                                                 "netsuite_id": rec.id,
                                                                 "external_id": eid}))
        return targets

    def _chunks(self, promo: LocalPromotion) -> int:
        """How many chunks the planner gives the promotion (sync.plan._promotion)."""
        size = self.mapping.chunk_size
        if promo.use_type != "single_use":
            return 1
        if promo.codes_from == "netsuite":
            return len(chunk_targets(max(promo.target, promo.code_count), size))
        return max(chunk_count(promo.code_count, size), max(promo.chunks, default=-1) + 1)

    # ---- codes ------------------------------------------------------------------------------

    def _codes(self, targets: list[Target], used_source: str | None
               ) -> dict[tuple[int, int], _Chunk]:
        state = {(t.promotion_id, t.chunk): _Chunk(t) for t in targets}
        pages = Pages(self.client, self.mapping.page_size, used_source == "couponcode")
        with paused_gc():
            for task, rows in pages.run(self._tasks(state)):
                self._page(state[(task.target.promotion_id, task.target.chunk)], task, rows,
                           used_source)
        if used_source == "tranpromotion":
            for st in state.values():
                self._used_parity(st)
        return state

    def _tasks(self, state: dict[tuple[int, int], _Chunk]) -> Iterator[Task]:
        """Each chunk's pages, chunk after chunk, pulled as request slots free up. The store's
        codes of a chunk are read on the loader thread, the next chunk's while this one's
        pages are on the wire; a chunk whose NetSuite ids are consecutive needs none of them
        to be cut into windows. A chunk's windows are all counted before the first goes."""
        chunks = list(state.values())
        loader = self.loader
        assert loader is not None
        for i, st in enumerate(chunks):
            for ahead in chunks[i:i + 2]:
                if ahead.loading is None:
                    ahead.loading = loader.submit(self._read_chunk, ahead.target)
            t = st.target
            known: list[int] = []
            if t.lo is not None and t.hi is not None and t.hi - t.lo + 1 != t.codes:
                known = sorted(int(v) for v in self._local(st).ids.values()
                               if v is not None and v.isdigit())
            todo = chunk_tasks(t, known, self.mapping.page_size)
            st.left = sum(1 for task in todo if task.kind == "codes")
            st.used_left = len(todo) - st.left
            if not st.left:  # no code in NetSuite: no page to wait for
                self._leftovers(st)
            yield from todo

    def _read_chunk(self, t: Target) -> ChunkCodes:
        with self.store.read() as conn:
            return chunk_codes(conn, t.promotion_id, t.chunk)

    def _local(self, st: _Chunk) -> ChunkCodes:
        if st.local is None:
            st.local = (st.loading.result() if st.loading is not None
                        else self._read_chunk(st.target))
        return st.local

    def _page(self, st: _Chunk, task: Task, rows: list[Any],
              used_source: str | None) -> None:
        if task.kind == "used":
            for r in rows:
                st.used.setdefault(str(r["id"]), (str(r["code"]).upper(),
                                                  str(r["tx"]) if r.get("tx") else None))
            st.used_left -= 1
            return
        local = self._local(st)
        ids, states, t = local.ids, local.states, st.target
        add, pop = self.candidates.append, ids.pop
        column = used_source == "couponcode"
        for r in rows:  # a million times: the common case costs one pop and one compare
            code = r[0]
            mine = pop(code, _ABSENT)
            if mine is _ABSENT:
                code = str(code).upper()
                mine = pop(code, _ABSENT)
                if mine is _ABSENT:
                    add(_Candidate("unknown_code", t, code, str(r[1])))
                    continue
            nid = r[1]
            if mine != nid:
                nid = str(nid)
                if mine != nid:
                    add(_Candidate("not_recorded", t, code, nid))
            if not (states or column):
                continue
            here = states.get(code, "active")
            if here == "redeemed":
                st.redeemed_ids[str(nid)] = code
            if column:
                used = r[2] == "T"
                if used:
                    st.ns_used += 1
                if used and here == "active":
                    add(_Candidate("not_mirrored", t, code, str(nid)))
                elif not used and here == "redeemed":
                    add(_Candidate("used_here_only", t, code, str(nid)))
        st.left -= 1
        if not st.left:
            self._leftovers(st)

    def _leftovers(self, st: _Chunk) -> None:
        """The store's codes of a chunk that NetSuite's pages did not show."""
        local = self._local(st)
        hi = st.target.hi
        for code, nid in local.ids.items():
            if nid is None:
                if local.states.get(code, "active") == "active":
                    self.candidates.append(_Candidate("not_pushed", st.target, code))
            else:
                kind = ("missing_in_netsuite" if hi is None or not nid.isdigit()
                        or int(nid) <= hi else "beyond")
                self.candidates.append(_Candidate(kind, st.target, code, nid))
        local.ids.clear()

    def _used_parity(self, st: _Chunk) -> None:
        """tranpromotion accounts: NetSuite's used ids against the codes redeemed here."""
        for nid, (code, tx) in st.used.items():
            if nid not in st.redeemed_ids:
                self.candidates.append(_Candidate("not_mirrored", st.target, code, nid, tx))
        for nid, code in st.redeemed_ids.items():
            if nid not in st.used:
                self.candidates.append(_Candidate("used_here_only", st.target, code, nid))

    # ---- judging candidates against the store as it is now ----------------------------------

    def _judge(self, report: VerifyReport) -> None:
        self._beyond()
        with self.store.read() as conn:
            now = fresh(conn, [c.code for c in self.candidates])
        for cand in self.candidates:
            diff = self._verdict(cand, now.get(cand.code))
            if diff is not None:
                report.differences.append(diff)

    def _beyond(self) -> None:
        """Codes the store holds under ids above a chunk's highest when NetSuite was counted:
        pushed since then, or the highest ones and deleted since. NetSuite is asked which of
        those ids exist now (one query per 500; none in the usual case)."""
        beyond = [c for c in self.candidates if c.kind == "beyond"]
        if not beyond:
            return
        ids = sorted({str(c.netsuite_id) for c in beyond}, key=int)
        there: set[str] = set()
        for i in range(0, len(ids), 500):
            there.update(str(r["id"]) for r in self.client.suiteql(
                f"SELECT id FROM couponcode WHERE id IN ({sql.integers(ids[i:i + 500])})"))
        for c in beyond:
            c.kind = "pushed_since" if c.netsuite_id in there else "missing_in_netsuite"
        self.candidates = [c for c in self.candidates if c.kind != "pushed_since"]

    def _verdict(self, cand: _Candidate, now: Fresh | None) -> Difference | None:
        t = cand.target

        def diff(kind: str, repair: dict[str, Any] | None = None, why: str = "") -> Difference:
            return Difference(kind, t.promotion, t.chunk + 1, t.external_id, cand.code,
                              cand.netsuite_id, cand.transaction, why, repair=repair)

        mine = now is not None and now.promotion_id == t.promotion_id and now.chunk == t.chunk
        if cand.kind == "unknown_code":
            if now is None:
                return diff("unknown_code", {"step": "adopt", "code": cand.code,
                                             "netsuite_id": cand.netsuite_id,
                                             "promotion_id": t.promotion_id,
                                             "chunk_index": t.chunk,
                                             "external_id": t.external_id,
                                             "record": t.netsuite_id})
            if not mine:
                return diff("other_chunk")
            cand.kind = "not_recorded"  # read back or pushed while NetSuite was read
        assert now is not None
        if cand.kind == "not_recorded":
            if now.netsuite_id == cand.netsuite_id:
                return None
            return diff("not_recorded", {"step": "record_id", "code": cand.code,
                                         "netsuite_id": cand.netsuite_id,
                                         "was": now.netsuite_id})
        if cand.kind == "not_pushed":
            if now.netsuite_id is not None or now.state != "active" or not mine:
                return None  # pushed (or redeemed, voided) while NetSuite was read
            return diff("not_pushed")
        if cand.kind == "missing_in_netsuite":
            if now.netsuite_id != cand.netsuite_id or not mine:
                return None
            if now.state == "redeemed":
                return diff("missing_used")
            if now.state != "active":
                return None  # a voided code NetSuite no longer has is no loss
            return diff("missing_in_netsuite", {"step": "forget_id", "code": cand.code,
                                                "netsuite_id": cand.netsuite_id})
        if cand.kind == "not_mirrored":
            if now.state != "active":
                return None
            return diff("not_mirrored", {"step": "mirror", "code": cand.code,
                                         "transaction": cand.transaction})
        # used_here_only: redeemed here, unused in NetSuite
        if now.state != "redeemed":
            return None
        if now.redeemed_by == "local" and not now.pushed:
            return diff("redemption_not_pushed" if self.mapping.push_local_redemptions
                        else "redemption_kept_here")
        why = ("mirrored from NetSuite earlier" if now.redeemed_by == "netsuite"
               else "its sales order was pushed" if now.redeemed_by == "local"
               else "no redemption event")
        return diff("used_here_only", why=why)


def _paged(basics: dict[str, tuple[int, str, bool]], remote: dict[str, RemoteChunk]
           ) -> list[Target]:
    """NetSuite's chunk records of the local single-use promotions still live, in promotion
    name and chunk order: what is read code by code (known before the store's counts are)."""
    out = []
    for eid, rec in remote.items():
        found = _CHUNK_EID.fullmatch(eid)
        promo = basics.get(found.group(1)) if found else None
        if found and promo is not None and promo[2]:
            out.append(Target(promo[1], promo[0], int(found.group(2)) - 1, eid, rec.id,
                              rec.codes, rec.lo, rec.hi))
    return sorted(out, key=lambda t: (t.promotion, t.chunk))


def _with_used(t: Target, found: tuple[int, int, int] | None) -> Target:
    if found is None:
        return t
    return dataclasses.replace(t, used=found[0], used_lo=found[1], used_hi=found[2])


def _chunk_no(eid: str) -> int | None:
    found = _CHUNK_EID.fullmatch(eid)
    return int(found.group(2)) if found else None
