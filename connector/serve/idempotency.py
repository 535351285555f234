"""`Idempotency-Key` (R41): a retried write gets the first answer, never a second effect.

Keys belong to the API key that sent them (two clients may pick the same one) and live 24
hours. The first request with a key claims it with one INSERT ... ON CONFLICT DO NOTHING whose
row count says who won (on PostgreSQL the same statement returns the row that holds a key
taken already), runs, and stores its answer. A request that finds the key taken:
  * with another fingerprint (method, path, body) gets 409: the key was used for something else;
  * with the same one and an answer stored gets that answer again;
  * with the same one still running waits for it (up to WAIT seconds), then gets 409; a claim
    left unfinished for two minutes (its server stopped) is taken over by the next request.
An answer that says nothing happened because the server failed (5xx) is not kept: the claim is
dropped, so that a retry runs again. The store's writes are single transactions (`Register`),
so a failed request changed nothing.

On PostgreSQL a keyed scan or payment claims its key in the same call as the work (`attempt`:
promosync_keyed_scan / promosync_keyed_pay of store/redeem_functions.sql), which also keeps the
answer when the work was done: one round trip and one commit instead of three. Such an answer
is kept as the server function's reply ({"promosync_reply": ...} in `response`), and the
endpoint makes the answer from it at the first request and at every replay alike. Any other
outcome leaves the key claimed, and the request goes on as above.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from connector.errors import StoreError, StoreOffline
from connector.store import Store
from connector.store import schema as s
from connector.store.schema import utcnow

KEEP = timedelta(hours=24)
WAIT = 10.0  # seconds a retry waits for the first request with its key to finish
STALE = timedelta(minutes=2)  # a claim never finished (its server died) is taken over then
POLL = 0.02
MAX_KEY = 255
REPLY = "promosync_reply"  # the key of an answer kept as a server function's reply
_I = s.idempotency_keys.c
# A call that claims a key and does the work at once (PostgreSQL), given the claim's time:
# its reply, or None when it claimed nothing and wrote nothing (then the key is claimed alone)
Attempt = Callable[[datetime], Any]


@dataclass(frozen=True)
class Stored:
    """An answer kept for a key: its status and JSON body, or (`reply` not None) the server
    function's reply the endpoint makes the body from."""

    status: int
    body: Any
    reply: Any = None


@dataclass(frozen=True)
class Claimed:
    """The key is this request's. `status` None: do the work, then `finish` or `drop`. Else
    the call that claimed the key did the work and kept the answer: its status and `reply`."""

    status: int | None = None
    reply: Any = None


class KeyReused(Exception):
    """The key was used with another method, path or body."""


class StillRunning(Exception):
    """The first request with this key has not finished."""


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"),
                           ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


_KEY = re.compile(f"[!-~]{{1,{MAX_KEY}}}")


def valid_key(key: str) -> bool:
    """1 to 255 printable ASCII characters, no spaces."""
    return _KEY.fullmatch(key) is not None


