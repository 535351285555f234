"""`promosync sync rebaseline`: relink the store to what NetSuite holds now (R46).

After a sandbox refresh (sync.refresh recognised it) the store's links point at records that
are gone or are now other records. Rebaseline, holding the sync lock:

1. checks the account again (as `netsuite check` does) and caches the new profile;
2. reads the snapshot of every promotionCode under promosync's external ids, each record's
   coupon codes (keyset by id, as read-back does) and promosync's sales orders;
3. in one store transaction rebuilds the links: each chunk's internal id, useType, customForm,
   active state and code count (a chunk NetSuite lacks is unlinked: the next run creates it
   again); each single-use code's NetSuite id (matched by code text; a code NetSuite lacks is
   unlinked, and an active one is pushed by the next run); codes NetSuite generated that the
   store lacks are read in; local redemptions whose sales order NetSuite lacks are queued to be
   pushed again (where the mapping pushes them); the mirror's watermarks are dropped, so the
   next mirror reads NetSuite's redemptions from the start (applying them is idempotent), and
   so is a repair plan of `sync verify --fix` (made against NetSuite as it was).

Nothing here changes a code's state: a redeemed code stays redeemed, and every local
redemption and its event stay. Body hashes are cleared, so the next run rewrites each record's
fields once (an older copy may hold older ones). Nothing is written to NetSuite.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from connector.chunks import chunk_external_id
from connector.models import EventKind
from connector.netsuite import NetSuiteClient
from connector.store import Store
from connector.store import schema as s
from connector.sync import suiteql_values as sql
from connector.sync.counting import RequestCounter
from connector.sync.engine import stopped
from connector.sync.ledger import KEEP_DAYS
from connector.sync.local import local_promotions, read_back_values, store_read_back
from connector.sync.mapping import Mapping
from connector.sync.model import ChunkRecord, LocalPromotion, RemoteChunk
from connector.sync.remote import (
    Window,
    read_window,
    reader_threads,
    snapshot,
    unordered_map,
    windows,
)
from connector.sync.session import Account
from connector.sync.state import (
    SyncLock,
    chunk_batch,
    finish_run,
    load_records,
    save_record,
    start_run,
)
from connector.sync.verify_repair import NAME as REPAIRS

log = logging.getLogger("promosync.sync")
ORDER_PREFIX = "promosync-redemption-"
_TEMP = {
    "sqlite": "CREATE TEMP TABLE IF NOT EXISTS rebaseline_codes (code TEXT PRIMARY KEY, "
              "nid TEXT NOT NULL)",
    "postgresql": "CREATE TEMP TABLE IF NOT EXISTS rebaseline_codes (code TEXT PRIMARY KEY, "
                  "nid TEXT NOT NULL) ON COMMIT DROP",
}
# One parameter per chunk (the rows as JSON on SQLite, two arrays on PostgreSQL), codes upper-cased
# as read-back stores them.
_FILL = {
    "sqlite": "INSERT OR IGNORE INTO rebaseline_codes (code, nid) SELECT "
              "upper(j.value ->> 'code'), CAST(j.value ->> 'id' AS TEXT) FROM json_each(?) j",
    "postgresql": "INSERT INTO rebaseline_codes (code, nid) SELECT upper(j.code), j.nid "
                  "FROM unnest(%s::text[], %s::text[]) AS j(code, nid) "
                  "ON CONFLICT (code) DO NOTHING",
}


@dataclass
class RebaselineReport:
    """What rebaseline changed in the store (counts; no secret, no code list)."""

    account: str
    chunks_kept: int = 0  # the same internal id as before
    chunks_relinked: int = 0  # NetSuite holds the chunk under another internal id
    chunks_gone: int = 0  # NetSuite lacks the chunk: the next run creates it again
    codes_relinked: int = 0  # codes whose NetSuite id changed (or was found)
    codes_unlinked: int = 0  # codes NetSuite lacks (active ones: pushed by the next run)
    codes_read: int = 0  # codes NetSuite generated that the store lacked
    codes_unknown: int = 0  # codes in a promosync record the store does not know (left)
    redemptions_queued: int = 0  # local redemptions whose sales order NetSuite lacks
    redeemed_kept: int = 0  # codes redeemed in the store (unchanged)
    watermarks_reset: list[str] = field(default_factory=list)
    repairs_dropped: int = 0  # steps of a `sync verify --fix` plan made before the refresh
    requests: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def lines(self) -> list[str]:
        return [
            f"account {self.account} checked again; its profile is cached",
            f"chunks: {self.chunks_kept:,} kept, {self.chunks_relinked:,} relinked to new "
            f"internal ids, {self.chunks_gone:,} not in NetSuite (the next sync run creates "
            "them again)",
            f"codes: {self.codes_relinked:,} relinked, {self.codes_unlinked:,} not in NetSuite "
            f"(active ones are pushed by the next sync run), {self.codes_read:,} generated by "
            f"NetSuite read in, {self.codes_unknown:,} in NetSuite unknown here (left as they "
            "are)",
            f"redemptions: {self.redeemed_kept:,} redeemed codes kept; "
            f"{self.redemptions_queued:,} local redemptions queued to be pushed again",
            *([f"sync verify's repair plan ({self.repairs_dropped:,} steps) dropped: it was made "
               "against NetSuite as it was; run `promosync sync verify` again"]
              if self.repairs_dropped else []),
            "mirror: " + (f"watermarks reset ({', '.join(self.watermarks_reset)}): the next "
                          "mirror reads NetSuite's redemptions from the start"
                          if self.watermarks_reset else "no watermark to reset"),
            f"sync rebaseline: done in {self.seconds:.1f} s ({self.requests:,} requests); "
            "run `promosync sync run` to bring NetSuite back in step",
        ]


@dataclass(frozen=True)
class _Chunk:
    promotion: LocalPromotion
    chunk: int
    external_id: str


class Rebaseline:
    """One rebaseline: `run()` reads NetSuite, then rewrites the links in one transaction."""

    def __init__(self, store: Store, client: NetSuiteClient, mapping: Mapping, *,
                 timezone: str | None = None, lock_ttl: float = 60.0,
                 keep_days: int = KEEP_DAYS) -> None:
        self.store = store
        self.client = client
        self.mapping = mapping
        self.timezone = timezone
        self.lock_ttl = lock_ttl
        self.keep_days = keep_days

    def run(self) -> RebaselineReport:
        """Relink under the sync lock; recorded in the run ledger (`sync history`) as command
        `rebaseline`, with how it ended."""
        started = time.monotonic()
        sent = RequestCounter(self.client)
        report = RebaselineReport(self.client.account_id)
        try:
            with SyncLock(self.store, ttl=self.lock_ttl) as lock:
                run = start_run(self.store, "rebaseline", lock.owner, self.keep_days)
                try:
                    self._relink_all(lock, report)
                except BaseException as exc:
                    outcome, reason = stopped(exc)
                    self._record(run, outcome, reason, report, sent, started)
                    raise
                self._record(run, "ok", None, report, sent, started)
        finally:
            sent.close()
        return report

    def _record(self, run: int, outcome: str, reason: str | None, report: RebaselineReport,
                sent: RequestCounter, started: float) -> None:
        report.requests = sent.count
        report.seconds = round(time.monotonic() - started, 3)
        data = {"command": "rebaseline", "run": run, "outcome": outcome, "reason": reason,
                "exit_code": 0 if outcome == "ok" else None,
                "rate_limited": sent.by_status.get(429, 0), **report.as_dict()}
        try:
            finish_run(self.store, run, outcome, data)
        except Exception as exc:  # noqa: BLE001 - the store is down too: its own error is said
            if outcome == "ok":
                raise
            log.warning("could not record how sync rebaseline %s ended (%s)", run, exc)

    def _relink_all(self, lock: SyncLock, report: RebaselineReport) -> None:
        """Read NetSuite, then rewrite the store's links in one transaction."""
        account = Account(self.store, self.client, self.mapping, timezone=self.timezone,
                          recheck=True)
        account.check()
        shapes = account.shapes()
        remote = snapshot(self.client, shapes.used_counts,
                          self.mapping.use_types.values())  # every record read by REST too
        chunks = self._chunks(remote)
        codes = self._codes([remote[c.external_id] for c in chunks
                             if c.external_id in remote
                             and c.promotion.use_type == "single_use"])
        orders = self._orders()
        lock.check()
        with self.store.begin() as conn:
            records = load_records(conn)
            for c in chunks:
                self._relink(conn, c, records.get(c.external_id), remote.get(c.external_id),
                             codes.get(c.external_id), report)
            report.redemptions_queued = _queue_redemptions(conn, orders)
            report.redeemed_kept = int(conn.scalar(
                select(func.count()).select_from(s.codes)
                .where(s.codes.c.state == "redeemed")) or 0)
            report.watermarks_reset = _reset_watermarks(conn)
            report.repairs_dropped = _drop_repairs(conn)
            lock.check()

    # ---- reading NetSuite ---------------------------------------------------------------------

    def _chunks(self, remote: dict[str, RemoteChunk]) -> list[_Chunk]:
        """Every chunk the store links or NetSuite holds under a local promotion's ids."""
        with self.store.read() as conn:
            promotions = {p.id: p for p in local_promotions(conn, self.mapping.chunk_size)}
            rows = conn.execute(select(s.sync_chunks.c.promotion_id, s.sync_chunks.c.chunk,
                                       s.sync_chunks.c.external_id)).all()
        out = {(r.promotion_id, r.chunk): _Chunk(promotions[r.promotion_id], r.chunk,
                                                 r.external_id)
               for r in rows if r.promotion_id in promotions}
        for promo in promotions.values():
            k = 0
            while chunk_external_id(promo.external_key, k) in remote:
                out.setdefault((promo.id, k), _Chunk(promo, k,
                                                     chunk_external_id(promo.external_key, k)))
                k += 1
        return [out[key] for key in sorted(out)]

    def _codes(self, records: list[RemoteChunk]) -> dict[str, list[dict[str, Any]]]:
        """Per external id, the record's coupon codes as SuiteQL gives them ({"id", "code"}):
        cut into id windows of about a page (the snapshot gives each record's count and id
        range), read on parallel threads, keyset within a window, as read-back does."""
        page = self.mapping.page_size
        out: dict[str, list[dict[str, Any]]] = {r.external_id: [] for r in records}
        work = [(r, w) for r in records if r.codes and r.lo is not None and r.hi is not None
                for w in windows(r.lo, r.hi, r.codes, page)]

        def fetch(item: tuple[RemoteChunk, Window]) -> list[dict[str, Any]]:
            rec, window = item
            query = f"SELECT id, code FROM couponcode WHERE promotion = {sql.integer(rec.id)}"
            return read_window(self.client, query, window, page)

        for (rec, _w), rows in unordered_map(fetch, work, reader_threads(self.client)):
            out[rec.external_id].extend(rows)
        return out

    def _orders(self) -> set[str]:
        """External ids of the sales orders promosync pushed that NetSuite holds."""
        rows = self.client.suiteql_keyset(
            "SELECT id, externalid FROM transaction WHERE externalid LIKE "
            f"{sql.string(ORDER_PREFIX + '%')} AND id > {{after}} ORDER BY id",
            page_size=self.mapping.page_size)
        return {str(r["externalid"]) for r in rows}

    # ---- rewriting the store ------------------------------------------------------------------

    def _relink(self, conn: Connection, c: _Chunk, old: ChunkRecord | None,
                rec: RemoteChunk | None, codes: list[dict[str, Any]] | None,
                report: RebaselineReport) -> None:
        dialect = self.store.dialect
        pid, k = c.promotion.id, c.chunk
        if rec is None:
            report.chunks_gone += 1
            save_record(conn, dialect, pid, k, external_id=c.external_id, netsuite_id=None,
                        body_hash=None, target=0,
                        state="inactive" if c.promotion.deleted else "active")
        else:
            if old is not None and old.netsuite_id == rec.id:
                report.chunks_kept += 1
            else:
                report.chunks_relinked += 1
            save_record(conn, dialect, pid, k, external_id=c.external_id, netsuite_id=rec.id,
                        use_type=rec.use_type or (old.use_type if old else None),
                        custom_form=rec.custom_form or (old.custom_form if old else None),
                        body_hash=None, target=rec.codes,
                        state="inactive" if rec.inactive else "active")
        if c.promotion.use_type != "single_use":
            return
        self._relink_codes(conn, c, rec, codes or [], report)

    def _relink_codes(self, conn: Connection, c: _Chunk, rec: RemoteChunk | None,
                      remote: list[dict[str, Any]], report: RebaselineReport) -> None:
        """Set-based, as the mirror applies redemptions: NetSuite's codes of the chunk go to a
        temporary table in one statement, then one UPDATE unlinks the chunk's codes NetSuite
        lacks and one relinks those it holds under another id (the unique index on code)."""
        dialect = self.store.dialect
        mark = "?" if dialect == "sqlite" else "%s"
        conn.exec_driver_sql(_TEMP[dialect])
        conn.exec_driver_sql("DELETE FROM rebaseline_codes")
        if remote:
            if dialect == "sqlite":
                params: Any = (json.dumps(remote),)  # the rows as NetSuite sent them
            else:
                params = ([str(r["code"]) for r in remote], [str(r["id"]) for r in remote])
            conn.exec_driver_sql(_FILL[dialect], params)
        chunk = (c.promotion.id, c.chunk)
        mine = f"promotion_id = {mark} AND netsuite_chunk = {mark}"
        absent = "NOT EXISTS (SELECT 1 FROM rebaseline_codes r WHERE r.code = codes.code)"
        conn.exec_driver_sql(f"UPDATE codes SET netsuite_id = NULL WHERE {mine} AND "
                             f"netsuite_id IS NOT NULL AND {absent}", chunk)
        held = "(SELECT r.nid FROM rebaseline_codes r WHERE r.code = codes.code)"
        report.codes_relinked += int(conn.exec_driver_sql(
            f"UPDATE codes SET netsuite_id = {held} WHERE {mine} AND EXISTS (SELECT 1 FROM "
            "rebaseline_codes r WHERE r.code = codes.code AND (codes.netsuite_id IS NULL OR "
            "codes.netsuite_id <> r.nid))", chunk).rowcount)
        total, unlinked = conn.exec_driver_sql(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN netsuite_id IS NULL THEN 1 ELSE 0 END), 0) "
            f"FROM codes WHERE {mine}", chunk).one()
        report.codes_unlinked += int(unlinked)
        extra: list[tuple[str, str]] = []
        if len(remote) > int(total) - int(unlinked):  # NetSuite holds codes the chunk lacks
            extra = [(str(r[0]), str(r[1])) for r in conn.exec_driver_sql(
                "SELECT r.code, r.nid FROM rebaseline_codes r WHERE NOT EXISTS (SELECT 1 FROM "
                f"codes WHERE codes.code = r.code AND {mine})", chunk)]
        conn.exec_driver_sql("DELETE FROM rebaseline_codes")
        if not extra or rec is None:
            return
        if c.promotion.codes_from != "netsuite":
            report.codes_unknown += len(extra)
            return
        batch = chunk_batch(conn, dialect, c.promotion.id, c.chunk, c.external_id, "rebaseline",
                            len(extra))
        rows = read_back_values([{"id": nid, "code": code} for code, nid in extra],
                                {"promotion_id": c.promotion.id, "batch_id": batch,
                                 "chunk": c.chunk})
        added = store_read_back(conn, dialect, rows)
        report.codes_read += added
        report.codes_unknown += len(extra) - added  # a code another promotion holds


