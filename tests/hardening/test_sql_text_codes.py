"""Codes holding quotes, backslashes, tabs and SQL text: stored and looked up literally.

The bulk path (COPY on PostgreSQL, executemany on SQLite) and every lookup bind codes as data,
never as SQL: a code like `'; DROP TABLE codes; --` is one row with exactly that text, lookups
find it and only it, and nothing else in the store changes (R3, R13).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from connector import catalog, generate
from connector.errors import InputError, RedemptionError
from connector.history import code_history
from connector.redeem import Register
from connector.store import Store, bulk
from connector.store import schema as s
from connector.store.bulk import COPY_MIN_ROWS, insert_codes
from tests.hardening.conftest import snapshot

NASTY = [
    "'; DROP TABLE CODES; --", "' OR 1=1 --", "\"; DROP TABLE CODES;", "' UNION SELECT 1 --",
    "A'B", "A''B", "A\\B", "A\\'B", "\\N", "TAB\tTAB", "LINE\nBREAK", "CR\rX", "%S", "%(X)S",
    "$1", "{AFTER}", "A;B", "--", "/*X*/", "ÄÖÜ-ß€", "X\\.Y", "'||(SELECT 1)||'",
]


@pytest.fixture
def batch(store: Store) -> dict[str, object]:
    catalog.create_promotion(store, name="Literal", kind="order", rate=10, use="multi")
    result = generate.generate_codes(store, "Literal", count=3)
    with store.read() as conn:
        prow = catalog.promotion_row(conn, "Literal")
    return {"promotion_id": prow.id, "batch_id": result.batch_id, "max_uses": 5}


def _stored(store: Store, code: str) -> list[str]:
    with store.read() as conn:
        return list(conn.scalars(select(s.codes.c.code).where(s.codes.c.code == code)))


@pytest.mark.parametrize("path", ["copy", "executemany"])
def test_R3_codes_with_sql_text_are_stored_literally(
    store: Store, batch: dict[str, object], path: str
) -> None:
    filler = [f"FILL-{i:05d}" for i in range(COPY_MIN_ROWS if path == "copy" else 0)]
    before = snapshot(store)
    with store.begin() as conn:
        inserted = insert_codes(conn, store.dialect, NASTY + filler, batch)
    assert inserted == len(NASTY) + len(filler)
    assert snapshot(store)["codes"] == before["codes"] + inserted
    for code in NASTY:
        assert _stored(store, code) == [code]
    with store.begin() as conn:  # again: every one is a conflict, none goes in twice
        assert insert_codes(conn, store.dialect, NASTY + filler, batch) == 0
    with store.read() as conn:
        assert conn.scalar(select(func.count()).select_from(s.promotions)) == 1


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(texts=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                               blacklist_characters="\x00"), min_size=1,
                        max_size=30), min_size=1, max_size=8, unique=True))
def test_R3_any_text_round_trips_through_the_bulk_path(
    store: Store, batch: dict[str, object], texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", 1)  # every slice through COPY on PostgreSQL
    with store.begin() as conn:
        inserted = insert_codes(conn, store.dialect, texts, batch)
        found = set(conn.scalars(select(s.codes.c.code).where(s.codes.c.code.in_(texts))))
        conn.rollback()  # leave the store as it was for the next example
    assert inserted == len(texts) and found == set(texts)


@pytest.mark.parametrize("text", NASTY[:8])
def test_R13_sql_text_offered_for_redemption_is_refused_and_changes_nothing(
    store: Store, batch: dict[str, object], text: str
) -> None:
    register = Register(store, timezone="UTC")
    sale = register.open(lines=["SHIRT:40.00"])
    before = snapshot(store)
    with pytest.raises(RedemptionError):
        register.scan(sale.id, text)
    with pytest.raises(InputError):
        code_history(store, text)
    assert snapshot(store) == before
