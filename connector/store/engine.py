"""Opening a store: URL to engine, schema creation and upgrade, and transactions.

SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
`BEGIN IMMEDIATE`: two writers then queue for the lock at the start instead of both reading
and one failing to upgrade later. PostgreSQL runs READ COMMITTED; the rules that must hold under
concurrency (redemption, lists, the sync lock) are written as single conditional statements
whose row counts say who won, which is correct on both engines.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Table, create_engine, event, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, CursorResult, Engine, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError

from connector.errors import ConfigError, NotAStoreError, StoreError, StoreVersionError
from connector.store import schema
from connector.store.liveness import still_connected
from connector.store.schema import APP_NAME, LATEST_VERSION, MIGRATIONS, metadata
from connector.store.transactions import Writer
from connector.text import shown

if TYPE_CHECKING:
    from connector.store.thread_connections import ThreadConnections


class Store:
    """An open store. `begin()` is a write transaction, `read()` a read-only one.

    The hot paths (redemption, coupon lists) use two more parts of it: `writer`, their short
    write transactions (transactions.Writer), and on PostgreSQL `thread_connections`, each
    thread's own connection for the server functions (thread_connections.ThreadConnections).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect: str = engine.dialect.name
        self._closers: list[Callable[[], None]] = []
        self.writer = Writer(engine)
        self.thread_connections: ThreadConnections | None = None
        if self.dialect == "postgresql":
            from connector.store.thread_connections import ThreadConnections

            self.thread_connections = ThreadConnections(engine)

    @property
    def url(self) -> str:
        """The URL with any password hidden, safe to print."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back on any error."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(promosync_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        with self.read() as conn:
            value = conn.scalar(
                select(schema.store_settings.c.value).where(schema.store_settings.c.key == key)
            )
        return default if value is None else str(value)

    def set_setting(self, key: str, value: str) -> None:
        table = schema.store_settings
        with self.begin() as conn:
            done = conn.execute(table.update().where(table.c.key == key).values(value=value))
            if done.rowcount == 0:
                conn.execute(table.insert().values(key=key, value=value))

    def schema_version(self) -> int:
        with self.read() as conn:
            return _read_version(conn) or 0

    def on_close(self, closer: Callable[[], None]) -> None:
        """Call `closer` when the store is closed (connections kept outside the pool)."""
        self._closers.append(closer)

    def close(self) -> None:
        closers, self._closers = self._closers, []
        for closer in closers:
            closer()
        if self.thread_connections is not None:
            self.thread_connections.close()
        self.writer.close()
        self.engine.dispose()


def engine_for(url: str, **kwargs: Any) -> Engine:
    """An engine for a promosync URL: sqlite:///file or postgresql://..."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"PROMOSYNC_DATABASE_URL is not a database URL: {shown(url)}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    if backend in ("postgresql", "postgres"):
        return _postgres_engine(parsed, **kwargs)
    raise ConfigError(
        f"unsupported database {shown(backend)}: use sqlite:///FILE or postgresql://..."
    )


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    database = url.database or ""
    if database and database != ":memory:":
        parent = Path(database).expanduser().resolve().parent
        if not parent.is_dir():
            raise ConfigError(f"the folder of the store {shown(database)} does not exist")
    engine = create_engine(
        url.set(drivername="sqlite+pysqlite"),
        connect_args={"timeout": 30, "check_same_thread": False},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see `_on_begin`)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA foreign_keys = ON")
        if database and database != ":memory:":
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            # 64 MiB of page cache: inserting a million random codes into the unique index
            # touches pages all over it; the 2 MiB default makes that disk-bound.
            cur.execute("PRAGMA cache_size = -65536")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("promosync_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _postgres_engine(url: URL, **kwargs: Any) -> Engine:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise ConfigError(
            "PostgreSQL stores need psycopg: pip install 'promosync[postgres]'"
        ) from None
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("execution_options", {"preserve_rowcount": True})  # INSERT rowcounts too
    # psycopg prepares repeated statements itself and answers a ROLLBACK with DEALLOCATE ALL,
    # which would drop the hot path's own prepared statements (pg_batch.py).
    kwargs["connect_args"] = {"prepare_threshold": None, **kwargs.get("connect_args", {})}
    engine = create_engine(url.set(drivername="postgresql+psycopg"), **kwargs)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine, "checkout", still_connected)
    return engine


