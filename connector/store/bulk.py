"""Bulk writes of codes: the one hot path of the store.

SQLite gets a plain DBAPI executemany of tuples (no per-row SQLAlchemy work); PostgreSQL gets
executemany too, or COPY through a temporary table where that pays off. Both skip codes that
already exist (`ON CONFLICT (code) DO NOTHING`) and report how many rows went in, so that the
caller can draw again for the shortfall.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection

CODE_COLUMNS = (
    "promotion_id", "group_id", "batch_id", "amount",
    "starts_on", "expires_on", "max_uses", "max_uses_per_customer",
)


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
    shared = [(c, base[c]) for c in CODE_COLUMNS if base.get(c) is not None]
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
        f"INSERT INTO codes ({', '.join(names)}) VALUES ({', '.join(mark for _ in names)}) "  # noqa: S608
        "ON CONFLICT (code) DO NOTHING"
    )
    result = conn.exec_driver_sql(sql, rows)  # type: ignore[arg-type]
    return int(result.rowcount)
