"""`sync mirror` (R29, R18): NetSuite redemptions come back, incrementally, past the row cap."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from connector.emulator import mock_netsuite
from connector.errors import ConfigError
from connector.netsuite import NetSuiteClient
from connector.store import Store
from connector.store import schema as s
from connector.sync.engine import SyncEngine
from connector.sync.mapping import Mapping
from connector.sync.mirror import MirrorReport
from connector.sync.state import get_watermark
from tests.sync.conftest import EngineFactory, Killed, end_state, sample_promotions, writes


def _pushed_codes(store: Store) -> list[str]:
    with store.read() as conn:
        return list(conn.scalars(select(s.codes.c.code).where(s.codes.c.netsuite_id.is_not(None))
                                 .order_by(s.codes.c.id)))


def _redeemed(store: Store) -> dict[str, list[tuple[str, str | None]]]:
    with store.read() as conn:
        rows = conn.execute(select(s.codes.c.code, s.code_events.c.source,
                                   s.code_events.c.transaction_ref)
                            .join(s.code_events, s.code_events.c.code_id == s.codes.c.id)
                            .where(s.codes.c.state == "redeemed")).all()
    out: dict[str, list[tuple[str, str | None]]] = {}
    for code, source, tx in rows:
        out.setdefault(code, []).append((source, tx))
    return out


@pytest.mark.parametrize("source", ["couponcode", "tranpromotion"])
def test_R29_codes_used_in_netsuite_are_redeemed_locally_once(
        store: Store, emu: mock_netsuite, engine: EngineFactory, mapping: Mapping,
        source: str) -> None:
    m = dataclasses.replace(mapping, redemption_source=source)
    # couponcode.used is not queryable in the evidence's account: play one where it is
    emu.backend.options.couponcode_used_in_suiteql = source == "couponcode"
    sample_promotions(store, generated=300, local=50)
    engine(mapping_=m).run()
    codes = _pushed_codes(store)
    used = codes[:40] + codes[-10:]
    for code in used:
        emu.backend.simulate_redemption(code)
    report = engine(mapping_=m).mirror()
    assert report.mirror[0].redeemed == 50
    got = _redeemed(store)
    assert set(got) == set(used)
    assert all(events == [events[0]] and events[0][0] == "netsuite" for events in got.values())
    again = engine(mapping_=m).mirror()
    assert again.mirror[0].redeemed == 0
    assert _redeemed(store) == got
    end_state(store, emu)


def test_R29_a_forced_source_the_account_lacks_is_refused_before_any_write(
        store: Store, emu: mock_netsuite, engine: EngineFactory, mapping: Mapping) -> None:
    m = dataclasses.replace(mapping, redemption_source="couponcode")
    sample_promotions(store, generated=30, local=5)
    with pytest.raises(ConfigError, match="redemptions.source is couponcode.*couponcode.used"):
        engine(mapping_=m).run()
    assert writes(emu) == 0


def _local_time(hours_ago: float) -> str:
    """A time in the emulator account's zone (the evidence default plays Los Angeles)."""
    now = datetime.now(ZoneInfo("America/Los_Angeles")) - timedelta(hours=hours_ago)
    return now.strftime("%Y-%m-%d %H:%M:%S")


def test_R29_mirror_is_incremental_from_the_watermark(
        store: Store, emu: mock_netsuite, client: NetSuiteClient, mapping: Mapping) -> None:
    m = dataclasses.replace(mapping, redemption_source="tranpromotion", overlap_minutes=10)

    def mirror() -> MirrorReport:
        return SyncEngine(store, client, m, timezone="America/Los_Angeles").mirror().mirror[0]

    sample_promotions(store, generated=200, local=10)
    SyncEngine(store, client, m, timezone="America/Los_Angeles").run()
    codes = _pushed_codes(store)
    for code in codes[:25]:
        emu.backend.simulate_redemption(code, at=_local_time(3))
    for code in codes[25:30]:
        emu.backend.simulate_redemption(code, at=_local_time(2))
    first = mirror()
    assert first.rows_read == 30
    for code in codes[30:35]:
        emu.backend.simulate_redemption(code)
    second = mirror()
    # read again: only the overlap (the 5 orders at the last top), never the 25 older ones
    assert second.rows_read == 10 and second.redeemed == 5
    with store.read() as conn:
        mark = get_watermark(conn, "mirror.tranpromotion")
    assert mark is not None and json.loads(mark)["from"][:10] == _local_time(0)[:10]


def test_R29_a_code_added_to_an_older_order_is_mirrored_next_time(
        store: Store, emu: mock_netsuite, client: NetSuiteClient, mapping: Mapping) -> None:
    """An order keeps its (low) id when edited later; its lastmodifieddate moves: a watermark
    on transaction ids would never see the code added to it."""
    m = dataclasses.replace(mapping, overlap_minutes=10)
    sample_promotions(store, generated=100, local=10)
    engine = SyncEngine(store, client, m, timezone="America/Los_Angeles")
    engine.run()
    codes = _pushed_codes(store)
    old = emu.backend.simulate_redemption(codes[0], at=_local_time(3))
    for code in codes[1:4]:
        emu.backend.simulate_redemption(code, at=_local_time(1))
    assert engine.mirror().mirror[0].redeemed == 4
    emu.backend.add_coupon_to_transaction(old, codes[10])
    report = SyncEngine(store, client, m, timezone="America/Los_Angeles").mirror().mirror[0]
    assert report.redeemed == 1
    assert set(_redeemed(store)) == {*codes[:4], codes[10]}


