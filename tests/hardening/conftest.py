"""Helpers of the hardening suite: store snapshots and a way to drop the store connection.

`snapshot(store)` is what "nothing half-written" is checked against: the number of rows of every
table that a batch or an import writes. `ConnectionDropper` wraps the bulk writer of a module so
that its Nth call finds the store connection gone: on PostgreSQL the server backend is killed
with pg_terminate_backend from another session (a real dropped connection); on SQLite the
driver connection is closed under the open transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from connector.store import Store
from connector.store import schema as s

WRITTEN_TABLES = (s.codes, s.code_batches, s.code_events, s.customers)


def snapshot(store: Store) -> dict[str, int]:
    """Row counts of the tables a batch, an import or a redemption writes."""
    with store.read() as conn:
        return {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
                for t in WRITTEN_TABLES}


def plain_url(store: Store) -> str:
    """The store's URL with its password, in the libpq form psycopg takes."""
    return store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class ConnectionDropper:
    """Wraps a store writer `fn(conn, ...)`: its `on_call`-th call runs on a dropped connection."""

    def __init__(self, store: Store, real: Callable[..., Any], on_call: int) -> None:
        self.store, self.real, self.on_call = store, real, on_call
        self.calls = 0
        self.dropped = False

    def __call__(self, conn: Connection, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == self.on_call:
            self._drop(conn)
        return self.real(conn, *args, **kwargs)

    def _drop(self, conn: Connection) -> None:
        raw: Any = conn.connection.driver_connection
        if self.store.dialect == "postgresql":
            pid = raw.info.backend_pid
            with psycopg.connect(plain_url(self.store), autocommit=True) as killer:
                row = killer.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
            assert row is not None and row[0] is True, "the writer's backend was not killed"
        else:
            raw.close()
        self.dropped = True


@pytest.fixture
def drop_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[Store, Any, int], ConnectionDropper]:
    """drop_connection(store, module, n[, name]): module.<name> (default insert_codes) drops the
    store connection on its call number n."""

    def install(store: Store, module: Any, on_call: int,
                name: str = "insert_codes") -> ConnectionDropper:
        dropper = ConnectionDropper(store, getattr(module, name), on_call)
        monkeypatch.setattr(module, name, dropper)
        return dropper

    return install
