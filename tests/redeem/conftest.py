"""Helpers for redemption tests: promotions with codes, a settable clock, a register."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from connector import catalog, generate
from connector.generate import CodeOptions
from connector.redeem import Register
from connector.store import Store, open_store
from connector.store import schema as s
from tests.conftest import empty_postgres_url


@dataclass
class Clock:
    """An injectable "now" that tests move by hand."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def make_codes(
    store: Store,
    promotion: str = "P",
    count: int = 3,
    *,
    kind: str = "order",
    rate: object = 10,
    percent: bool = False,
    items: Sequence[str] = (),
    min_order: object = None,
    use: str = "single",
    discount_item: str | None = None,
    customers: Sequence[str] = (),
    **options: object,
) -> list[str]:
    """Codes of `promotion` (created when missing); bound to `customers` when given."""
    names = {p.name for p in catalog.list_promotions(store)}
    if promotion not in names:
        catalog.create_promotion(
            store,
            name=promotion,
            kind=kind,
            rate=rate,
            percent=percent,
            items=items,
            min_order=min_order,
            use=use,
            discount_item=discount_item,
        )
    opts = CodeOptions(**options)  # type: ignore[arg-type]
    if customers:
        result = generate.generate_for_customers(store, promotion, customers, options=opts)
    else:
        result = generate.generate_codes(store, promotion, count=count, options=opts)
    with store.read() as conn:
        return list(
            conn.scalars(
                select(s.codes.c.code)
                .where(s.codes.c.batch_id == result.batch_id)
                .order_by(s.codes.c.id)
            )
        )


def use_count(store: Store, code: str) -> int:
    with store.read() as conn:
        return int(conn.scalar(select(s.codes.c.use_count).where(s.codes.c.code == code)) or 0)


def events(store: Store, code: str, kind: str | None = None) -> list[tuple[str, str | None]]:
    """(kind, transaction) of a code's events, oldest first."""
    query = (
        select(s.code_events.c.kind, s.code_events.c.transaction_ref)
        .join(s.codes, s.codes.c.id == s.code_events.c.code_id)
        .where(s.codes.c.code == code)
        .order_by(s.code_events.c.id)
    )
    with store.read() as conn:
        rows = [(k, t) for k, t in conn.execute(query)]
    return [r for r in rows if kind is None or r[0] == kind]


PATHS = ["sqlite", "postgresql", "postgresql-python"]


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest) -> str:
    """Where the redemption tests run: SQLite, PostgreSQL through its server functions (a
    PostgreSQL register's default), and PostgreSQL with scan and pay in Python (the path the
    server functions fall back to, see connector/redeem/server_functions.py): every redemption
    test holds the three to the same results."""
    return str(request.param)


def server_side(path: str) -> bool | None:
    """The `server_side` a register on `path` is made with."""
    return False if path == "postgresql-python" else None


@pytest.fixture
def store_url(path: str, tmp_path: Path) -> str:
    """tests/conftest.py's stores: a SQLite file, or the emptied PostgreSQL test database."""
    if path == "sqlite":
        return f"sqlite:///{tmp_path / 'promosync.db'}"
    return empty_postgres_url()


@pytest.fixture
def cli_env(
    store_url: str, path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """tests/conftest.py's cli_env. The command line's registers take their store's own path,
    so on PostgreSQL a command-line test runs once, through the server functions."""
    if path == "postgresql-python":
        pytest.skip("the command line takes the store's own path: run as 'postgresql'")
    monkeypatch.chdir(tmp_path)
    open_store(store_url).close()  # made, as `promosync init` would: no other command makes one
    return {"PROMOSYNC_DATABASE_URL": store_url}


@pytest.fixture
def make_register(store: Store, path: str) -> Callable[..., Register]:
    """Registers on the test's store, taking the test's path; keyword arguments as Register's."""

    def make(**options: object) -> Register:
        return Register(store, server_side=server_side(path), **options)  # type: ignore[arg-type]

    return make


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))


@pytest.fixture
def register(make_register: Callable[..., Register], clock: Clock) -> Register:
    return make_register(clock=clock)


@pytest.fixture
def customers(store: Store) -> list[str]:
    for code in ("ALICE", "BOB", "CAROL"):
        catalog.add_customer(store, code, f"{code.lower()}@example.com")
    return ["ALICE", "BOB", "CAROL"]


@pytest.fixture
def pg_store() -> Iterator[Store]:
    """An empty PostgreSQL store (skipped without a server)."""
    store = open_store(empty_postgres_url())
    yield store
    store.close()


def wait_gone(store: Store, pid: int) -> None:
    """Wait until server process `pid` has ended (pg_terminate_backend only signals it)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with store.read() as conn:
            query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
            if not conn.scalar(query, {"pid": pid}):
                return
        time.sleep(0.01)
    raise AssertionError(f"server process {pid} did not end")
