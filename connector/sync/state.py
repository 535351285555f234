"""What sync keeps in the store: the lock, per-chunk records, code targets, watermarks, runs.

The lock (R27: two runs never overlap) is a row in `sync_lock` with an owner and an expiry that
the holder pushes forward from a heartbeat thread. Taking it is one conditional statement whose
row count says who won, correct on SQLite and PostgreSQL alike. A crashed run cannot hold it
forever: its row expires after `ttl` seconds, and on the same host a holder whose process is gone
is taken over at once. On PostgreSQL a session advisory lock is taken first: the server drops it
the moment the holder's connection dies, so there a lease whose holder has no advisory lock is
stale and is taken over at once, whatever host the crashed run was on.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
import zlib
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from connector.catalog import promotion_row
from connector.chunks import NETSUITE_MAX_CODES
from connector.codes import parse_pattern
from connector.errors import InputError, SyncLocked
from connector.store import Store
from connector.store import schema as s
from connector.store.schema import utcnow
from connector.sync.ledger import prune_runs
from connector.sync.model import ChunkRecord

log = logging.getLogger("promosync.sync")
LOCK_NAME = "sync"
ADVISORY_GRACE_SECONDS = 3.0


def _insert(dialect: str, table: Any) -> Any:
    return (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table))


def upsert_statement(dialect: str, table: Any, values: dict[str, Any], keys: list[str],
                     update: dict[str, Any]) -> Any:
    """INSERT `values` into `table`, updating `update` where a row with the same `keys` exists."""
    stmt = _insert(dialect, table).values(**values)
    return stmt.on_conflict_do_update(index_elements=[table.c[k] for k in keys], set_=update)


def make_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_is_dead(owner: str) -> bool:
    """True when the owner ran on this host and its process no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return False


