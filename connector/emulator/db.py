"""The emulator's one SQLite database: schema, connection and lock.

All state lives here: an in-memory database opened with check_same_thread=False and guarded by
one RLock. Coupon codes are plain rows (integer ids, the code text, a promotion id) so
1,200,000+ of them fit in a few hundred bytes each at most. Booleans are stored as 'T'/'F' and
datetimes as account-local 'YYYY-MM-DD HH:MM:SS' text (`dates.py`), so text order is time order
and TO_DATE(...) literals compare with them directly. The connection carries the SQL functions
SuiteQL needs: TO_CHAR and the user-date rendering of raw date columns.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from connector.emulator.dates import now_text, to_char, user_date

SCHEMA = """
CREATE TABLE promotioncode (
    id INTEGER PRIMARY KEY, externalid TEXT UNIQUE, name TEXT, code TEXT, codepattern TEXT,
    usetype TEXT NOT NULL DEFAULT 'MULTIPLEUSES', customform INTEGER, description TEXT,
    isinactive TEXT NOT NULL DEFAULT 'F', ispublic TEXT, startdate TEXT, enddate TEXT,
    discount INTEGER, discounttype TEXT, rate REAL, fixedprice REAL, applydiscountto TEXT,
    combinationtype TEXT, promotiontype TEXT, lastmodifieddate TEXT, extra TEXT
);
CREATE TABLE couponcode (
    id INTEGER PRIMARY KEY, externalid TEXT, code TEXT NOT NULL, promotion INTEGER NOT NULL,
    recipient INTEGER, datesent TEXT, used TEXT NOT NULL DEFAULT 'F',
    usecount INTEGER NOT NULL DEFAULT 0, lastmodifieddate TEXT
);
CREATE UNIQUE INDEX couponcode_eid ON couponcode(externalid) WHERE externalid IS NOT NULL;
CREATE INDEX couponcode_code ON couponcode(code, promotion);
CREATE INDEX couponcode_promotion ON couponcode(promotion);
CREATE INDEX couponcode_used ON couponcode(used) WHERE used = 'T';
CREATE TABLE customer (
    id INTEGER PRIMARY KEY, externalid TEXT UNIQUE, entityid TEXT, companyname TEXT,
    firstname TEXT, lastname TEXT, email TEXT, isinactive TEXT NOT NULL DEFAULT 'F',
    lastmodifieddate TEXT, extra TEXT
);
CREATE TABLE item (
    id INTEGER PRIMARY KEY, externalid TEXT UNIQUE, itemid TEXT, displayname TEXT,
    itemtype TEXT NOT NULL, isinactive TEXT NOT NULL DEFAULT 'F', lastmodifieddate TEXT,
    extra TEXT
);
CREATE TABLE "transaction" (
    id INTEGER PRIMARY KEY, externalid TEXT UNIQUE, tranid TEXT, type TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'B', customer INTEGER, entity INTEGER, trandate TEXT,
    memo TEXT, couponcode INTEGER, promocode INTEGER, createddate TEXT, lastmodifieddate TEXT,
    extra TEXT
);
CREATE INDEX transaction_lmd ON "transaction"(lastmodifieddate);
CREATE TABLE tranpromotion (
    "transaction" INTEGER NOT NULL, couponcode INTEGER, promocode INTEGER NOT NULL,
    promotiontype TEXT, purchasediscount REAL, shippingdiscount REAL,
    applicabilitystatus TEXT
);
CREATE INDEX tranpromotion_promo ON tranpromotion(promocode);
CREATE INDEX tranpromotion_coupon ON tranpromotion(couponcode);
CREATE INDEX tranpromotion_tx ON tranpromotion("transaction", couponcode);
CREATE TABLE _asyncjob (
    id INTEGER PRIMARY KEY, idem_key TEXT UNIQUE, method TEXT, record_type TEXT,
    polls INTEGER NOT NULL DEFAULT 0, start TEXT, "end" TEXT, result TEXT
);
CREATE TABLE _pendingcode (
    id INTEGER PRIMARY KEY, due REAL NOT NULL, promotion INTEGER NOT NULL, stamp TEXT,
    codes TEXT NOT NULL
);
CREATE TABLE _nonce (nonce TEXT PRIMARY KEY, ts INTEGER NOT NULL);
CREATE TABLE _token (token TEXT PRIMARY KEY, expires REAL NOT NULL);
"""

TABLES = ("promotioncode", "couponcode", "customer", "item", "transaction", "tranpromotion")
# Columns that hold emulator bookkeeping, hidden from SuiteQL (they read as NULL).
HIDDEN_COLUMNS = frozenset({"extra"})


VALUE_TEXT_SQL = "suiteql_value_text"  # value_text as an SQL function of the connection


def value_text(value: Any) -> str:
    """The text SuiteQL shows for a stored value: integral floats without '.0'."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


__all__ = ["HIDDEN_COLUMNS", "SCHEMA", "TABLES", "Database", "now_text", "schema_columns",
           "value_text"]
USER_DATE_SQL = "suiteql_user_date"  # dates.user_date(value, format) as an SQL function


@lru_cache(maxsize=1)
def schema_columns() -> dict[str, tuple[str, ...]]:
    """The columns of each SuiteQL-visible table, as the schema declares them."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(SCHEMA)
        return {t: tuple(str(r[1]) for r in conn.execute(f'PRAGMA table_info("{t}")'))
                for t in TABLES}
    finally:
        conn.close()


class Database:
    """One in-memory SQLite connection and the RLock every user must hold."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        # Codes per promotion while one batch job runs (its items would otherwise each count
        # the promotion's codes, quadratic in its size); None outside a batch.
        self.code_counts: dict[int, int] | None = None
        self.conn = self._open()
        self.next_due: float | None = None  # when pending generated codes are due (time.time())

    @staticmethod
    def _open() -> sqlite3.Connection:
        conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        conn.executescript(SCHEMA)
        conn.create_function(VALUE_TEXT_SQL, 1, value_text, deterministic=True)
        conn.create_function(USER_DATE_SQL, 2, user_date, deterministic=True)
        conn.create_function("TO_CHAR", 2, to_char, deterministic=True)
        conn.create_function("TO_CHAR", 1, to_char, deterministic=True)
        return conn

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run the block as one SQLite transaction (rolled back on error)."""
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                if self.code_counts is not None:
                    self.code_counts.clear()  # counted inserts were rolled back
                raise
            self.conn.execute("COMMIT")

    def reset(self) -> None:
        """Drop every row: a fresh database."""
        with self.lock:
            old = self.conn
            self.conn = self._open()
            self.next_due = None
            old.close()

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {t: int(self.conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0])
                    for t in TABLES}
