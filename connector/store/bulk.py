"""Bulk writes of codes: the one hot path of the store.

SQLite gets a plain DBAPI executemany of tuples (no per-row SQLAlchemy work). PostgreSQL gets
COPY: the slice's codes (and owners) are copied into a session-local temporary table, then one
`INSERT INTO codes ... SELECT ... ON CONFLICT (code) DO NOTHING` moves them over with the
column values every code of the batch shares bound once as parameters. Small slices on
PostgreSQL, where creating the staging table costs more than it saves, use executemany.

Both skip codes that already exist and report how many rows went in, so that the caller can draw
again for the shortfall. Everything runs in the caller's transaction: a failure anywhere rolls
the whole batch back, staging rows included.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection

CODE_COLUMNS = (
    "promotion_id",
    "group_id",
    "batch_id",
    "amount",
    "starts_on",
    "expires_on",
    "max_uses",
    "max_uses_per_customer",
)
# At or above this many rows a PostgreSQL slice goes through COPY (measured: below a few
# hundred rows, the temporary table's create/truncate costs more than the executemany).
COPY_MIN_ROWS = 500
STAGING = "promosync_codes_in"


def insert_codes(
    conn: Connection,
    dialect: str,
    codes: Sequence[str],
    base: dict[str, Any],
    owners: Sequence[int] | None = None,
) -> int:
    """Insert `codes` sharing the column values in `base` (and one customer each from `owners`).

    Columns whose shared value is NULL are left out of the statement (measured: binding six
    NULLs per row costs SQLite more than the index work). Codes that exist already are
    skipped; returns how many were inserted.
    """
    if not codes:
        return 0
    if owners is not None and len(owners) != len(codes):
        raise ValueError("insert_codes: one owner per code")
    shared = [(c, base[c]) for c in CODE_COLUMNS if base.get(c) is not None]
    if dialect == "postgresql" and len(codes) >= COPY_MIN_ROWS:
        return _copy_postgres(conn, codes, shared, owners)
    if dialect == "sqlite":
        shared = [(c, v.isoformat() if isinstance(v, date) else v) for c, v in shared]
    names = ["code"] + [c for c, _ in shared] + (["customer_id"] if owners is not None else [])
    values = tuple(v for _, v in shared)
    if owners is None:
        rows = [(code, *values) for code in codes]
    else:
        rows = [(code, *values, owner) for code, owner in zip(codes, owners, strict=True)]
    mark = "?" if dialect == "sqlite" else "%s"
    sql = (
        f"INSERT INTO codes ({', '.join(names)}) VALUES ({', '.join(mark for _ in names)}) "
        "ON CONFLICT (code) DO NOTHING"
    )
    result = conn.exec_driver_sql(sql, rows)
    return int(result.rowcount)


def _copy_postgres(
    conn: Connection,
    codes: Sequence[str],
    shared: list[tuple[str, Any]],
    owners: Sequence[int] | None,
) -> int:
    """COPY the slice into the staging table, then move it into `codes` in one statement.

    Column names come from CODE_COLUMNS only (never from input); every value, codes included,
    travels as COPY data or a bound parameter, so no text of a code is ever parsed as SQL.
    """
    raw = conn.connection.driver_connection  # the psycopg connection, in our transaction
    if raw is None:
        raise RuntimeError("insert_codes: the store connection is closed")
    names = ["code"] + [c for c, _ in shared] + (["customer_id"] if owners is not None else [])
    picks = ["code"] + ["%s" for _ in shared] + (["customer_id"] if owners is not None else [])
    with raw.cursor() as cur:
        cur.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING} "
            "(code text NOT NULL, customer_id bigint) ON COMMIT DELETE ROWS"
        )
        cur.execute(f"TRUNCATE {STAGING}")
        if owners is None:
            with cur.copy(f"COPY {STAGING} (code) FROM STDIN") as copy:
                for code in codes:
                    copy.write_row((code,))
        else:
            with cur.copy(f"COPY {STAGING} (code, customer_id) FROM STDIN") as copy:
                for code, owner in zip(codes, owners, strict=True):
                    copy.write_row((code, owner))
        cur.execute(
            f"INSERT INTO codes ({', '.join(names)}) "
            f"SELECT {', '.join(picks)} FROM {STAGING} "
            "ON CONFLICT (code) DO NOTHING",
            tuple(v for _, v in shared),
        )
        return int(cur.rowcount)
