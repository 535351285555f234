"""`sync run` against the in-process emulator (R25-R28, R31)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select, update

from connector import catalog
from connector.emulator import mock_netsuite
from connector.netsuite import NetSuiteClient
from connector.store import Store
from connector.store import schema as s
from connector.sync.mapping import Mapping
from connector.sync.plan import chunk_marker
from tests.sync.conftest import (
    EngineFactory,
    Killed,
    end_state,
    make_client,
    sample_promotions,
    writes,
)


def _codes(store: Store, promotion: str) -> list[tuple[str, str | None, int | None]]:
    with store.read() as conn:
        pid = catalog.promotion_row(conn, promotion, include_deleted=True).id
        return [(r.code, r.netsuite_id, r.netsuite_chunk) for r in conn.execute(
            select(s.codes).where(s.codes.c.promotion_id == pid))]


def test_R25_R26_netsuite_generated_codes_are_chunked_and_read_back(
        store: Store, emu: mock_netsuite, engine: EngineFactory) -> None:
    sample_promotions(store, generated=2500)
    report = engine().run()
    assert report.exit_code == 0
    dump = emu.backend.dump()["promotions"]
    big = [p for p in dump if p["name"].startswith("Big")]
    assert [(p["name"], p["codes"]) for p in big] == [("Big #1", 1000), ("Big #2", 1000),
                                                      ("Big #3", 500)]
    codes = _codes(store, "Big")
    assert len(codes) == 2500 and all(nid for _, nid, _ in codes)
    by_chunk = {k: [c for c, _, ck in codes if ck == k] for k in range(3)}
    # the first chunk keeps the bare pattern, the others end in their marker (R25)
    assert all(len(c) == len("BIG-ABCDEF") for c in by_chunk[0])
    assert all(c.endswith(f"-{chunk_marker(k)}") for k, cs in by_chunk.items() if k
               for c in cs)
    state = end_state(store, emu)
    assert state["codes_equal"]


def test_R26_local_codes_pushed_as_couponcode_upserts(
        store: Store, emu: mock_netsuite, engine: EngineFactory, mapping: Mapping) -> None:
    sample_promotions(store, generated=10, local=120)
    engine(mapping_=dataclasses.replace(mapping, code_push="upsert")).run()
    stats = emu.stats()["requests"]
    assert stats["record.put"] >= 120 + 3
    local = _codes(store, "Local")
    assert all(nid for _, nid, _ in local)
    with emu.backend.db.lock:
        eids = {r[0] for r in emu.backend.db.conn.execute(
            "SELECT externalid FROM couponcode WHERE externalid IS NOT NULL")}
    assert eids == {f"promosync-code-{c}" for c, _, _ in local}


def test_R26_local_codes_pushed_as_async_batches(
        store: Store, emu: mock_netsuite, engine: EngineFactory, mapping: Mapping) -> None:
    sample_promotions(store, generated=10, local=250)
    m = dataclasses.replace(mapping, code_push="async_batch", batch_size=100)
    assert engine(mapping_=m).run().exit_code == 0
    assert emu.stats()["requests"].get("record.batch") == 3
    assert all(nid for _, nid, _ in _codes(store, "Local"))
    end_state(store, emu)


def test_R27_rerun_after_success_writes_nothing(
        store: Store, emu: mock_netsuite, engine: EngineFactory) -> None:
    sample_promotions(store)
    engine().run()
    before_writes, before = writes(emu), end_state(store, emu)
    again = engine().run()
    assert writes(emu) == before_writes
    assert again.plan["nothing"] == sum(again.plan.values())
    assert end_state(store, emu) == before


def _steps(store: Store, emu: mock_netsuite, engine: EngineFactory) -> list[str]:
    seen: list[str] = []
    engine(hook=seen.append).run()
    return seen


@pytest.mark.parametrize("kill_at", [0, 1, 2, 3, 5, 8, 13, 21])
def test_R27_killed_run_resumes_without_duplicates(
        store: Store, emu: mock_netsuite, engine: EngineFactory, kill_at: int,
        mapping: Mapping) -> None:
    sample_promotions(store, generated=2500, local=300)
    calls = 0

    def hook(step: str) -> None:
        nonlocal calls
        calls += 1
        if calls == kill_at + 1:
            raise Killed(step)

    m = dataclasses.replace(mapping, page_size=100)
    with pytest.raises(Killed):
        engine(hook=hook, mapping_=m).run()
    report = engine(mapping_=m).run()
    assert report.exit_code == 0
    state = end_state(store, emu)
    assert state["netsuite_codes"] == 2500 + 300
    assert state["local_codes"] == 2500 + 300 + 1
    assert state["codes_equal"]
    assert engine(mapping_=m).run().plan["nothing"] == 5


def _set(store: Store, name: str, **values: object) -> None:
    with store.begin() as conn:
        conn.execute(update(s.promotions).where(s.promotions.c.name == name)
                     .values(revision=s.promotions.c.revision + 1, **values))


def test_R28_use_type_change_recreates(store: Store, emu: mock_netsuite,
                                       engine: EngineFactory) -> None:
    sample_promotions(store, generated=10)
    engine().run()
    _set(store, "Multi", use_type="single_use")
    plan = engine().plan()
    multi = [a for a in plan.actions if a.promotion == "Multi"]
    assert [a.kind for a in multi] == ["recreate"] and multi[0].retire == "delete"
    assert engine().run().exit_code == 0
    row = [p for p in emu.backend.dump()["promotions"] if p["name"] == "Multi"]
    assert [p["useType"] for p in row] == ["SINGLEUSE"]
    assert engine().plan().in_step


def test_R28_kind_change_of_used_promotion_inactivates_and_keeps_redeemed(
        store: Store, emu: mock_netsuite, engine: EngineFactory) -> None:
    sample_promotions(store, generated=10, local=20)
    engine().run()
    used = _codes(store, "Local")[:3]
    for code, _, _ in used:
        emu.backend.simulate_redemption(code)
    _set(store, "Local", kind="order")
    report = engine().run()
    assert report.exit_code == 0
    local = [p for p in emu.backend.dump()["promotions"] if p["name"] == "Local"]
    assert len(local) == 2
    old = next(p for p in local if "retired" in p["externalId"])
    new = next(p for p in local if "retired" not in p["externalId"])
    assert old["used"] == 3 and new["codes"] == 17 and new["used"] == 0
    codes = {c: st for c, st in _states(store, "Local").items()}
    assert sum(1 for st in codes.values() if st == "redeemed") == 3
    assert engine().plan().in_step


def _states(store: Store, promotion: str) -> dict[str, str]:
    with store.read() as conn:
        pid = catalog.promotion_row(conn, promotion).id
        return dict(conn.execute(select(s.codes.c.code, s.codes.c.state)
                                 .where(s.codes.c.promotion_id == pid)).all())


def test_R28_refused_when_mapping_forbids_recreating_used(
        store: Store, emu: mock_netsuite, engine: EngineFactory, mapping: Mapping) -> None:
    sample_promotions(store, generated=10, local=5)
    engine().run()
    emu.backend.simulate_redemption(_codes(store, "Local")[0][0])
    _set(store, "Local", kind="order")
    strict = dataclasses.replace(mapping, when_used="refuse")
    report = engine(mapping_=strict).run()
    assert report.exit_code == 1
    refused = [o for o in report.outcomes if o.status == "refused"]
    assert [o.promotion for o in refused] == ["Local"] and "when_used" in str(refused[0].error)


def test_R32_deleted_promotion_is_inactivated(store: Store, emu: mock_netsuite,
                                              engine: EngineFactory) -> None:
    sample_promotions(store, generated=10)
    engine().run()
    catalog.delete_promotion(store, "Local")
    assert engine().run().exit_code == 0
    with emu.backend.db.lock:
        inactive = emu.backend.db.conn.execute(
            "SELECT name FROM promotioncode WHERE isinactive = 'T'").fetchall()
    assert inactive == [("Local",)]
    assert engine().plan().in_step


def test_R32_plan_writes_nothing(store: Store, emu: mock_netsuite,
                                 engine: EngineFactory) -> None:
    sample_promotions(store)
    with store.read() as conn:
        before = [conn.scalar(select(func.count()).select_from(t))
                  for t in (s.codes, s.sync_chunks, s.sync_runs, s.sync_lock, s.code_events)]
    plan = engine().plan()
    assert plan.counts()["create"] == 3 + 1 + 1
    assert writes(emu) == 0
    with store.read() as conn:
        after = [conn.scalar(select(func.count()).select_from(t))
                 for t in (s.codes, s.sync_chunks, s.sync_runs, s.sync_lock, s.code_events)]
        assert conn.scalar(select(func.count()).where(s.codes.c.netsuite_chunk.is_not(None))) == 0
    assert before == after


def test_R31_one_failing_promotion_does_not_stop_the_others(
        store: Store, emu: mock_netsuite, engine: EngineFactory, mapping: Mapping) -> None:
    sample_promotions(store, generated=10)
    bad = dataclasses.replace(mapping, forms={**mapping.forms, "item": -99999})
    report = engine(mapping_=bad).run()
    assert report.exit_code == 1
    status = {o.promotion: o.status for o in report.outcomes}
    assert status == {"Big": "ok", "Local": "failed", "Multi": "ok"}
    assert "customForm" in str(next(o.error for o in report.outcomes if o.status == "failed"))
    assert not [p for p in emu.backend.dump()["promotions"] if p["name"] == "Local"]


def test_R31_faults_end_state_equal(store: Store, emu: mock_netsuite, engine: EngineFactory,
                                    store_url: str, mapping: Mapping) -> None:
    sample_promotions(store, generated=2500, local=200)
    emu.faults.set(rate_429=0.07, rate_5xx=0.07, rate_drop=0.06)
    faulty = make_client(emu.url)
    report = engine(client_=faulty,
                    mapping_=dataclasses.replace(mapping, code_push="upsert")).run()
    emu.faults.clear()
    assert report.exit_code == 0
    injected = emu.stats()["faults"]
    assert sum(injected.values()) > 40  # the seeded faults hit a ~250-request run often
    state = end_state(store, emu)
    assert state["netsuite_codes"] == 2700 and state["codes_equal"]
    assert engine(client_=faulty).run().plan["nothing"] == 5


def test_R31_client_reused_across_runs(store: Store, client: NetSuiteClient,
                                       engine: EngineFactory, emu: mock_netsuite) -> None:
    sample_promotions(store, generated=5)
    assert engine().run().exit_code == 0
    assert engine().run().exit_code == 0
    assert emu.stats()["statuses"].get("429", 0) == 0