class Idempotency:
    """The idempotency keys of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lines = store.thread_connections  # PostgreSQL: each thread's own connection
        if self.lines is not None:
            # imported here: it needs psycopg, which only a PostgreSQL store installs
            from connector.store.thread_connections import PreparedCall

            self._claim = PreparedCall.of("idempotency_claim", _CLAIM)
            self._finish = PreparedCall.of("idempotency_finish", _FINISH)

    def claim(self, api_key_id: int, key: str, print_: str,
              attempt: Attempt | None = None) -> Stored | Claimed:
        """Claimed: this request has the key (with `attempt`, maybe done and answered too).
        Else the stored answer. Raises KeyReused or StillRunning."""
        deadline = time.monotonic() + WAIT
        while True:
            claimed, row = self._insert(api_key_id, key, print_, attempt)
            if claimed is not None:
                return claimed
            if row is None:
                continue  # dropped or expired in between, or not visible yet: claim it again
            if outlived(row):
                self._expire(api_key_id, key, row.created_at)
                continue
            stored = kept_answer(row, print_)
            if stored is not None:
                return stored
            if time.monotonic() > deadline:
                raise StillRunning(key)
            time.sleep(POLL)

    def finish(self, api_key_id: int, key: str, status: int, body: Any) -> None:
        answer = json.dumps(body, default=str)
        if self.lines is not None:
            self._call(self._finish, (status, answer, api_key_id, key))
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
        with _single(self.store) as conn:
            done = conn.execute(delete(s.idempotency_keys)
                                .where(_I.created_at < utcnow() - KEEP))
        return int(done.rowcount or 0)

    def _insert(self, api_key_id: int, key: str, print_: str,
                attempt: Attempt | None) -> tuple[Claimed | None, Any]:
        """Claim the key: (Claimed, None), or (None, the row that holds it, None if unseen)."""
        if self.lines is not None:
            now = utcnow()
            done = self._attempt(attempt, now) if attempt is not None else None
            if done is not None:
                return attempted(done)
            # the column holds UTC without a zone
            row = self._call(self._claim, (api_key_id, key, print_, now.replace(tzinfo=None)))
            if row is True:
                return Claimed(), None
            return None, _row(row)
        values = {"api_key_id": api_key_id, "key": key, "fingerprint": print_,
                  "created_at": utcnow()}
        with _single(self.store) as conn:
            if _insert_or_skip(conn, values) == 1:
                return Claimed(), None
        with _single(self.store) as conn:
            row = conn.execute(select(_I.fingerprint, _I.status, _I.response, _I.created_at)
                               .where(_I.api_key_id == api_key_id, _I.key == key)).first()
        return None, row

    def _expire(self, api_key_id: int, key: str, created: Any) -> None:
        with _single(self.store) as conn:
            conn.execute(delete(s.idempotency_keys).where(
                _I.api_key_id == api_key_id, _I.key == key, _I.created_at == created))

    def _attempt(self, attempt: Attempt, now: datetime) -> Any:
        try:
            return attempt(now)
        except StoreOffline as exc:
            raise StoreError(f"the store cannot be reached: {exc.detail or exc}") from None

    def _call(self, statement: Any, values: tuple[Any, ...]) -> Any:
        """One statement on this thread's own connection (PostgreSQL), its own transaction."""
        assert self.lines is not None
        try:
            with self.lines.using() as line:
                return line.call(statement, values)
        except StoreOffline as exc:
            raise StoreError(f"the store cannot be reached: {exc.detail or exc}") from None


# PostgreSQL: the claim and the answer of every keyed write, each one prepared statement on the
# thread's own connection (store/thread_connections.py, as the redemption functions run):
# one round trip each, without the client time of the pool and a cursor, which is what a
# keyed write cost most. The claim answers true when it took the key, else the row holding it
# (null when that row is not visible to it yet: the caller claims again).
_CLAIM = """
WITH claimed AS (
    INSERT INTO idempotency_keys (api_key_id, key, fingerprint, created_at)
    VALUES ($1::bigint, $2::text, $3::text, $4::timestamp)
    ON CONFLICT DO NOTHING RETURNING 1)
SELECT CASE WHEN EXISTS (SELECT FROM claimed) THEN 'true'::json
            ELSE (SELECT json_build_object('fingerprint', fingerprint, 'status', status,
                                           'response', response, 'created_at', created_at)
                    FROM idempotency_keys WHERE api_key_id = $1::bigint AND key = $2::text)
       END"""
_FINISH = """
WITH done AS (
    UPDATE idempotency_keys SET status = $1::integer, response = $2::text
     WHERE api_key_id = $3::bigint AND key = $4::text RETURNING 1)
SELECT to_json(count(*)) FROM done"""


def attempted(done: Any) -> tuple[Claimed | None, Any]:
    """What the reply of a call that claims a key and works (an `Attempt`) says: (Claimed,
    None), or (None, the row that holds the key, None if unseen)."""
    if "answered" in done:
        return Claimed(int(done["answered"]), done["reply"]), None
    if "claimed" in done:
        return Claimed(), None
    return None, _row(done["taken"])


def outlived(row: Any) -> bool:
    """Whether the key of `row` is to be forgotten: over 24 hours old, or claimed two minutes
    ago and never answered (its server stopped)."""
    now = utcnow()
    return bool(row.created_at < now - KEEP or
                (row.status is None and row.created_at < now - STALE))


def kept_answer(row: Any, print_: str) -> Stored | None:
    """The answer kept under `row`'s key for a request of fingerprint `print_`; None while
    the first request with the key runs. Raises KeyReused for another fingerprint."""
    if row.fingerprint != print_:
        raise KeyReused(row.fingerprint)
    return None if row.status is None else _stored(int(row.status), row.response)


def _row(row: Any) -> Any:
    """A key's row as a claim returns it (JSON; its time UTC without a zone), or None."""
    if row is None:
        return None
    made = datetime.fromisoformat(row["created_at"]).replace(tzinfo=UTC)
    return SimpleNamespace(**{**row, "created_at": made})


def _stored(status: int, response: str) -> Stored:
    data = json.loads(response)
    if isinstance(data, dict) and len(data) == 1 and REPLY in data:
        return Stored(status, None, data[REPLY])
    return Stored(status, data)


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
