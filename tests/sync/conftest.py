"""Fixtures for sync tests: an in-process emulator, a client on it, an engine factory, and
`end_state`, the NetSuite + store state two runs are compared by (R27, R31)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from connector import catalog, generate
from connector.emulator import TEST_CREDENTIALS, EmulatorOptions, mock_netsuite
from connector.netsuite import NetSuiteClient, RetryPolicy, TokenAuth
from connector.store import Store, open_store
from connector.store import schema as s
from connector.sync.apply import Hook
from connector.sync.engine import SyncEngine
from connector.sync.mapping import Mapping, load_mapping
from connector.sync.state import request_netsuite_codes

FAST_RETRY = RetryPolicy(max_attempts=30, base_seconds=0.001, cap_seconds=0.01,
                         max_total_seconds=60, sleep=lambda s: None)


class Killed(BaseException):
    """Raised from a hook: the run stops there as if the process died."""


def make_client(url: str, retry: RetryPolicy = FAST_RETRY, concurrency: int = 5
                ) -> NetSuiteClient:
    c = TEST_CREDENTIALS
    auth = TokenAuth(account_id=c.account_id, consumer_key=c.consumer_key,
                     consumer_secret=c.consumer_secret, token_id=c.token_id,
                     token_secret=c.token_secret)
    return NetSuiteClient(account_id=c.account_id, auth=auth, base_url=url, retry=retry,
                          concurrency=concurrency)


@pytest.fixture
def emu() -> Iterator[mock_netsuite]:
    options = EmulatorOptions(retry_after_seconds=0, send_retry_after=False)
    with mock_netsuite(options) as e:
        yield e


@pytest.fixture
def env(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for `promosync` commands against the in-process emulator, in a fresh folder,
    on a store made as `promosync init` would (no other command makes one)."""
    monkeypatch.chdir(tmp_path)
    open_store(store_url).close()
    c = TEST_CREDENTIALS
    return {"PROMOSYNC_DATABASE_URL": store_url, "NETSUITE_ACCOUNT_ID": c.account_id,
            "NETSUITE_CONSUMER_KEY": c.consumer_key, "NETSUITE_CONSUMER_SECRET": c.consumer_secret,
            "NETSUITE_TOKEN_ID": c.token_id, "NETSUITE_TOKEN_SECRET": c.token_secret,
            "NETSUITE_RETRY_MAX_SECONDS": "2", "NETSUITE_TIMEZONE": "America/Los_Angeles"}


@pytest.fixture
def client(emu: mock_netsuite) -> Iterator[NetSuiteClient]:
    c = make_client(emu.url)
    yield c
    c.close()


@pytest.fixture
def mapping() -> Mapping:
    return dataclasses.replace(load_mapping(), chunk_size=1000, page_size=100)


EngineFactory = Callable[..., SyncEngine]


@pytest.fixture
def engine(store: Store, client: NetSuiteClient, mapping: Mapping) -> EngineFactory:
    def make(hook: Hook | None = None, mapping_: Mapping | None = None,
             client_: NetSuiteClient | None = None) -> SyncEngine:
        return SyncEngine(store, client_ or client, mapping_ or mapping, hook=hook)
    return make


def sample_promotions(store: Store, *, generated: int = 2500, local: int = 120) -> None:
    """A NetSuite-generated promotion over 3 chunks (chunk size 1000), a local one, a multi."""
    catalog.create_promotion(store, name="Big", kind="order", rate=10,
                             pattern="BIG-[AN.6]", codes_from="netsuite")
    request_netsuite_codes(store, "Big", generated)
    catalog.create_promotion(store, name="Local", kind="item", rate=5, percent=False,
                             pattern="LOC-[AN.8]")
    generate.generate_codes(store, "Local", count=local)
    catalog.create_promotion(store, name="Multi", kind="shipping", rate=100, use="multi",
                             pattern="SHIP-[A.6]")
    generate.generate_codes(store, "Multi", count=1)


def end_state(store: Store, emu: mock_netsuite) -> dict[str, Any]:
    """NetSuite and store, reduced to what must be equal after any run that finished.

    Asserts on the way that NetSuite holds no duplicate record or code, and that the store and
    NetSuite hold exactly the same single-use codes for every active chunk.
    """
    db = emu.backend.db
    with db.lock:
        promos = db.conn.execute(
            "SELECT id, externalid, name, usetype, customform, isinactive FROM promotioncode "
            "ORDER BY externalid").fetchall()
        coupons = db.conn.execute("SELECT promotion, code FROM couponcode").fetchall()
    eids = [p[1] for p in promos]
    assert len(eids) == len(set(eids)), "duplicate promotionCode external ids"
    by_promo: dict[int, list[str]] = {}
    for pid, code in coupons:
        by_promo.setdefault(pid, []).append(code)
    for pid, codes in by_promo.items():
        assert len(codes) == len(set(codes)), f"duplicate codes in NetSuite promotion {pid}"
    active = {p[0] for p in promos if p[5] == "F"}
    remote_codes = {c for pid, c in coupons if pid in active}
    with store.read() as conn:
        local = conn.execute(select(s.codes.c.code, s.codes.c.netsuite_id, s.codes.c.state,
                                    s.promotions.c.use_type)
                             .join(s.promotions, s.promotions.c.id == s.codes.c.promotion_id)
                             ).all()
        events = conn.execute(text("SELECT COUNT(*), COUNT(DISTINCT code_id) FROM code_events "
                                   "WHERE source = 'netsuite'")).one()
    single = [r for r in local if r.use_type == "single_use"]
    local_active = {r.code for r in single if r.state == "active"}
    assert local_active <= remote_codes, "local codes missing in NetSuite"
    assert all(r.netsuite_id for r in single if r.state == "active"), "codes without NetSuite id"
    assert events[0] == events[1], "a NetSuite redemption was recorded twice"
    return {
        "promotions": [(p[1], p[2], p[3], p[4], p[5], len(by_promo.get(p[0], [])))
                       for p in promos],
        "netsuite_codes": len(coupons),
        "local_codes": len(local),
        "local_redeemed": sum(1 for r in local if r.state == "redeemed"),
        "netsuite_events": events[0],
        "codes_equal": {r.code for r in single} == {c for _, c in coupons} or None,
    }


def writes(emu: mock_netsuite) -> int:
    """Write requests the emulator has served (creates, upserts, patches, deletes, batches)."""
    stats = emu.stats()["requests"]
    names = ("record.create", "record.batch", "record.patch", "record.put", "record.delete")
    return sum(n for name, n in stats.items() if name in names)
