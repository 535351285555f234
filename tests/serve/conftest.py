"""A real `promosync serve` application on 127.0.0.1 (a free port, uvicorn on a thread of the
test process), on each store, with an API key per scope and a way to make codes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import event, func, select
from starlette.applications import Starlette

from connector import (
    add_customer,
    create_promotion,
    generate_codes,
    generate_for_customers,
    open_store,
    su_format,
)
from connector.generate import CodeOptions
from connector.serve.app import build_app
from connector.serve.context import Context
from connector.serve.keys import create_key
from connector.serve.server import ServerThread, bind
from connector.serve.session import hash_password
from connector.serve.settings import load_serve_settings
from connector.store import Store
from connector.store import schema as s
from connector.store.loop_connections import LoopConnections
from connector.store.thread_connections import OwnConnection

ADMIN_PASSWORD = "correct horse battery staple"
PASSWORD_HASH = hash_password(ADMIN_PASSWORD)


@dataclass
class Served:
    """A running server: its URL, store and keys (scope -> key), and a requests session."""

    url: str
    store: Store
    keys: dict[str, str]
    app: Starlette
    http: requests.Session = field(default_factory=requests.Session)

    def call(self, method: str, path: str, key: str | None = "register",
             **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers["Authorization"] = f"Bearer {self.keys.get(key, key)}"
        return self.http.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def codes(self, promotion: str = "P", count: int = 3, *, customers: tuple[str, ...] = (),
              **options: Any) -> list[str]:
        """New codes of `promotion` (an order promotion of 5.00 off, made if missing): `count`
        of them, or one bound to each of `customers` (made if missing)."""
        with self.store.read() as conn:
            known = conn.scalar(select(s.promotions.c.id).where(s.promotions.c.name == promotion))
        if known is None:
            create_promotion(self.store, name=promotion, kind="order", rate=5, percent=False)
        before = self.count(s.codes)
        if customers:
            for customer in customers:
                add_customer(self.store, customer)
            generate_for_customers(self.store, promotion, list(customers), fmt=su_format(),
                                   options=CodeOptions(**options))
        else:
            generate_codes(self.store, promotion, count=count, fmt=su_format(),
                           options=CodeOptions(**options))
        with self.store.read() as conn:
            return list(conn.scalars(select(s.codes.c.code).order_by(s.codes.c.id)
                                     .offset(before)))

    def count(self, table: Any) -> int:
        with self.store.read() as conn:
            return int(conn.scalar(select(func.count()).select_from(table)) or 0)

    def writes(self) -> tuple[int, ...]:
        """Row counts of every table a request could write to."""
        return tuple(self.count(t) for t in (s.sales, s.sale_codes, s.code_events,
                                             s.list_assignments, s.idempotency_keys))


def start(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          **settings: Any) -> Iterator[Served]:
    monkeypatch.chdir(tmp_path)  # no promosync.toml of the machine's is read
    store = open_store(url)
    given = {"database_url": url, "admin_password_hash": PASSWORD_HASH, **settings}
    ctx = Context.build(store, load_serve_settings(**given), ["--database-url", url])
    keys = {scope: create_key(store, f"test-{scope}", [scope])[1]
            for scope in ("register", "webstore", "lists", "admin")}
    app = build_app(ctx)
    with ServerThread(app, bind("127.0.0.1", 0)) as base:
        served = Served(base, store, keys, app)
        yield served
        served.http.close()
    store.close()


@pytest.fixture
def served(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """The server on each store (SQLite file, PostgreSQL when there is one)."""
    yield from start(store_url, tmp_path, monkeypatch)


@pytest.fixture
def served_sqlite(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                  ) -> Iterator[Served]:
    """The server on a SQLite file, for what does not depend on the store."""
    yield from start(sqlite_url, tmp_path, monkeypatch)


@pytest.fixture
def server_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything the server logs, at every level."""
    caplog.set_level(logging.DEBUG)
    return caplog


class Statements:
    """What the store is sent: server-function calls by name (from a thread's connection or
    the event loop's, `lanes` says which), and other statements."""

    def __init__(self, served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        self.lanes: list[str] = []
        self.pairs: list[tuple[str, str]] = []  # (lane, call), in the order sent
        self.other: list[str] = []
        real = OwnConnection.call
        real_on_loop = LoopConnections.call

        def call(line: OwnConnection, statement: Any, values: Any) -> Any:
            self._sent(statement, "thread")
            return real(line, statement, values)

        async def call_on_loop(lines: LoopConnections, statement: Any, values: Any) -> Any:
            self._sent(statement, "loop")
            return await real_on_loop(lines, statement, values)

        monkeypatch.setattr(OwnConnection, "call", call)
        monkeypatch.setattr(LoopConnections, "call", call_on_loop)
        event.listen(served.store.engine, "before_cursor_execute", self._other)
        self.engine = served.store.engine

    def _sent(self, statement: Any, lane: str) -> None:
        name = statement.name.decode().removeprefix("promosync_line_")
        self.calls.append(name)
        self.lanes.append(lane)
        self.pairs.append((lane, name))

    def _other(self, *args: Any) -> None:
        self.other.append(str(args[2]))

    def clear(self) -> None:
        self.calls.clear()
        self.lanes.clear()
        self.pairs.clear()
        self.other.clear()

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._other)