def open_store(url: str, *, create: bool = True, **engine_kwargs: Any) -> Store:
    """Open (and create or upgrade) the store at `url`; with `create=False` a store that does
    not exist yet (no SQLite file, a database without promosync's tables) is refused instead.

    Raises NotAStoreError for a database that is not a promosync store, StoreVersionError for a
    store written by a newer promosync, StoreError when the database cannot be reached.
    """
    engine = engine_for(url, **engine_kwargs)
    if not create:
        _refuse_missing_file(engine)
    store = Store(engine)
    try:
        with store.begin() as conn:
            _prepare(conn, store.url, create)
    except (NotAStoreError, StoreVersionError, StoreError):
        engine.dispose()
        raise
    except DatabaseError as exc:
        engine.dispose()
        raise _describe(exc, store.url) from None
    return store


def _refuse_missing_file(engine: Engine) -> None:
    """A SQLite store that is not there is refused before connecting (which would create it)."""
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite" or database in ("", ":memory:"):
        return
    path = Path(database).expanduser().resolve()
    if not path.exists():
        engine.dispose()
        raise StoreError(f"there is no store at {path}; create it with `promosync init` "
                         "(or check PROMOSYNC_DATABASE_URL / --database-url)")


def _prepare(conn: Connection, where: str, create: bool) -> None:
    tables = set(inspect(conn).get_table_names())
    if "meta" not in tables:
        if tables:
            raise NotAStoreError(f"{where} is not a promosync store (it has other tables)")
        if not create:
            raise StoreError(f"{where} has no promosync store; run `promosync init`")
        metadata.create_all(conn)
        for make in schema.NOT_TABLES:
            make(conn)
        conn.execute(
            schema.meta.insert(),
            [
                {"key": "app", "value": APP_NAME},
                {"key": "schema_version", "value": str(LATEST_VERSION)},
            ],
        )
        return
    app = conn.scalar(select(schema.meta.c.value).where(schema.meta.c.key == "app"))
    version = _read_version(conn)
    if app != APP_NAME or version is None:
        raise NotAStoreError(f"{where} is not a promosync store")
    if version > LATEST_VERSION:
        raise StoreVersionError(
            f"{where} has schema version {version}, newer than this promosync ({LATEST_VERSION}); "
            "upgrade promosync"
        )
    for step in range(version + 1, LATEST_VERSION + 1):
        MIGRATIONS[step](conn)
    if version < LATEST_VERSION:
        conn.execute(
            schema.meta.update().where(schema.meta.c.key == "schema_version"),
            {"value": str(LATEST_VERSION)},
        )


def _read_version(conn: Connection) -> int | None:
    value = conn.scalar(select(schema.meta.c.value).where(schema.meta.c.key == "schema_version"))
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _describe(exc: DatabaseError, where: str) -> StoreError:
    message = str(exc.orig) if exc.orig is not None else str(exc)
    if "file is not a database" in message or "malformed" in message:
        return NotAStoreError(f"{where} is not a promosync store (not a database file)")
    if isinstance(exc, OperationalError):
        first = message.strip().splitlines()[0] if message.strip() else "cannot connect"
        return StoreError(f"cannot open the store {where}: {first}")
    return StoreError(f"cannot open the store {where}: {message.splitlines()[0]}")


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row a single-row INSERT just wrote."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise StoreError("the store did not return the id of a new row")
    return int(key[0])


def ids_by_key(
    conn: Connection, key: Column[Any], keys: Sequence[str], chunk: int = 5000
) -> dict[str, int]:
    """{key value: row id} for the rows of `key`'s table whose `key` is one of `keys`, asked
    in chunks so that a million keys never make one giant IN list."""
    table = key.table
    found: dict[str, int] = {}
    for i in range(0, len(keys), chunk):
        part = list(keys[i : i + chunk])
        for value, row_id in conn.execute(select(key, table.c.id).where(key.in_(part))):
            found[value] = int(row_id)
    return found


def insert_or_skip(conn: Connection, table: Table, values: dict[str, Any], keys: list[str]) -> None:
    """INSERT a row unless one with the same `keys` exists (ON CONFLICT DO NOTHING)."""
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
        conn.execute(pg)
    else:
        lite = sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
        conn.execute(lite)


def ping(store: Store) -> None:
    with store.read() as conn:
        conn.execute(text("SELECT 1"))
