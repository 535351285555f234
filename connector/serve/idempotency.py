"""`Idempotency-Key` (R41): a retried write gets the first answer, never a second effect.

Keys belong to the API key that sent them (two clients may pick the same one) and live 24
hours. The first request with a key claims it with one INSERT ... ON CONFLICT DO NOTHING whose
row count says who won, runs, and stores its answer. A request that finds the key taken:
  * with another fingerprint (method, path, body) gets 409: the key was used for something else;
  * with the same one and an answer stored gets that answer again;
  * with the same one still running waits for it (up to WAIT seconds), then gets 409; a claim
    left unfinished for two minutes (its server stopped) is taken over by the next request.
An answer that says nothing happened because the server failed (5xx) is not kept: the claim is
dropped, so that a retry runs again. The store's writes are single transactions (`Register`),
so a failed request changed nothing.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from connector.errors import StoreError
from connector.store import Store
from connector.store import schema as s
from connector.store.schema import utcnow

KEEP = timedelta(hours=24)
WAIT = 10.0  # seconds a retry waits for the first request with its key to finish
STALE = timedelta(minutes=2)  # a claim never finished (its server died) is taken over then
POLL = 0.02
MAX_KEY = 255
_I = s.idempotency_keys.c


@dataclass(frozen=True)
class Stored:
    """An answer kept for a key: its status and JSON body."""

    status: int
    body: Any


class KeyReused(Exception):
    """The key was used with another method, path or body."""


class StillRunning(Exception):
    """The first request with this key has not finished."""


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"),
                           ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def valid_key(key: str) -> bool:
    """1 to 255 printable ASCII characters, no spaces."""
    return 0 < len(key) <= MAX_KEY and all("!" <= c <= "~" for c in key)


class Idempotency:
    """The idempotency keys of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.fast = _Lines(store) if store.dialect == "postgresql" else None

    def close(self) -> None:
        if self.fast is not None:
            self.fast.close()

    def claim(self, api_key_id: int, key: str, print_: str) -> Stored | None:
        """None: this request runs (and must `finish` or `drop`). Else the stored answer.
        Raises KeyReused or StillRunning."""
        deadline = time.monotonic() + WAIT
        while True:
            if self._insert(api_key_id, key, print_):
                return None
            with _single(self.store) as conn:
                row = conn.execute(select(_I.fingerprint, _I.status, _I.response, _I.created_at)
                                   .where(_I.api_key_id == api_key_id, _I.key == key)).first()
            if row is None:
                continue  # dropped or expired in between: claim it again
            now = utcnow()
            if row.created_at < now - KEEP or (row.status is None and row.created_at < now - STALE):
                self._expire(api_key_id, key, row.created_at)
                continue
            if row.fingerprint != print_:
                raise KeyReused(key)
            if row.status is not None:
                return Stored(int(row.status), json.loads(row.response))
            if time.monotonic() > deadline:
                raise StillRunning(key)
            time.sleep(POLL)

    def finish(self, api_key_id: int, key: str, status: int, body: Any) -> None:
        answer = json.dumps(body, default=str)
        if self.fast is not None:
            self.fast.run(_FINISH, (status, answer, api_key_id, key))
            return
        with _single(self.store) as conn:
            conn.execute(s.idempotency_keys.update()
                         .where(_I.api_key_id == api_key_id, _I.key == key)
                         .values(status=status, response=answer))

    def drop(self, api_key_id: int, key: str) -> None:
        with _single(self.store) as conn:
            conn.execute(delete(s.idempotency_keys)
                         .where(_I.api_key_id == api_key_id, _I.key == key, _I.status.is_(None)))

    def purge(self) -> int:
        """Forget keys older than 24 hours; how many."""
        with self.store.begin() as conn:
            done = conn.execute(delete(s.idempotency_keys)
                                .where(_I.created_at < utcnow() - KEEP))
        return int(done.rowcount or 0)

    def _insert(self, api_key_id: int, key: str, print_: str) -> bool:
        if self.fast is not None:
            now = utcnow().replace(tzinfo=None)  # the column holds UTC without a zone
            return self.fast.run(_CLAIM, (api_key_id, key, print_, now)) == 1
        values = {"api_key_id": api_key_id, "key": key, "fingerprint": print_,
                  "created_at": utcnow()}
        with _single(self.store) as conn:
            return _insert_or_skip(conn, values) == 1

    def _expire(self, api_key_id: int, key: str, created: Any) -> None:
        with _single(self.store) as conn:
            conn.execute(delete(s.idempotency_keys).where(
                _I.api_key_id == api_key_id, _I.key == key, _I.created_at == created))


_CLAIM = ("INSERT INTO idempotency_keys (api_key_id, key, fingerprint, created_at) "
          "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING")
_FINISH = ("UPDATE idempotency_keys SET status = %s, response = %s "
           "WHERE api_key_id = %s AND key = %s")


class _Lines:
    """PostgreSQL: the claim and the answer of every keyed write, as prepared statements on a
    connection each server thread keeps (autocommit, outside the pool): one round trip and
    about a fifth of the client time of the same through SQLAlchemy, which is what a keyed
    write cost most. Values travel apart from the statement (extended protocol)."""

    def __init__(self, store: Store) -> None:
        self.url = store.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        self.mine = threading.local()
        self.every: list[Any] = []
        self.guard = threading.Lock()

    def run(self, sql: str, values: tuple[Any, ...]) -> int:
        import psycopg

        conn = getattr(self.mine, "conn", None)
        try:
            if conn is None or conn.closed or conn.broken:
                conn = self.mine.conn = psycopg.connect(self.url, autocommit=True)
                with self.guard:
                    self.every.append(conn)
            return int(conn.execute(sql, values, prepare=True).rowcount)
        except psycopg.OperationalError as exc:
            self.mine.conn = None
            first = str(exc).strip().splitlines()
            raise StoreError("the store cannot be reached: "
                             f"{first[0] if first else type(exc).__name__}") from None

    def close(self) -> None:
        with self.guard:
            every, self.every = self.every, []
        for conn in every:
            conn.close()


@contextmanager
def _single(store: Store) -> Iterator[Connection]:
    """A connection for statements that are each a transaction of their own. On PostgreSQL in
    autocommit: one round trip a statement instead of three (BEGIN, the statement, COMMIT)."""
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")
    else:
        with store.begin() as conn:
            yield conn


def _insert_or_skip(conn: Connection, values: dict[str, Any]) -> int:
    table = s.idempotency_keys
    keys = ["api_key_id", "key"]
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
        return int(conn.execute(pg).rowcount or 0)
    lite = sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    return int(conn.execute(lite).rowcount or 0)