class SyncLock:
    """`with SyncLock(store):` holds the sync lock, or raises SyncLocked (exit code 3)."""

    def __init__(self, store: Store, *, ttl: float = 60.0, name: str = LOCK_NAME,
                 owner: str | None = None) -> None:
        self.store = store
        self.ttl = ttl
        self.name = name
        self.owner = owner or make_owner()
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._advisory: Connection | None = None

    def _take_advisory(self) -> bool:
        """PostgreSQL: hold a session advisory lock on a connection of our own for the run."""
        if self.store.dialect != "postgresql":
            return False
        conn = self.store.engine.connect()
        got = self._try_advisory(conn)
        if not got and self._holder_gone():
            # A holder killed a moment ago keeps its session until the server notices the
            # dropped connection (well under a second): give it that long.
            deadline = time.monotonic() + ADVISORY_GRACE_SECONDS
            while not got and time.monotonic() < deadline:
                time.sleep(0.1)
                got = self._try_advisory(conn)
        if not got:
            conn.close()
            raise SyncLocked("another sync run holds the lock (PostgreSQL advisory lock)")
        self._advisory = conn
        return True

    def _try_advisory(self, conn: Connection) -> bool:
        got = conn.exec_driver_sql("SELECT pg_try_advisory_lock(%s)", (self._key,)).scalar()
        conn.commit()  # the lock belongs to the session, not to this transaction
        return bool(got)

    def _holder_gone(self) -> bool:
        """The lease says its holder is dead or expired (so its session is ending)."""
        t = s.sync_lock
        with self.store.read() as conn:
            row = conn.execute(select(t).where(t.c.name == self.name)).first()
        return row is not None and (row.expires_at <= utcnow() or _owner_is_dead(row.owner))

    @property
    def _key(self) -> int:
        return zlib.crc32(f"promosync:{self.name}".encode())

    def _drop_advisory(self) -> None:
        """Release the advisory lock. A pooled connection outlives close(), and its session
        keeps the lock, so unlock explicitly; if that fails, discard the connection."""
        conn, self._advisory = self._advisory, None
        if conn is None:
            return
        try:
            conn.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (self._key,))
            conn.commit()
        except DBAPIError:
            conn.invalidate()  # the session ends, and with it the lock
        finally:
            conn.close()

    def acquire(self) -> None:
        sole = self._take_advisory()
        try:
            self._acquire_lease(sole)
        except BaseException:
            self._drop_advisory()
            raise

    def _acquire_lease(self, sole: bool) -> None:
        """Take the lease row; `sole` means no live run can hold it (advisory lock held)."""
        t = s.sync_lock
        now = utcnow()
        values = {"owner": self.owner, "acquired_at": now, "heartbeat_at": now,
                  "expires_at": now + timedelta(seconds=self.ttl)}
        with self.store.begin() as conn:
            row = conn.execute(select(t).where(t.c.name == self.name)).first()
            if row is None:
                done = conn.execute(_insert(self.store.dialect, t).values(name=self.name, **values)
                                    .on_conflict_do_nothing())
                if done.rowcount == 1:
                    return
                row = conn.execute(select(t).where(t.c.name == self.name)).one()
            if row.expires_at > now and not sole and not _owner_is_dead(row.owner):
                raise SyncLocked(
                    f"another sync run holds the lock ({row.owner}, since "
                    f"{row.acquired_at:%Y-%m-%d %H:%M:%S} UTC, expires "
                    f"{row.expires_at:%H:%M:%S} UTC unless it keeps working)")
            done = conn.execute(t.update().where(t.c.name == self.name, t.c.owner == row.owner)
                                .values(**values))
            if done.rowcount != 1:
                raise SyncLocked("another sync run took the lock a moment ago")
            log.warning("took over the sync lock from %s (expired or gone)", row.owner)

    def heartbeat(self) -> bool:
        """Push the expiry forward; False (and `lost`) when someone else holds the lock now."""
        t = s.sync_lock
        now = utcnow()
        with self.store.begin() as conn:
            done = conn.execute(t.update().where(t.c.name == self.name, t.c.owner == self.owner)
                                .values(heartbeat_at=now,
                                        expires_at=now + timedelta(seconds=self.ttl)))
        if done.rowcount != 1:
            self.lost = True
        return not self.lost

    def check(self) -> None:
        """Raise SyncLocked if the lock was lost (a run must then stop writing)."""
        if self.lost:
            raise SyncLocked("the sync lock was lost (this run stalled past its expiry)")

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        t = s.sync_lock
        try:
            with self.store.begin() as conn:
                conn.execute(t.delete().where(t.c.name == self.name, t.c.owner == self.owner))
        finally:
            self._drop_advisory()

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 4):
            try:
                if not self.heartbeat():
                    return
            except Exception as exc:  # noqa: BLE001 - a busy store: try again next beat
                log.warning("sync lock heartbeat failed: %s", exc)

    def __enter__(self) -> SyncLock:
        self.acquire()
        self._thread = threading.Thread(target=self._beat, name="sync-lock", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


# ---- per-chunk records -------------------------------------------------------------------

def load_records(conn: Connection) -> dict[str, ChunkRecord]:
    t = s.sync_chunks
    return {r.external_id: ChunkRecord(r.external_id, r.netsuite_id, r.use_type, r.custom_form,
                                       r.body_hash, r.state, int(r.target or 0))
            for r in conn.execute(select(t))}


def save_record(conn: Connection, dialect: str, promotion_id: int, chunk: int,
                **values: Any) -> None:
    """Insert or update the record of one chunk (only the given columns change)."""
    t = s.sync_chunks
    values["updated_at"] = utcnow()
    stmt = _insert(dialect, t).values(promotion_id=promotion_id, chunk=chunk, **values)
    conn.execute(stmt.on_conflict_do_update(index_elements=[t.c.promotion_id, t.c.chunk],
                                            set_=values))


def chunk_batch(conn: Connection, dialect: str, promotion_id: int, chunk: int, eid: str,
                method: str, count: int) -> int:
    """The code batch that holds codes read back from NetSuite for a chunk (made once)."""
    t = s.sync_chunks
    batch = conn.scalar(select(t.c.batch_id).where(t.c.promotion_id == promotion_id,
                                                   t.c.chunk == chunk))
    if batch:
        return int(batch)
    key = conn.execute(s.code_batches.insert().values(
        promotion_id=promotion_id, source="netsuite", method=method, count=count,
        created_at=utcnow())).inserted_primary_key
    assert key is not None
    save_record(conn, dialect, promotion_id, chunk, external_id=eid, batch_id=key[0])
    return int(key[0])


# ---- NetSuite-generated code targets (R26) ----------------------------------------------

def request_netsuite_codes(store: Store, promotion: str, count: int) -> int:
    """Ask NetSuite for `count` more codes of a codes_from="netsuite" promotion (at the next
    sync run); returns the promotion's new total. Refused when the promotion's pattern cannot
    make that many codes in one NetSuite promotion (each chunk gets the pattern and a marker)."""
    if count < 1:
        raise InputError("Please enter a valid count greater than 0.")
    t = s.netsuite_code_targets
    with store.begin() as conn:
        prow = promotion_row(conn, promotion)
        if prow.codes_from != "netsuite":
            raise InputError(f"the codes of {prow.name!r} are made locally (codes-from local)")
        if prow.use_type != "single_use":
            raise InputError("NetSuite generates codes only for single-use promotions")
        current = conn.scalar(select(t.c.count).where(t.c.promotion_id == prow.id)) or 0
        total = int(current) + count
        if not prow.code_pattern:
            raise InputError(f"{prow.name!r} has no code pattern for NetSuite to generate from")
        capacity = parse_pattern(prow.code_pattern).capacity
        if capacity < min(total, NETSUITE_MAX_CODES):
            raise InputError(f"the pattern {prow.code_pattern[:40]} can make only {capacity:,} "
                             f"codes; one NetSuite promotion would need "
                             f"{min(total, NETSUITE_MAX_CODES):,}")
        stmt = _insert(store.dialect, t).values(promotion_id=prow.id, count=total,
                                                updated_at=utcnow())
        conn.execute(stmt.on_conflict_do_update(index_elements=[t.c.promotion_id],
                                                set_={"count": total, "updated_at": utcnow()}))
    return total


def netsuite_code_counts(store: Store, promotion: str) -> tuple[int, int]:
    """(codes requested from NetSuite, codes read back into the store) of a promotion."""
    t = s.netsuite_code_targets
    with store.read() as conn:
        prow = promotion_row(conn, promotion)
        requested = conn.scalar(select(t.c.count).where(t.c.promotion_id == prow.id)) or 0
        received = conn.scalar(select(func.count()).select_from(s.codes)
                               .where(s.codes.c.promotion_id == prow.id)) or 0
    return int(requested), int(received)


# ---- watermarks and runs -----------------------------------------------------------------

def get_watermark(conn: Connection, name: str) -> str | None:
    t = s.sync_watermarks
    value = conn.scalar(select(t.c.value).where(t.c.name == name))
    return None if value is None else str(value)


def set_watermark(conn: Connection, dialect: str, name: str, value: str) -> None:
    t = s.sync_watermarks
    stmt = _insert(dialect, t).values(name=name, value=value, updated_at=utcnow())
    conn.execute(stmt.on_conflict_do_update(index_elements=[t.c.name],
                                            set_={"value": value, "updated_at": utcnow()}))


def start_run(store: Store, command: str, owner: str, keep_days: int | None = None) -> int:
    """Record a run as started; runs older than `keep_days` are pruned on the way (R39)."""
    with store.begin() as conn:
        if keep_days is not None:
            prune_runs(conn, keep_days)
        key = conn.execute(s.sync_runs.insert().values(
            command=command, owner=owner, started_at=utcnow())).inserted_primary_key
        assert key is not None
        return int(key[0])


def finish_run(store: Store, run_id: int, status: str, report: dict[str, Any]) -> None:
    with store.begin() as conn:
        conn.execute(s.sync_runs.update().where(s.sync_runs.c.id == run_id)
                     .values(finished_at=utcnow(), status=status, report=report))


def sqlite_time(value: datetime) -> str:
    """A UTC datetime as SQLAlchemy stores it in SQLite (for raw bulk statements)."""
    return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
