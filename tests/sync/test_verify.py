"""`sync verify` (R43): the store and NetSuite compared code by code, read-only; `--fix` records
a repair plan that `sync plan` shows and `sync run` carries out, after which verify agrees."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from connector import catalog, generate
from connector.emulator import mock_netsuite
from connector.netsuite import NetSuiteClient
from connector.store import Store
from connector.store import schema as s
from connector.sync import verify as verify_module
from connector.sync.mapping import Mapping
from connector.sync.session import Account
from connector.sync.state import SyncLock
from connector.sync.verify import Verifier
from connector.sync.verify_model import VerifyReport
from connector.sync.verify_read import Target, compact_rows, id_windows
from connector.sync.verify_repair import carry_out, repair_steps, save_repairs
from tests.sync.conftest import EngineFactory, end_state, sample_promotions, writes


def verify(store: Store, client: NetSuiteClient, mapping: Mapping,
           names: list[str] | None = None) -> VerifyReport:
    return Verifier(store, client, mapping, Account(store, client, mapping)).run(names)


def kinds(report: VerifyReport) -> list[tuple[str, Any]]:
    return sorted((d.kind, d.code) for d in report.differences)


def ns_codes(emu: mock_netsuite, promotion_name: str) -> list[tuple[str, str, str]]:
    """(id, code, used) of a NetSuite promotion's codes, in id order."""
    with emu.backend.db.lock:
        return [(str(i), str(c), str(u)) for i, c, u in emu.backend.db.conn.execute(
            "SELECT c.id, c.code, c.used FROM couponcode c JOIN promotioncode p "
            "ON p.id = c.promotion WHERE p.name = ? ORDER BY c.id", [promotion_name])]


def store_snapshot(store: Store) -> list[tuple[Any, ...]]:
    with store.read() as conn:
        codes = conn.execute(select(s.codes.c.code, s.codes.c.state, s.codes.c.netsuite_id)
                             .order_by(s.codes.c.code)).all()
        marks = conn.execute(select(s.sync_watermarks.c.name, s.sync_watermarks.c.value)).all()
    return [tuple(r) for r in codes] + [tuple(r) for r in marks]


def test_R43_a_synced_store_is_in_step_and_every_code_is_read_once(
        store: Store, emu: mock_netsuite, client: NetSuiteClient, engine: EngineFactory,
        mapping: Mapping) -> None:
    sample_promotions(store, generated=2500, local=120)
    assert engine().run().exit_code == 0
    before, sent = store_snapshot(store), writes(emu)
    report = verify(store, client, mapping)
    assert report.differences == [] and report.exit_code == 0
    assert writes(emu) == sent and store_snapshot(store) == before  # read-only
    by_name = {(c.promotion, c.chunk): c for c in report.chunks}
    assert [(k, c.store_codes, c.netsuite_codes, c.compared) for k, c in by_name.items()
            if k[0] == "Big"] == [(("Big", 1), 1000, 1000, True), (("Big", 2), 1000, 1000, True),
                                  (("Big", 3), 500, 500, True)]
    assert by_name[("Local", 1)].netsuite_codes == 120
    assert by_name[("Multi", 1)].compared is False  # a multi-use code is part of its record
    # Generated codes are numbered consecutively: 10 + 10 + 5 pages of 100; the local codes
    # (pushed 5 at a time) at least 2; plus the records, their code counts, the used counts.
    assert 25 + 2 + 3 <= report.pages <= 25 + 4 + 3
    assert report.requests == report.pages


