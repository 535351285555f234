"""Fixtures for the files tests: a promotion to import into and export from, file writers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connector import catalog
from connector.store import Store
from connector.store import schema as s

PROMO = "Spring"


@pytest.fixture
def promo(store: Store) -> str:
    """A single-use order promotion with no codes yet."""
    catalog.create_promotion(store, name=PROMO, kind="order", rate=10)
    return PROMO


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(name, text_or_bytes) -> path of a new file in tmp_path (text is written as-is)."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
        return path

    return _write


def code_count(store: Store) -> int:
    with store.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(s.codes)) or 0)


def stored_codes(store: Store, promotion: str = PROMO) -> list[str]:
    """The promotion's codes in id order."""
    with store.read() as conn:
        pid = catalog.promotion_row(conn, promotion).id
        query = select(s.codes.c.code).where(s.codes.c.promotion_id == pid).order_by(s.codes.c.id)
        return list(conn.scalars(query))
