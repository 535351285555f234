"""Faults: the store connection dropped in the middle of a generation batch, an import, a sync step.

On PostgreSQL the writer's server backend is killed (pg_terminate_backend) between two slices of
one batch, after earlier slices went through COPY; on SQLite the driver connection is closed
under the open transaction. Either way: the call fails, nothing of the batch is in the store (no
codes, no batch row), and the next attempt, on the same Store object, succeeds in full.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from connector import catalog, codes, generate
from connector.emulator import EmulatorOptions, mock_netsuite
from connector.errors import StoreError
from connector.files import imports
from connector.store import Store
from connector.store import schema as s
from connector.sync import apply as push
from connector.sync.engine import SyncEngine
from connector.sync.mapping import load_mapping
from tests.hardening.conftest import ConnectionDropper, snapshot
from tests.sync.conftest import end_state, make_client, sample_promotions

SLICE = 1_000  # small slices, so a 5,000-code batch is five writes (each through COPY on PG)
DROPPED = (DBAPIError, StoreError)  # a driver error, or a StoreError once the store wraps it

Dropper = Callable[[Store, Any, int], ConnectionDropper]


@pytest.fixture
def promo(store: Store) -> str:
    catalog.create_promotion(store, name="Faulty", kind="order", rate=10)
    generate.generate_codes(store, "Faulty", count=700, fmt=codes.su_format())  # prior batch
    return "Faulty"


def test_R8_connection_dropped_mid_generation_writes_nothing(
    store: Store, promo: str, drop_connection: Dropper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generate, "SLICE", SLICE)
    before = snapshot(store)
    dropper = drop_connection(store, generate, 3)
    with pytest.raises(DROPPED):
        generate.generate_codes(store, promo, count=5_000, fmt=codes.su_format())
    assert dropper.dropped and dropper.calls == 3
    assert snapshot(store) == before
    dropper.on_call = 0  # the next attempt runs on a healthy connection
    result = generate.generate_codes(store, promo, count=5_000, fmt=codes.su_format())
    after = snapshot(store)
    assert result.count == 5_000
    assert after["codes"] == before["codes"] + 5_000
    assert after["code_batches"] == before["code_batches"] + 1


def test_R10_connection_dropped_mid_customer_batch_writes_nothing(
    store: Store, promo: str, drop_connection: Dropper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generate, "SLICE", SLICE)
    with store.begin() as conn:
        catalog.upsert_customers(conn, [(f"C{i:05d}", None, None) for i in range(3_000)])
    wanted = [f"C{i:05d}" for i in range(3_000)]
    before = snapshot(store)
    dropper = drop_connection(store, generate, 2)
    with pytest.raises(DROPPED):
        generate.generate_for_customers(store, promo, wanted, fmt=codes.su_format())
    assert dropper.dropped and snapshot(store) == before
    dropper.on_call = 0
    result = generate.generate_for_customers(store, promo, wanted, fmt=codes.su_format())
    assert len(result.codes) == 3_000
    with store.read() as conn:
        bound = conn.execute(select(s.codes.c.customer_id).where(
            s.codes.c.batch_id == result.batch_id)).scalars().all()
    assert len(bound) == 3_000 and len(set(bound)) == 3_000


def test_R12_connection_dropped_mid_import_writes_nothing(
    store: Store, promo: str, drop_connection: Dropper, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(imports, "SLICE", SLICE)
    wanted = codes.generate_unique(codes.parse_pattern("IMP-[AN.10]"), 4_500)
    path = tmp_path / "codes.txt"
    path.write_text("Coupon Code\n" + "\n".join(wanted) + "\n", encoding="utf-8")
    before = snapshot(store)
    dropper = drop_connection(store, imports, 4)
    with pytest.raises(DROPPED):
        imports.import_codes(store, promo, path)
    assert dropper.dropped and snapshot(store) == before
    dropper.on_call = 0
    summary = imports.import_codes(store, promo, path)
    assert summary.added == 4_500
    with store.read() as conn:
        stored = set(conn.scalars(select(s.codes.c.code).where(
            s.codes.c.batch_id == summary.batch_id)))
    assert stored == set(wanted)


@pytest.fixture
def emu() -> Iterator[mock_netsuite]:
    with mock_netsuite(EmulatorOptions(retry_after_seconds=0, send_retry_after=False)) as e:
        yield e


@pytest.mark.parametrize("writer", ["store_read_back", "mark_pushed"])
def test_R27_connection_dropped_mid_sync_step_then_rerun_ends_whole(
    store: Store, emu: mock_netsuite, drop_connection: Dropper, writer: str
) -> None:
    """A sync step's store write (codes read back from NetSuite, or NetSuite ids of pushed codes)
    loses its connection: the run fails, the lock is free, and the next run ends in the same
    state as an undisturbed run: every code once in NetSuite and once in the store."""
    sample_promotions(store, generated=2500, local=120)
    mapping = dataclasses.replace(load_mapping(), chunk_size=1000, page_size=100)
    client = make_client(emu.url)
    dropper = drop_connection(store, push, 1, writer)
    with pytest.raises(DROPPED):
        SyncEngine(store, client, mapping).run()
    assert dropper.dropped
    with store.read() as conn:
        pushed = conn.scalar(select(func.count()).select_from(s.codes).where(
            s.codes.c.netsuite_id.is_not(None)))
    assert (pushed or 0) < 2500 + 120, "the failed step's writes were kept"
    dropper.on_call = 0
    report = SyncEngine(store, client, mapping).run()
    assert report.exit_code == 0
    state = end_state(store, emu)
    assert state["netsuite_codes"] == 2500 + 120 and state["codes_equal"]
    again = SyncEngine(store, client, mapping).run()
    assert again.exit_code == 0 and end_state(store, emu) == state
    client.close()
