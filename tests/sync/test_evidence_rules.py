"""What public evidence says NetSuite accepts, held without a server: external ids, pattern
markers, batch size, discountType stated in the mapping, unknown values read from NetSuite, and
generating writes that are never sent twice (R25, R26, R28, R36, R37)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connector.chunks import chunk_external_id, code_external_id
from connector.errors import ConfigError
from connector.netsuite.profile import AccountProfile, loads, read_profile
from connector.store import Store
from connector.store import schema as s
from connector.sync.account import label_meaning, render_date
from connector.sync.capabilities import shapes
from connector.sync.mapping import load_mapping
from connector.sync.mirror import overlap_start
from connector.sync.model import ChunkRecord, LocalChunk, LocalPromotion, RemoteChunk
from connector.sync.plan import build_plan, chunk_marker, chunk_pattern
from connector.sync.push_local import order_body

M = load_mapping()
EID = re.compile(r"[A-Za-z0-9_-]+")
DISCOUNT = {"percent": "F", "amount": "T"}


def promo(**kw: object) -> LocalPromotion:
    base: dict[str, object] = dict(id=1, name="P", external_key="abc123", kind="order",
                                   use_type="single_use", codes_from="netsuite",
                                   discount_type="percent", rate="10", code_pattern="P-[AN.8]")
    base.update(kw)
    return LocalPromotion(**base)  # type: ignore[arg-type]


def test_R25_chunk_markers_avoid_characters_netsuite_refuses_in_patterns() -> None:
    markers = [chunk_marker(k) for k in range(1, 5000)]
    assert markers[:8] == ["2", "3", "4", "5", "6", "7", "8", "9"]
    assert len(set(markers)) == len(markers)
    assert not any(set(m) & set("01ILO._") for m in markers)
    assert chunk_pattern("S-[AN.4]", 0, 40) == "S-[AN.4]"
    assert chunk_pattern("S-[AN.4]", 9, 40) == "S-[AN.4]-A"


def test_R26_code_external_ids_are_always_valid_and_never_collide() -> None:
    plain = code_external_id("SPRING-ABC_2")
    assert plain == "promosync-code-SPRING-ABC_2"
    odd = ["A.B", "A B", "ÄBC", "A/B", "X" * 300, "A.B "]
    ids = [code_external_id(c) for c in odd]
    assert all(EID.fullmatch(i) for i in ids + [plain])
    assert len(set(ids)) == len(odd)
    assert code_external_id("A.B") == code_external_id("A.B")  # stable
    # a plain code can never produce an encoded code's id
    assert code_external_id("h-" + ids[0].split("-")[-1]) != ids[0]
    assert EID.fullmatch(chunk_external_id("abc123", 0))


@pytest.mark.parametrize("content, key", [
    ("[codes]\nbatch_size = 101\n", "codes.batch_size"),
    ('[enums.discountType]\npercent = "F"\n', "enums.discountType.amount"),
    ('[enums.discountType]\npercent = "F"\namount = "F"\n', "enums.discountType.amount"),
])
def test_R37_mapping_refuses_batches_over_100_and_half_stated_discount_types(
        tmp_path: Path, content: str, key: str) -> None:
    f = tmp_path / "account.toml"
    f.write_text(content)
    with pytest.raises(ConfigError, match=re.escape(f"key {key}")):
        load_mapping(f)


def test_R37_discount_type_is_not_guessed_by_default() -> None:
    assert M.stated_discount_types() is None
    unknown = shapes(AccountProfile(), M)
    assert unknown.discount_types is None
    learned = shapes(AccountProfile(discount_type={"percent": "T", "amount": "F"},
                                    discount_type_source="metadata"), M)
    assert learned.discount_types == {"percent": "T", "amount": "F"}
    stated = dataclasses.replace(M, discount_types={"percent": "percent", "amount": "flat"})
    assert shapes(AccountProfile(), stated).discount_source == "mapping"
    action = build_plan([promo(target=10)], {}, {}, M).actions[0]
    assert action.learn_discount and "discountType" not in (action.body or {})


def test_R37_discount_labels_read_as_percent_or_amount() -> None:
    assert label_meaning("Percent") == "percent"
    assert label_meaning("%") == "percent"
    assert label_meaning("Flat") == "amount"
    assert label_meaning("Currency amount") == "amount"
    assert label_meaning("T") is None


def test_R36_shapes_follow_what_the_account_offers() -> None:
    evidence = AccountProfile(suiteql={"couponcode": ("id", "code", "promotion"),
                                       "tranpromotion": ("transaction", "couponcode"),
                                       "transaction": ("id", "lastmodifieddate")},
                              async_batch=True)
    s = shapes(evidence, M)
    assert (s.redemption_source, s.used_counts, s.code_push) == (
        "tranpromotion", "tranpromotion", "async_batch")
    used = dataclasses.replace(evidence, suiteql={**evidence.suiteql, "tranpromotion": (),
                                                  "couponcode": ("id", "code", "used")},
                               async_batch=False)
    s = shapes(used, M)
    assert (s.redemption_source, s.used_counts, s.code_push) == (
        "couponcode", "couponcode", "upsert")
    neither = dataclasses.replace(used, suiteql={"tranpromotion": (),
                                                 "couponcode": ("id", "code")})
    refusal = shapes(neither, M).refusal
    assert refusal is not None and "redemptions.source" in refusal


def test_R28_values_netsuite_sends_that_promosync_does_not_know_change_nothing() -> None:
    eid = chunk_external_id("abc123", 0)
    first = build_plan([promo(target=10, code_count=10)], {}, {}, M, DISCOUNT).actions[0]
    records = {eid: ChunkRecord(eid, "9", "SINGLEUSE", -10502, first.body_hash, target=10)}
    remote = {eid: RemoteChunk("9", eid, None, None, inactive=None, codes=10, used=0,
                               unknown=("usetype 'Single Use'", "isinactive 'No'"))}
    p = promo(target=10, code_count=10, chunks={0: LocalChunk(10, 10, 0)})
    action = build_plan([p], records, remote, M, DISCOUNT).actions[0]
    assert action.kind == "nothing", action.reason
    assert "does not know" in action.reason and "Single Use" in action.reason
    deleted = build_plan([promo(deleted=True)], records, remote, M, DISCOUNT).actions[0]
    assert deleted.kind == "nothing" and "left as is" in deleted.reason


def test_R28_used_count_unknown_retires_by_inactivating() -> None:
    eid = chunk_external_id("abc123", 0)
    remote = {eid: RemoteChunk("9", eid, "MULTIPLEUSES", None, codes=10, used=None)}
    records = {eid: ChunkRecord(eid, "9", "MULTIPLEUSES", -10502, "x")}
    action = build_plan([promo(target=10)], records, remote, M, DISCOUNT).actions[0]
    assert action.kind == "recreate" and action.retire == "inactivate"


def test_R26_codes_already_asked_for_are_waited_for_not_generated_again() -> None:
    eid = chunk_external_id("abc123", 0)
    first = build_plan([promo(target=100)], {}, {}, M, DISCOUNT).actions[0]
    records = {eid: ChunkRecord(eid, "9", "SINGLEUSE", -10502, first.body_hash, target=100)}
    remote = {eid: RemoteChunk("9", eid, "SINGLEUSE", None, codes=40)}
    action = build_plan([promo(target=100)], records, remote, M, DISCOUNT).actions[0]
    assert action.generate == 0 and action.read_back == 100
    more = build_plan([promo(target=150)], records, remote, M, DISCOUNT).actions[0]
    assert more.generate == 110  # a new request is a new generation


def test_R29_watermark_overlap_grows_by_an_hour_without_a_time_zone_or_across_a_clock_change(
        ) -> None:
    assert overlap_start("2026-12-06 10:00:00", 10, "America/Los_Angeles") == "2026-12-06 09:50:00"
    assert overlap_start("2026-12-06 10:00:00", 10, None) == "2026-12-06 08:50:00"
    # the clocks went back on 1 November 2026 in Los Angeles
    assert overlap_start("2026-11-01 12:00:00", 10, "America/Los_Angeles") == "2026-11-01 10:50:00"


def test_R29_local_redemption_needs_customer_and_item_lines_or_is_reported() -> None:
    lines = [{"item": "150", "amount": "20.00", "quantity": 2}]
    body, why = order_body("SU-1", "77", lines, "42")
    assert why is None and body is not None
    assert body["entity"] == {"id": "42"} and body["couponCode"] == {"id": "77"}
    assert body["item"] == {"items": [{"item": {"id": "150"}, "quantity": 2, "amount": 20.0}]}
    assert "push_customer" in str(order_body("SU-1", "77", lines, "")[1])
    assert "no item lines" in str(order_body("SU-1", "77", None, "42")[1])
    assert "not a NetSuite internal id" in str(order_body("SU-1", "77", [{"item": "Shirt"}],
                                                          "42")[1])


def test_R36_profile_round_trips_and_a_bad_file_is_one_line(tmp_path: Path) -> None:
    p = AccountProfile(account="1234567_SB1", enums={"discountType": ("F", "T")},
                       discount_type={"percent": "F", "amount": "T"},
                       discount_type_source="metadata",
                       suiteql={"couponcode": ("id", "code"), "tranpromotion": ()},
                       date_format="M/D/YYYY", timezone="UTC", async_batch=True,
                       forms={"-10502": True}, items={"10": True})
    again = loads(p.dumps())
    assert again == p
    assert again.column("couponcode", "used") is False
    assert again.table("tranpromotion") is False and again.table("transaction") is None
    bad = tmp_path / "bad.json"
    for text in ("not json", '{"hello": 1}', '{"promosync_profile": 1, "concurrency": "x"}'):
        bad.write_text(text)
        with pytest.raises(ConfigError) as err:
            read_profile(bad)
        assert "\n" not in str(err.value) and str(bad) in str(err.value)


def test_R36_raw_dates_are_recognised_in_the_users_format() -> None:
    from datetime import datetime
    when = datetime(2026, 12, 6, 10, 0, 0)
    assert render_date(when, "M/D/YYYY") == "12/6/2026"
    assert render_date(when, "DD.MM.YYYY") == "06.12.2026"
    assert render_date(when, "YYYY-MM-DD") == "2026-12-06"


def test_R26_a_generating_write_whose_answer_is_lost_is_counted_not_sent_again(
        store: Store) -> None:
    """The connection drops after NetSuite applied the write (and generated the codes): the
    write is not resent, which would generate a second set; the codes are counted instead."""
    from connector import catalog
    from connector.emulator import mock_netsuite
    from connector.sync.engine import SyncEngine
    from connector.sync.state import request_netsuite_codes
    from tests.sync.conftest import end_state, make_client

    mapping = dataclasses.replace(M, chunk_size=1000, page_size=100, discount_types=DISCOUNT)
    catalog.create_promotion(store, name="Big", kind="order", rate=10, pattern="BIG-[AN.6]",
                             codes_from="netsuite")
    request_netsuite_codes(store, "Big", 1500)
    with mock_netsuite() as emu:
        client = make_client(emu.url)
        emu.faults.set(path="promotionCode", method="PUT", rate_drop=1.0, after=True)
        report = SyncEngine(store, client, mapping).run()
        emu.faults.clear()
        assert report.exit_code == 0, report.as_dict()["promotions"]
        state = end_state(store, emu)
        big = sorted((p[1], p[5]) for p in state["promotions"] if p[1].startswith("Big"))
        assert big == [("Big #1", 1000), ("Big #2", 500)]  # not 2,000 and 1,000
        assert emu.stats()["requests"]["record.put"] == 2  # each chunk's write sent once
        # more codes on a chunk that exists: the same, counted against what it held before
        request_netsuite_codes(store, "Big", 300)
        emu.faults.set(path="promotionCode", method="PUT", rate_drop=1.0, after=True)
        SyncEngine(store, client, mapping).run()
        emu.faults.clear()
        big = sorted((p[1], p[5]) for p in end_state(store, emu)["promotions"]
                     if p[1].startswith("Big"))
        assert big == [("Big #1", 1000), ("Big #2", 800)]
        client.close()


def test_R26_codes_generate_on_a_netsuite_promotion_records_a_request(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An admin asks NetSuite for codes from the command line: counted, shown, nothing local."""
    from connector import catalog
    from connector.emulator import mock_netsuite
    from connector.sync.engine import SyncEngine
    from tests.conftest import run_cli
    from tests.sync.conftest import make_client

    monkeypatch.chdir(tmp_path)
    catalog.create_promotion(store, name="Big", kind="order", rate=10, pattern="BIG-[AN.6]",
                             codes_from="netsuite")
    env = {"PROMOSYNC_DATABASE_URL": store.url}
    done = run_cli(["codes", "generate", "Big", "--count", "600000", "--json"], env)
    assert done.exit_code == 0, done.stderr
    assert '"requested_in_all": 600000' in done.stdout and '"received": 0' in done.stdout
    refused = run_cli(["codes", "generate", "Big", "--count", "10", "--su"], env)
    assert refused.exit_code != 0 and "--su" in refused.stderr and "--count" in refused.stderr
    shown = run_cli(["promo", "show", "Big", "--json"], env)
    assert '"netsuite_codes_requested": 600000' in shown.stdout
    assert '"netsuite_promotions": 2' in shown.stdout
    with mock_netsuite() as emu:  # the plan shows the chunks they will take
        plan = SyncEngine(store, make_client(emu.url), M).plan()
    assert [a.generate for a in plan.actions] == [500_000, 100_000]
    with store.read() as conn:
        assert conn.scalar(select(func.count()).select_from(s.codes)) == 0