def test_R18_R29_codes_of_cancelled_orders_stay_used(
        store: Store, emu: mock_netsuite, engine: EngineFactory) -> None:
    sample_promotions(store, generated=50, local=10)
    engine().run()
    code = _pushed_codes(store)[0]
    tid = emu.backend.simulate_redemption(code)
    engine().mirror()
    emu.backend.cancel_transaction(tid)
    engine().mirror()
    engine().run()
    assert code in _redeemed(store)


def test_R29_mirror_past_the_100k_row_cap(store: Store, emu: mock_netsuite,
                                          engine: EngineFactory, mapping: Mapping,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """NetSuite's cap scaled down (100 rows per query by offset, pages of 10): a mirror of
    1,500 rows must read them all, each once, without ever paging by offset past the cap."""
    from connector.emulator import suiteql_engine

    sample_promotions(store, generated=1500, local=5)
    engine().run()
    refused = emu.stats()["statuses"].get("400", 0)  # the account check's probes
    monkeypatch.setattr(suiteql_engine, "MAX_RESULTS", 100)
    m = dataclasses.replace(mapping, page_size=10)
    codes = _pushed_codes(store)
    for code in codes[:1500]:
        emu.backend.simulate_redemption(code)
    report = engine(mapping_=m).mirror().mirror[0]
    assert report.rows_read == 1500 and report.redeemed == 1500
    assert set(_redeemed(store)) == set(codes[:1500])
    assert emu.stats()["statuses"].get("400", 0) == refused


def test_R29_killed_mirror_resumes_without_loss_or_double_count(
        store: Store, emu: mock_netsuite, engine: EngineFactory, mapping: Mapping,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import connector.sync.mirror as mirror_module

    sample_promotions(store, generated=1200, local=5)
    engine().run()
    codes = _pushed_codes(store)
    for code in codes[:900]:
        emu.backend.simulate_redemption(code)
    monkeypatch.setattr(mirror_module, "FLUSH_ROWS", 100)
    m = dataclasses.replace(mapping, page_size=50)
    flushes = 0

    def hook(step: str) -> None:
        nonlocal flushes
        if step == "mirror_flush":
            flushes += 1
            if flushes == 3:
                raise Killed(step)

    with pytest.raises(Killed):
        engine(hook=hook, mapping_=m).mirror()
    partial = len(_redeemed(store))
    assert 0 < partial < 900
    engine(mapping_=m).mirror()
    assert set(_redeemed(store)) == set(codes[:900])
    end_state(store, emu)


def test_R29_local_redemptions_reported_or_pushed_per_mapping(
        store: Store, emu: mock_netsuite, engine: EngineFactory, mapping: Mapping) -> None:
    sample_promotions(store, generated=20, local=10)
    engine().run()
    with store.begin() as conn:
        row = conn.execute(select(s.codes.c.id, s.codes.c.code)
                           .where(s.codes.c.netsuite_id.is_not(None))).first()
        assert row is not None
        conn.execute(s.sales.insert().values(id="T-1", mode="normal", state="paid",
                                             lines=[{"item": "150", "amount": "20.00",
                                                     "quantity": 2}]))
        conn.execute(s.codes.update().where(s.codes.c.id == row.id)
                     .values(state="redeemed", use_count=1))
        conn.execute(s.code_events.insert().values(code_id=row.id, kind="redeemed",
                                                   source="local", transaction_ref="T-1"))
    off = engine().mirror().mirror[0]
    assert off.not_pushed == 1 and off.pushed == 0
    before = writes(emu)
    # a sales order needs a customer: without one the redemption is reported, not sent
    no_customer = dataclasses.replace(mapping, push_local_redemptions=True)
    skipped = engine(mapping_=no_customer).mirror().mirror[0]
    assert skipped.pushed == 0 and skipped.not_pushed == 1 and writes(emu) == before
    assert "push_customer" in skipped.push_errors[0]
    emu.backend.seed_samples()  # customers 1001-1003, items 150 and 200
    on = dataclasses.replace(mapping, push_local_redemptions=True, push_customer="1001")
    pushed = engine(mapping_=on).mirror().mirror[0]
    assert pushed.pushed == 1 and pushed.not_pushed == 0 and writes(emu) == before + 1
    with emu.backend.db.lock:
        used = emu.backend.db.conn.execute(
            "SELECT used FROM couponcode WHERE code = ?", [row.code]).fetchone()
        order = emu.backend.db.conn.execute(
            'SELECT entity FROM "transaction" WHERE externalid LIKE ?',
            ["promosync-redemption-%"]).fetchone()
    assert used == ("T",) and order is not None and str(order[0]) == "1001"
    assert engine(mapping_=on).mirror().mirror[0].pushed == 0
    assert [e[0] for e in _redeemed(store)[row.code]] == ["local"]