def _queue_redemptions(conn: Connection, orders: Iterable[str]) -> int:
    """Local redemptions marked pushed whose sales order NetSuite lacks: pushed_at cleared."""
    e = s.code_events
    held = set(orders)
    gone = [int(r.id) for r in conn.execute(
        select(e.c.id).where(e.c.kind == EventKind.REDEEMED, e.c.source == "local",
                             e.c.pushed_at.is_not(None)))
        if f"{ORDER_PREFIX}{r.id}" not in held]
    for i in range(0, len(gone), 500):
        conn.execute(e.update().where(e.c.id.in_(gone[i:i + 500])).values(pushed_at=None))
    return len(gone)


def _drop_repairs(conn: Connection) -> int:
    """Drop a `sync verify --fix` repair plan: its ids are those of NetSuite before."""
    t = s.sync_watermarks
    raw = conn.scalar(select(t.c.value).where(t.c.name == REPAIRS))
    if raw is None:
        return 0
    conn.execute(t.delete().where(t.c.name == REPAIRS))
    steps = json.loads(str(raw)).get("steps")
    return len(steps) if isinstance(steps, list) else 0


def _reset_watermarks(conn: Connection) -> list[str]:
    t = s.sync_watermarks
    names = sorted(str(n) for n in conn.scalars(select(t.c.name)
                                                .where(t.c.name.like("mirror.%"))))
    if names:
        conn.execute(t.delete().where(t.c.name.in_(names)))
    return names
