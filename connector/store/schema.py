"""The store's tables (SQLAlchemy Core, one schema for SQLite and PostgreSQL) and its migrations.

A store records its schema version in `meta`. A new store is created at LATEST_VERSION; an older
one is upgraded in place by running MIGRATIONS[v] for each version above its own, in one
transaction. A store newer than this program is refused, never downgraded.

Design choices:
* codes.code is stored upper-case and unique, so case-insensitive uniqueness (R3) is one index.
* Issuance is recorded once per batch (`code_batches`), not once per code: a million-code batch
  writes a million code rows, not two million. A code's history is its batch plus its events.
* Amounts are text decimals (exact on both engines); timestamps are UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeDecorator

APP_NAME = "promosync"
LATEST_VERSION = 7

metadata = MetaData()

Id = BigInteger().with_variant(Integer, "sqlite")  # SQLite rowid alias for fast inserts
Amount = String(32)  # a Decimal as text


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on both engines."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use datetime.now(UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

store_settings = Table(
    "store_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(8), nullable=False, unique=True),  # stored upper-case
    Column("email", String(320)),
    Column("name", String(200)),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)

coupon_groups = Table(
    "coupon_groups",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("template", String(200)),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)

group_customers = Table(
    "group_customers",
    metadata,
    Column("group_id", ForeignKey("coupon_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
)

promotions = Table(
    "promotions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    # stable across renames: NetSuite external ids are built from it (chunks.py)
    Column("external_key", String(32), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("discount_type", String(8), nullable=False),
    Column("rate", Amount, nullable=False),
    Column("discount_item", String(64)),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("min_order", Amount),
    Column("items", JSON, nullable=False, default=list),
    Column("combination_type", String(32), nullable=False, default="COMBINABLE"),
    Column("use_type", String(16), nullable=False),
    Column("code_pattern", String(200)),
    Column("codes_from", String(16), nullable=False, default="local"),
    Column("audience", String(16), nullable=False, default="everyone"),
    Column("deleted_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    Column("updated_at", UTCDateTime, nullable=False, default=utcnow),
    # bumped on every change that NetSuite must see; sync compares it with what it pushed
    Column("revision", Integer, nullable=False, default=1),
)

promotion_customers = Table(
    "promotion_customers",
    metadata,
    Column("promotion_id", ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
)

promotion_groups = Table(
    "promotion_groups",
    metadata,
    Column("promotion_id", ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("coupon_groups.id", ondelete="CASCADE"), primary_key=True),
)

code_batches = Table(
    "code_batches",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("promotion_id", ForeignKey("promotions.id"), nullable=False),
    Column("group_id", ForeignKey("coupon_groups.id")),
    Column("source", String(16), nullable=False),  # generated | imported | netsuite | manual
    Column("method", String(200)),  # the format or file the batch came from
    Column("count", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)

codes = Table(
    "codes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False),
    Column("promotion_id", ForeignKey("promotions.id"), nullable=False),
    Column("group_id", ForeignKey("coupon_groups.id")),
    Column("batch_id", ForeignKey("code_batches.id"), nullable=False),
    Column("customer_id", ForeignKey("customers.id")),
    Column("amount", Amount),  # override of the promotion's discount (R3)
    Column("starts_on", Date),
    Column("expires_on", Date),  # valid through the end of this day (R4)
    Column("max_uses", Integer),  # NULL: unlimited; single-use codes have 1
    Column("max_uses_per_customer", Integer),
    Column("use_count", Integer, nullable=False, server_default="0"),
    Column("state", String(10), nullable=False, server_default="active"),
    Column("netsuite_chunk", Integer),  # which NetSuite promotion (chunk) holds it (R25)
    Column("netsuite_id", String(32)),  # couponCode internal id once known
    UniqueConstraint("code", name="uq_codes_code"),
)
Index("ix_codes_promotion", codes.c.promotion_id, codes.c.id)
# Most codes are bound to no customer: a partial index skips them, which keeps bulk inserts of
# unbound codes from paying for it; `customer_id = ?` lookups (auto-apply) still use it.
Index(
    "ix_codes_customer",
    codes.c.customer_id,
    sqlite_where=codes.c.customer_id.is_not(None),
    postgresql_where=codes.c.customer_id.is_not(None),
)

code_events = Table(
    "code_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code_id", ForeignKey("codes.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False, default=utcnow),
    Column("source", String(16), nullable=False),
    Column("transaction_ref", String(64)),
    Column("customer_id", ForeignKey("customers.id")),
    Column("detail", Text),
    Column("pushed_at", UTCDateTime),  # a local redemption written to NetSuite (R29)
)
Index("ix_code_events_code", code_events.c.code_id)
Index("ix_code_events_kind", code_events.c.kind, code_events.c.id)

# ---- redemption (section owned by the redeem module) -------------------------------------

# A register's or web store's transaction (R13-R18): persisted so that CLI calls and registers
# can work on it across processes. `lines` is [{"item", "amount", "quantity"}], amounts as text.
sales = Table(
    "sales",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("mode", String(16), nullable=False),  # normal | returns | transfers
    Column("state", String(16), nullable=False),  # open | paid | cancelled
    Column("customer_id", ForeignKey("customers.id")),
    Column("lines", JSON, nullable=False, default=list),
    Column("shipping", Amount, nullable=False, default="0"),
    Column("register", String(64)),
    Column("discount", Amount),  # total given at payment
    Column("opened_at", UTCDateTime, nullable=False, default=utcnow),
    Column("paid_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
)

# A code held by a sale (R14): not exclusive, payment decides. state: held | expired (released
# by time) | released (removed, customer changed, cancelled) | committed | unused (zero discount).
sale_codes = Table(
    "sale_codes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sale_id", ForeignKey("sales.id", ondelete="CASCADE"), nullable=False),
    Column("code_id", ForeignKey("codes.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("auto", Boolean, nullable=False, default=False),  # added by auto-apply (R17)
    Column("held_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("discount", Amount),
)
Index("ix_sale_codes_sale", sale_codes.c.sale_id, sale_codes.c.id)
Index("ix_sale_codes_hold", sale_codes.c.state, sale_codes.c.expires_at)

# Per-customer uses of a code (R3), taken with one conditional UPDATE at payment.
code_customer_uses = Table(
    "code_customer_uses",
    metadata,
    Column("code_id", ForeignKey("codes.id"), primary_key=True),
    Column("customer_id", ForeignKey("customers.id"), primary_key=True),
    Column("uses", Integer, nullable=False, default=0),
)

# Usage limits of a coupon group as a whole (R2): every redemption of any of its codes counts.
group_limits = Table(
    "group_limits",
    metadata,
    Column("group_id", ForeignKey("coupon_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("max_uses", Integer),
    Column("max_uses_per_customer", Integer),
    Column("use_count", Integer, nullable=False, default=0),
)

group_customer_uses = Table(
    "group_customer_uses",
    metadata,
    Column("group_id", ForeignKey("coupon_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("customer_id", ForeignKey("customers.id"), primary_key=True),
    Column("uses", Integer, nullable=False, default=0),
)

# ---- coupon lists (section owned by the distribute module) --------------------------------

# R20: a fixed code handed out `times` times, or unique codes handed out in order. `given`
# counts hand-outs; the conditional UPDATE on it is what makes assignment concurrency-safe.
coupon_lists = Table(
    "coupon_lists",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(8), nullable=False),  # fixed | unique
    Column("fixed_code", String(64)),
    Column("fixed_code_id", ForeignKey("codes.id")),  # when the fixed code is a store code
    Column("total", Integer, nullable=False),  # times (fixed) or number of codes (unique)
    Column("given", Integer, nullable=False, default=0),
    Column("expires_on", Date),
    Column("warning_limit", Integer),
    Column("warned_at", UTCDateTime),  # R22: set once, when remaining first drops to the limit
    Column("warned_remaining", Integer),
    Column("emptied_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)

list_codes = Table(
    "list_codes",
    metadata,
    Column("list_id", ForeignKey("coupon_lists.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),  # 1-based hand-out order
    Column("code", String(64), nullable=False),
    Column("code_id", ForeignKey("codes.id")),  # when the code is a store code: history (R3)
)

# R21/R23: every hand-out; the latest per (list, campaign, user) answers the 24-hour rule.
list_assignments = Table(
    "list_assignments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("list_id", ForeignKey("coupon_lists.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer),
    Column("code", String(64), nullable=False),
    Column("code_id", ForeignKey("codes.id")),
    Column("user_id", String(200), nullable=False),
    Column("external_id", String(200)),
    Column("campaign", String(200), nullable=False),
    Column("given_at", UTCDateTime, nullable=False),
    Column("expires_on", Date),
)
Index("ix_list_assignments_recent", list_assignments.c.list_id, list_assignments.c.campaign,
      list_assignments.c.user_id, list_assignments.c.given_at)
Index("ix_list_assignments_user", list_assignments.c.user_id, list_assignments.c.given_at)

# R21: a campaign finishes when its list is empty or expired; recorded when first seen.
list_campaigns = Table(
    "list_campaigns",
    metadata,
    Column("list_id", ForeignKey("coupon_lists.id", ondelete="CASCADE"), primary_key=True),
    Column("campaign", String(200), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("reason", String(16)),  # empty | expired
)

# ---- sync (section owned by the sync module) ----------------------------------------------

# One row per sync lock name: who holds it and until when. A run refreshes `expires_at` while it
# works (heartbeat); a crashed run's row expires, or is taken over at once when its process is
# gone (same host). Acquire/steal is one conditional UPDATE or INSERT whose row count says who won.
sync_lock = Table(
    "sync_lock",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# What promosync last wrote for each NetSuite promotion (chunk) of a local promotion (R25-R28):
# enough to know, after a kill, what is done. The NetSuite snapshot is still the truth.
sync_chunks = Table(
    "sync_chunks",
    metadata,
    Column("promotion_id", ForeignKey("promotions.id"), primary_key=True),
    Column("chunk", Integer, primary_key=True),
    Column("external_id", String(128), nullable=False),
    Column("netsuite_id", String(32)),
    Column("use_type", String(16)),  # NetSuite useType value last written
    Column("custom_form", Integer),  # customForm id last written
    Column("body_hash", String(64)),  # hash of the last body written
    Column("target", Integer, nullable=False, server_default="0"),  # codes NetSuite should hold
    Column("batch_id", ForeignKey("code_batches.id")),  # batch of codes read back from NetSuite
    Column("state", String(12), nullable=False, server_default="active"),  # active | inactive
    Column("updated_at", UTCDateTime, nullable=False, default=utcnow),
)

# How many single-use codes NetSuite should generate for a codes_from="netsuite" promotion (R26).
netsuite_code_targets = Table(
    "netsuite_code_targets",
    metadata,
    Column("promotion_id", ForeignKey("promotions.id"), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False, default=utcnow),
)

# Incremental cursors (R29): the mirror's position in NetSuite's redemption data.
sync_watermarks = Table(
    "sync_watermarks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False, default=utcnow),
)

# One row per `sync run` / `sync mirror`: when, how it ended, and its JSON report (no secrets).
sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("command", String(16), nullable=False),
    Column("owner", String(128), nullable=False),
    Column("started_at", UTCDateTime, nullable=False, default=utcnow),
    Column("finished_at", UTCDateTime),
    Column("status", String(16), nullable=False, server_default="running"),
    Column("report", JSON),
)

# What `promosync netsuite check` found out about an account (its profile, as JSON; no secret):
# sync chooses its request shapes from it instead of guessing.
netsuite_profiles = Table(
    "netsuite_profiles",
    metadata,
    Column("account", String(64), primary_key=True),
    Column("profile", Text, nullable=False),
    Column("checked_at", UTCDateTime, nullable=False, default=utcnow),
)


Migration = Callable[[Connection], None]


def _redeem_functions(conn: Connection) -> None:
    """Version 2: scan and payment as PostgreSQL functions (redeem_functions.sql, called by
    connector/redeem/server_functions.py). A SQLite store has none: its path is Python's."""
    if conn.dialect.name == "postgresql":
        sql = Path(__file__).with_name("redeem_functions.sql").read_text(encoding="utf-8")
        dbapi: Any = conn.connection.dbapi_connection
        dbapi.execute(sql)  # no parameters: several statements in one query, in the transaction