def test_R43_a_deleted_code_and_a_missed_redemption_are_found_fixed_and_gone(
        store: Store, emu: mock_netsuite, client: NetSuiteClient, engine: EngineFactory,
        mapping: Mapping) -> None:
    sample_promotions(store, generated=2500, local=120)
    engine().run()
    big, local = ns_codes(emu, "Big #2"), ns_codes(emu, "Local")
    client.delete("couponCode", big[7][0])  # deleted by hand in NetSuite
    client.delete("couponCode", local[3][0])
    # an order placed three days ago uses a code: older than the mirror's watermark, so the
    # mirror never sees it
    emu.backend.simulate_redemption(big[30][1])
    assert engine().mirror().mirror[0].redeemed == 1  # the watermark is now
    zone = ZoneInfo("America/Los_Angeles")
    old = (datetime.now(zone) - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S")
    tx = emu.backend.simulate_redemption(big[20][1], at=old)
    assert engine().mirror().mirror[0].redeemed == 0
    before, sent = store_snapshot(store), writes(emu)

    report = verify(store, client, mapping)
    assert kinds(report) == sorted([("missing_in_netsuite", big[7][1]),
                                    ("missing_in_netsuite", local[3][1]),
                                    ("not_mirrored", big[20][1])])
    assert report.exit_code == 1 and writes(emu) == sent and store_snapshot(store) == before
    missed = next(d for d in report.differences if d.kind == "not_mirrored")
    assert (missed.promotion, missed.chunk, missed.transaction) == ("Big", 2, str(tx))
    assert "pushes it again" in next(d.explain for d in report.differences
                                     if d.code == local[3][1])

    assert save_repairs(store, report.differences) == 3
    steps = sorted(st["step"] for st in repair_steps(store))
    assert steps == ["forget_id", "forget_id", "mirror"]
    plan = engine().plan()  # the codes still have their ids: the plan alone would not see it
    assert plan.in_step
    assert engine().run().exit_code == 0
    assert repair_steps(store) == []
    after = verify(store, client, mapping)
    assert after.differences == [] and after.exit_code == 0
    assert after.pages == report.pages  # the codes pushed again far above cost no page
    assert len(ns_codes(emu, "Big #2")) == 1000 and len(ns_codes(emu, "Local")) == 120
    with store.read() as conn:
        state = conn.scalar(select(s.codes.c.state).where(s.codes.c.code == big[20][1]))
    assert state == "redeemed"
    end_state(store, emu)


def test_R43_the_repair_plan_is_idempotent_and_never_undoes_a_redemption(
        store: Store, emu: mock_netsuite, client: NetSuiteClient, engine: EngineFactory,
        mapping: Mapping) -> None:
    sample_promotions(store, generated=30, local=10)
    engine().run()
    local = ns_codes(emu, "Local")
    client.delete("couponCode", local[0][0])
    report = verify(store, client, mapping)
    save_repairs(store, report.differences)
    # the code is redeemed here before the run carries the plan out: it is not pushed again
    # and stays redeemed
    with store.begin() as conn:
        conn.execute(s.codes.update().where(s.codes.c.code == local[0][1])
                     .values(state="redeemed", use_count=1))
    assert carry_out(store, client) == {}  # the step's condition (an active code) fails
    assert carry_out(store, client) == {}  # no plan left
    again = verify(store, client, mapping)
    assert kinds(again) == [("missing_used", local[0][1])]
    assert "redemption stays recorded here" in again.differences[0].explain
    assert again.differences[0].repair is None


def test_R43_local_redemptions_not_in_netsuite_are_pushed_where_the_mapping_allows(
        store: Store, emu: mock_netsuite, client: NetSuiteClient, engine: EngineFactory,
        mapping: Mapping) -> None:
    sample_promotions(store, generated=20, local=10)
    engine().run()
    with store.begin() as conn:
        row = conn.execute(select(s.codes.c.id, s.codes.c.code).join(
            s.promotions, s.promotions.c.id == s.codes.c.promotion_id)
            .where(s.promotions.c.name == "Local").order_by(s.codes.c.id)).first()
        assert row is not None
        conn.execute(s.sales.insert().values(id="T-1", mode="normal", state="paid",
                                             lines=[{"item": "150", "amount": "20.00",
                                                     "quantity": 2}]))
        conn.execute(s.codes.update().where(s.codes.c.id == row.id)
                     .values(state="redeemed", use_count=1))
        conn.execute(s.code_events.insert().values(code_id=row.id, kind="redeemed",
                                                   source="local", transaction_ref="T-1"))
    kept = verify(store, client, mapping)
    assert kinds(kept) == [("redemption_kept_here", row.code)]
    assert "push_local is off" in kept.differences[0].explain
    assert kept.exit_code == 0 and kept.as_dict()["in_step"]  # what the mapping asks: no failure
    emu.backend.seed_samples()
    on = dataclasses.replace(mapping, push_local_redemptions=True, push_customer="1001")
    found = verify(store, client, on)
    assert kinds(found) == [("redemption_not_pushed", row.code)] and found.exit_code == 1
    engine(mapping_=on).run()
    assert verify(store, client, on).differences == []


def test_R43_records_netsuite_lacks_or_that_the_store_does_not_know(
        store: Store, emu: mock_netsuite, client: NetSuiteClient, engine: EngineFactory,
        mapping: Mapping) -> None:
    sample_promotions(store, generated=20, local=10)
    engine().run()
    catalog.create_promotion(store, name="New", kind="item", rate=5, pattern="NEW-[AN.8]")
    generate.generate_codes(store, "New", count=7)
    local_id = next(p for p in emu.backend.dump()["promotions"] if p["name"] == "Local")["id"]
    stranger = client.upsert("promotionCode", "promosync-zz99-1", {
        "name": "Someone else's", "code": "STRANGER", "customForm": {"id": "-10501"},
        "useType": {"id": "SINGLEUSE"}, "discountType": {"id": "F"}, "rate": 5})
    client.patch("promotionCode", str(local_id), {"isInactive": True})
    report = verify(store, client, mapping)
    got = sorted((d.kind, d.promotion, d.chunk) for d in report.differences)
    assert got == [("codes_not_placed", "New", None), ("record_inactive", "Local", 1),
                   ("record_missing", "New", 1), ("unknown_record", None, None)]
    unknown = next(d for d in report.differences if d.kind == "unknown_record")
    assert unknown.netsuite_id == str(stranger) and "--inactivate-unknown" in unknown.explain
    assert save_repairs(store, report.differences) == 0  # not asked: reported only
    assert save_repairs(store, report.differences, inactivate_unknown=True) == 1
    engine().run()
    assert verify(store, client, mapping).differences == []  # inactive now: harmless
    with emu.backend.db.lock:
        flag = emu.backend.db.conn.execute("SELECT isinactive FROM promotioncode WHERE id = ?",
                                           [int(str(stranger))]).fetchone()
    assert flag == ("T",)


def test_R43_what_a_running_sync_moves_is_pending_not_a_difference(
        store: Store, emu: mock_netsuite, client: NetSuiteClient, engine: EngineFactory,
        mapping: Mapping) -> None:
    sample_promotions(store, generated=20, local=10)
    engine().run()
    generate.generate_codes(store, "Local", count=3)  # new codes a run would push
    with SyncLock(store):
        report = verify(store, client, mapping)
    assert [(d.kind, d.pending) for d in report.differences] == [("codes_not_placed", True)]
    assert report.running and report.exit_code == 0
    save_repairs(store, report.differences)
    assert repair_steps(store) == []
    report = verify(store, client, mapping)
    assert [(d.kind, d.pending) for d in report.differences] == [("codes_not_placed", False)]
    assert report.exit_code == 1


def test_R43_a_code_pushed_between_the_two_reads_is_not_reported(
        store: Store, emu: mock_netsuite, client: NetSuiteClient, engine: EngineFactory,
        mapping: Mapping) -> None:
    """The store is read before NetSuite and looked at again after: a code that a concurrent
    run pushed in between (NetSuite's page showed it, the first store read had no id) is
    not a difference."""
    sample_promotions(store, generated=20, local=10)
    engine().run()
    local = ns_codes(emu, "Local")
    with store.begin() as conn:
        conn.execute(s.codes.update().where(s.codes.c.code == local[2][1])
                     .values(netsuite_id=None))
    verifier = Verifier(store, client, mapping, Account(store, client, mapping))
    judge = verifier._judge

    def pushed_meanwhile(report: VerifyReport) -> None:
        with store.begin() as conn:
            conn.execute(s.codes.update().where(s.codes.c.code == local[2][1])
                         .values(netsuite_id=local[2][0]))
        judge(report)

    verifier._judge = pushed_meanwhile  # type: ignore[method-assign]
    assert verifier.run().differences == []
    assert [c.kind for c in verifier.candidates] == ["not_recorded"]


def test_R43_the_highest_code_deleted_is_found_and_one_pushed_since_the_count_is_not(
        store: Store, emu: mock_netsuite, client: NetSuiteClient, engine: EngineFactory,
        mapping: Mapping, monkeypatch: pytest.MonkeyPatch) -> None:
    """NetSuite's highest id is taken before the codes are read: a stored id above it is a
    code pushed since (no difference) or the highest code, deleted (a difference)."""
    sample_promotions(store, generated=20, local=10)
    engine().run()
    local = ns_codes(emu, "Local")
    client.delete("couponCode", local[-1][0])
    report = verify(store, client, mapping)
    assert kinds(report) == [("missing_in_netsuite", local[-1][1])]
    save_repairs(store, report.differences)
    engine().run()  # pushes it again (a new, higher id)
    generate.generate_codes(store, "Local", count=1)
    engine().run()
    newest = ns_codes(emu, "Local")[-1]
    verifier = Verifier(store, client, mapping, Account(store, client, mapping))
    paged = verify_module._paged

    def counted_before_the_push(*args: Any) -> list[Target]:
        # NetSuite's count and highest id of Local as they were before the newest push
        return [dataclasses.replace(t, codes=t.codes - 1, hi=int(newest[0]) - 1)
                if t.promotion == "Local" else t for t in paged(*args)]

    plain = verify(store, client, mapping)
    monkeypatch.setattr(verify_module, "_paged", counted_before_the_push)
    patched = verifier.run()
    assert plain.differences == [] and patched.differences == []
    assert patched.pages == plain.pages + 1  # the newest id looked up: it exists


def test_R43_windows_follow_the_ids_the_store_knows_so_gaps_cost_no_page() -> None:
    """Codes deleted in the middle and one pushed again far above: still ceil(n / page)
    windows, tiling NetSuite's whole id range (a code the store does not know is still read)."""
    known = [i for i in range(1, 2501) if i != 500] + [9000]
    got = id_windows(known, 1, 9000, 2500, 1000)
    assert len(got) == 3
    assert got[0].low == 0 and got[-1].high == 9000
    assert all(a.high == b.low for a, b in zip(got, got[1:], strict=False))
    assert sum(1 for i in known if got[1].low < i <= got[1].high) == 1000
    dense = id_windows(list(range(1, 2501)), 1, 2500, 2500, 1000)
    assert [(w.low, w.high, w.expected) for w in dense] == [(0, 1000, 1000), (1000, 2000, 1000),
                                                            (2000, 2500, 500)]
    unknown_to_store = id_windows([], 1, 9000, 2500, 1000)  # cut evenly, as remote.windows
    assert unknown_to_store[0].low == 0 and unknown_to_store[-1].high == 9000


def test_R43_codes_added_in_netsuite_are_read_past_a_full_page_and_adopted(
        store: Store, emu: mock_netsuite, client: NetSuiteClient, engine: EngineFactory,
        mapping: Mapping) -> None:
    """150 codes NetSuite made in a promotion whose 10 codes the store knows: windows cut
    evenly, one of them holding more than a page (read on by keyset); each code is reported,
    --fix adopts them all and the next verify agrees."""
    sample_promotions(store, generated=20, local=10)
    engine().run()
    local_id = next(p for p in emu.backend.dump()["promotions"] if p["name"] == "Local")["id"]
    assert emu.backend.generate_codes(int(local_id), "ADD-[AN.8]", 150) == 150
    first = ns_codes(emu, "Local")[0]
    client.delete("couponCode", first[0])  # ids no longer consecutive: 101 in the first window
    report = verify(store, client, mapping)
    added = [d for d in report.differences if d.kind == "unknown_code"]
    assert len(added) == 150 and len(report.differences) == 151
    assert {(d.code or "")[:4] for d in added} == {"ADD-"} and added[0].chunk == 1
    assert [d.code for d in report.differences if d.kind == "missing_in_netsuite"] == [first[1]]
    assert report.pages == 3 + 3  # aggregates, then 2 windows, the first one page more
    assert save_repairs(store, report.differences) == 151
    engine().run()
    assert verify(store, client, mapping).differences == []
    with store.read() as conn:
        n = conn.scalar(select(func.count()).select_from(s.codes).join(
            s.promotions, s.promotions.c.id == s.codes.c.promotion_id)
            .where(s.promotions.c.name == "Local", s.codes.c.netsuite_id.is_not(None)))
    assert n == 160


def test_R43_a_page_is_read_as_tuples_only_when_plain_and_whole() -> None:
    page = '{"items":[{"links":[],"id":"7","code":"AB-1"},{"links":[],"id":8,"code":"AB-2"}],' \
           '"hasMore":false}'
    assert compact_rows(page, False) == [("AB-1", "7"), ("AB-2", 8)]
    assert compact_rows(page.replace("false", "true"), False) is None  # more pages follow
    assert compact_rows(page.replace("AB-1", "AB-\u00c9"), False) is None  # not ASCII
    assert compact_rows(page.replace('"AB-1"', "1"), False) is None  # a code that is no text
    assert compact_rows("not json", False) is None
    used = page.replace('"code":"AB-1"', '"code":"AB-1","used":"T"')
    assert compact_rows(used, True) == [("AB-1", "7", "T"), ("AB-2", 8, None)]


def test_R43_a_record_past_a_promotions_last_chunk_is_unknown_and_its_codes_not_judged(
        store: Store, emu: mock_netsuite, client: NetSuiteClient, engine: EngineFactory,
        mapping: Mapping) -> None:
    sample_promotions(store, generated=20, local=10)
    engine().run()
    with store.read() as conn:
        key = conn.scalar(select(s.promotions.c.external_key)
                          .where(s.promotions.c.name == "Local"))
    extra = client.upsert("promotionCode", f"promosync-{key}-2", {
        "name": "Local #2", "customForm": {"id": "-10501"}, "useType": {"id": "SINGLEUSE"},
        "discountType": {"id": "F"}, "rate": 5})
    assert emu.backend.generate_codes(int(str(extra)), "XTRA-[AN.6]", 5) == 5
    report = verify(store, client, mapping)
    assert [(d.kind, d.external_id) for d in report.differences] == [
        ("unknown_record", f"promosync-{key}-2")]
    assert {(c.promotion, c.chunk) for c in report.chunks} == {
        ("Big", 1), ("Local", 1), ("Multi", 1)}
