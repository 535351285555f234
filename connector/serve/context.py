"""What one running server shares between requests: the store, its settings, the thread pools
(registers' transactions, validate, the rest) and on PostgreSQL the event loop's connections,
a `Register` per API key, the `Distributor`, the guard and the idempotency keys."""

from __future__ import annotations

import base64
import functools
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from connector import Distributor, Register
from connector.serve import keys
from connector.serve.guard import GuessGuard
from connector.serve.idempotency import Idempotency
from connector.serve.plan import PlanRunner
from connector.serve.settings import ServeSettings
from connector.store import Store
from connector.store import schema as s
from connector.store.schema import utcnow

if TYPE_CHECKING:
    from connector.store.loop_connections import LoopConnections
    from connector.store.thread_connections import PreparedCall

log = logging.getLogger("connector.serve")
KEY_CACHE = 1.0  # seconds a key found in the store is trusted without asking again
SESSION_SECRET = "session"  # noqa: S105 - the name of the row, not a secret


@dataclass
class Context:
    store: Store
    settings: ServeSettings
    pool: ThreadPoolExecutor
    tills: ThreadPoolExecutor
    checks: ThreadPoolExecutor
    guard: GuessGuard
    idempotency: Idempotency
    distributor: Distributor
    session_secret: bytes
    plan: PlanRunner
    # PostgreSQL: the event loop's connections, for the work done on it (fast_lane.py)
    loop_lines: LoopConnections | None = None
    started: str = field(default_factory=lambda: utcnow().isoformat(timespec="seconds"))
    _registers: dict[str, Register] = field(default_factory=dict)
    _keys: dict[str, tuple[keys.ApiKey, float]] = field(default_factory=dict)
    _reading: set[str] = field(default_factory=set)  # keys being read again (known_key)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, store: Store, settings: ServeSettings, plan_flags: list[str]) -> Context:
        """`plan_flags`: the global flags `sync plan` runs with (the server's store)."""
        zone = settings.zone
        guard = GuessGuard(settings.guard_refusals, settings.guard_window, settings.guard_block)

        return cls(
            store=store,
            settings=settings,
            pool=ThreadPoolExecutor(settings.serve_threads, thread_name_prefix="promosync-serve"),
            tills=ThreadPoolExecutor(settings.serve_register_threads,
                                     thread_name_prefix="promosync-till"),
            checks=ThreadPoolExecutor(settings.serve_validate_threads,
                                      thread_name_prefix="promosync-check"),
            guard=guard,
            idempotency=Idempotency(store),
            distributor=Distributor(store, timezone=zone),  # R22 warnings go to the log
            session_secret=_session_secret(store, settings),
            plan=PlanRunner(plan_flags),
            loop_lines=_loop_lines(store, settings),
        )

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.zone

    def register_for(self, key: keys.ApiKey) -> Register:
        """One `Register` per API key: its name is what the store records as the register."""
        with self._lock:
            found = self._registers.get(key.name)
            if found is None:
                found = self._registers[key.name] = Register(
                    self.store, timezone=self.zone, hold_minutes=self.settings.hold_minutes,
                    name=f"api {key.name}"[:64])
            return found

    def known_key(self, presented: str) -> keys.ApiKey | None:
        """The key `presented` is when it was read from the store within KEY_CACHE seconds;
        else None (`authenticate` reads it). A key past half that age is read again on a
        thread meanwhile, so that a key in steady use never waits for the store."""
        digest = keys.key_hash(presented)
        cached = self._keys.get(digest)
        if cached is None:
            return None
        age = time.monotonic() - cached[1]
        if age >= KEY_CACHE:
            return None
        if age >= KEY_CACHE / 2:
            self._read_ahead(presented, digest)
        return cached[0]

    def authenticate(self, presented: str) -> keys.ApiKey | None:
        """The live key `presented` is, read from the store at most once a KEY_CACHE seconds
        per key: a key revoked by `promosync keys revoke` is refused within that time."""
        known = self.known_key(presented)
        if known is not None:
            return known
        return self._read(presented, keys.key_hash(presented))

    async def read_key_on(self, lines: LoopConnections, presented: str) -> keys.ApiKey | None:
        """`authenticate` on the event loop's connections (PostgreSQL), with no thread. A
        failed read raises (the caller leaves the request to a thread, which reads again)."""
        if not keys.well_formed(presented):
            return None
        digest = keys.key_hash(presented)
        now = time.monotonic()
        data = await lines.call(_live_key(), (digest,))
        found = None if data is None else keys.from_json(data, digest)
        self._keep(digest, found, now)
        return found

    def _read(self, presented: str, digest: str) -> keys.ApiKey | None:
        now = time.monotonic()  # before the read: the entry is never younger than the row
        found = keys.authenticate(self.store, presented)
        self._keep(digest, found, now)
        return found

    def _keep(self, digest: str, found: keys.ApiKey | None, now: float) -> None:
        with self._lock:
            if found is None:
                self._keys.pop(digest, None)
            else:
                if len(self._keys) > 10_000:
                    self._keys.clear()
                self._keys[digest] = (found, now)

    def _read_ahead(self, presented: str, digest: str) -> None:
        with self._lock:
            if digest in self._reading:
                return
            self._reading.add(digest)
        try:
            self.pool.submit(self._read_in_background, presented, digest)
        except RuntimeError:  # the server is stopping: the cached entry serves until it ends
            with self._lock:
                self._reading.discard(digest)

    def _read_in_background(self, presented: str, digest: str) -> None:
        try:
            self._read(presented, digest)
        except Exception as exc:  # noqa: BLE001 - the entry ages out; a request reads it then
            log.warning("reading an API key again failed (%s); the next request reads it",
                        type(exc).__name__)
        finally:
            with self._lock:
                self._reading.discard(digest)

    def close(self) -> None:
        if self.loop_lines is not None:
            self.loop_lines.close()
        self.checks.shutdown(wait=True, cancel_futures=True)
        self.tills.shutdown(wait=True, cancel_futures=True)
        self.pool.shutdown(wait=True, cancel_futures=True)


@functools.cache
def _live_key() -> PreparedCall:
    # imported here: it needs psycopg, which only a PostgreSQL store installs
    from connector.store.thread_connections import PreparedCall

    return PreparedCall.of("live_key", keys.LIVE_KEY_SQL)


def _loop_lines(store: Store, settings: ServeSettings) -> LoopConnections | None:
    if store.thread_connections is None:
        return None
    # imported here: it needs psycopg, which only a PostgreSQL store installs
    from connector.store.loop_connections import LoopConnections

    return LoopConnections(store.thread_connections, settings.serve_loop_connections)


def _session_secret(store: Store, settings: ServeSettings) -> bytes:
    """The HMAC key of session cookies: from the settings, else made once and kept in the store
    (so that sessions survive a restart and every server of one store accepts them)."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode("utf-8")
    table = s.serve_secrets
    with store.read() as conn:
        value = conn.scalar(select(table.c.value).where(table.c.name == SESSION_SECRET))
    if value is None:
        made = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
        insert = (postgresql.insert(table) if store.dialect == "postgresql"
                  else sqlite.insert(table))
        with store.begin() as conn:  # two servers starting together: the first one's stays
            conn.execute(insert.values(name=SESSION_SECRET, value=made)
                         .on_conflict_do_nothing(index_elements=["name"]))
            value = conn.scalar(select(table.c.value).where(table.c.name == SESSION_SECRET))
    return str(value).encode("ascii")