def _profiles_table(conn: Connection) -> None:
    """Version 3: the cached account profiles."""
    netsuite_profiles.create(conn, checkfirst=True)


# ---- serve (section owned by connector/serve) ---------------------------------------------

# API keys of `promosync serve` (R41): only the SHA-256 of a key is kept; `prefix`, its first
# characters, tells keys apart. `scopes`: space-separated (register webstore lists admin).
# A name is unique among keys not revoked, so a revoked key's name can be given again.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    Column("revoked_at", UTCDateTime),
)
Index("uq_api_keys_live_name", api_keys.c.name, unique=True,
      sqlite_where=api_keys.c.revoked_at.is_(None),
      postgresql_where=api_keys.c.revoked_at.is_(None))

# Idempotency-Key of each write (R41): the first answer, kept 24 hours. `status` is NULL while
# the first request runs; `fingerprint` is the SHA-256 of its method, path and body.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    # api_keys.id, without a foreign key (version 7): checking it at every claim locked the
    # key's row, and 16 registers sharing one key made each claim a multixact, about a third
    # of a keyed redemption's work in PostgreSQL. API keys are never deleted (revoking keeps
    # the row), so no claim can outlive its key.
    Column("api_key_id", Id, primary_key=True, autoincrement=False),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer),
    Column("response", Text),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_idempotency_keys_created", idempotency_keys.c.created_at)

# Secrets the server makes for itself (the session cookie's HMAC key when settings give none).
serve_secrets = Table(
    "serve_secrets",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", Text, nullable=False),
)


def _serve_tables(conn: Connection) -> None:
    """Version 4: API keys, idempotency keys and the server's secrets (connector/serve)."""
    for table in (api_keys, idempotency_keys, serve_secrets):
        table.create(conn, checkfirst=True)


def _refusals_by_rule(conn: Connection) -> None:
    """Version 5: the redemption functions again, whose refusals now name their rule by the
    keys of connector/redeem/rules.py (CREATE OR REPLACE: the same names and signatures)."""
    _redeem_functions(conn)


def _keyed_functions(conn: Connection) -> None:
    """Version 6: the redemption functions again, with promosync_keyed_scan and
    promosync_keyed_pay, which claim an Idempotency-Key and scan or pay in one call (R41)."""
    _redeem_functions(conn)


def _unbound_idempotency_keys(conn: Connection) -> None:
    """Version 7: idempotency_keys.api_key_id without its foreign key (see the table). SQLite
    cannot drop a constraint: the table is made again and its rows copied."""
    if conn.dialect.name == "postgresql":
        found = conn.scalars(text(
            "SELECT conname FROM pg_constraint "
            "WHERE conrelid = 'idempotency_keys'::regclass AND contype = 'f'")).all()
        for name in found:
            conn.execute(text(f'ALTER TABLE idempotency_keys DROP CONSTRAINT "{name}"'))
        return
    columns = ", ".join(c.name for c in idempotency_keys.columns)
    conn.execute(text("ALTER TABLE idempotency_keys RENAME TO idempotency_keys_v6"))
    conn.execute(text("DROP INDEX IF EXISTS ix_idempotency_keys_created"))
    idempotency_keys.create(conn)
    conn.execute(text(f"INSERT INTO idempotency_keys ({columns}) "
                      f"SELECT {columns} FROM idempotency_keys_v6"))
    conn.execute(text("DROP TABLE idempotency_keys_v6"))


# MIGRATIONS[v] upgrades a store at version v-1 to version v. Version 1 is the first schema.
MIGRATIONS: dict[int, Migration] = {
    2: _redeem_functions,
    3: _profiles_table,
    4: _serve_tables,
    5: _refusals_by_rule,
    6: _keyed_functions,
    7: _unbound_idempotency_keys,
}
# What metadata.create_all does not make: run for a new store too.
NOT_TABLES: tuple[Migration, ...] = (_redeem_functions,)
