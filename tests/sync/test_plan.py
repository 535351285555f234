"""The pure planner (R25, R28, R32): chunks, disjoint patterns, re-create, refuse, inactivate."""

from __future__ import annotations

import dataclasses

from connector.chunks import chunk_external_id
from connector.codes import draw, parse_pattern
from connector.sync.mapping import load_mapping
from connector.sync.model import ChunkRecord, LocalChunk, LocalPromotion, RemoteChunk
from connector.sync.plan import build_plan, chunk_pattern

M = load_mapping()


def promo(**kw: object) -> LocalPromotion:
    base: dict[str, object] = dict(id=1, name="P", external_key="key", kind="order",
                                   use_type="single_use", codes_from="netsuite",
                                   discount_type="percent", rate="10", code_pattern="P-[AN.8]")
    base.update(kw)
    return LocalPromotion(**base)  # type: ignore[arg-type]


def test_R25_promotion_of_1200001_codes_becomes_3_chunks() -> None:
    plan = build_plan([promo(target=1_200_001)], {}, {}, M)
    assert [a.kind for a in plan.actions] == ["create"] * 3
    assert [a.generate for a in plan.actions] == [500_000, 500_000, 200_001]
    eids = [a.external_id for a in plan.actions]
    assert eids == [chunk_external_id("key", k) for k in range(3)]
    assert all(a.generate <= 500_000 for a in plan.actions)


def test_R25_chunk_size_is_configurable_downward() -> None:
    m = dataclasses.replace(M, chunk_size=100_000)
    plan = build_plan([promo(target=250_000)], {}, {}, m)
    assert [a.generate for a in plan.actions] == [100_000, 100_000, 50_000]


def test_R25_chunk_patterns_cannot_make_each_others_codes() -> None:
    pattern = "P-[AN.3]"
    patterns = [chunk_pattern(pattern, k, 12) for k in range(12)]
    assert len(set(patterns)) == 12
    formats = [parse_pattern(p) for p in patterns]
    for i, fmt in enumerate(formats):
        for code in draw(fmt, 200):
            matching = [j for j, other in enumerate(formats) if other.matches(code)]
            assert matching == [i]


def test_R25_pattern_too_small_for_a_chunk_is_refused() -> None:
    plan = build_plan([promo(code_pattern="P-[N.2]", target=100)], {}, {}, M)
    assert plan.actions[0].kind == "refuse"
    assert "can make only 64" in plan.actions[0].reason


def test_R25_local_codes_chunked_by_position() -> None:
    m = dataclasses.replace(M, chunk_size=1000)
    p = promo(codes_from="local", code_count=2500,
              chunks={0: LocalChunk(1000, 1000, 0), 1: LocalChunk(1000, 1000, 1000),
                      2: LocalChunk(500, 500, 500)})
    remote = {chunk_external_id("key", 0): RemoteChunk("1", chunk_external_id("key", 0),
                                                       "SINGLEUSE", -10502)}
    body = build_plan([p], {}, {}, m).actions[0].body_hash
    records = {chunk_external_id("key", 0): ChunkRecord(chunk_external_id("key", 0), "1",
                                                        "SINGLEUSE", -10502, body)}
    plan = build_plan([p], records, remote, m)
    assert [(a.kind, a.push) for a in plan.actions] == [("nothing", 0), ("create", 1000),
                                                        ("create", 500)]


def test_R28_use_type_change_plans_recreate() -> None:
    eid = chunk_external_id("key", 0)
    remote = {eid: RemoteChunk("9", eid, "MULTIPLEUSES", -10502)}
    action = build_plan([promo(target=10)], {}, remote, M).actions[0]
    assert action.kind == "recreate" and action.retire == "delete"
    assert "useType" in action.reason


def test_R28_kind_change_of_a_used_promotion_inactivates_or_refuses() -> None:
    eid = chunk_external_id("key", 0)
    remote = {eid: RemoteChunk("9", eid, "SINGLEUSE", -10501, codes=10, used=3)}
    action = build_plan([promo(target=10)], {}, remote, M).actions[0]
    assert action.kind == "recreate" and action.retire == "inactivate"
    strict = dataclasses.replace(M, when_used="refuse")
    refused = build_plan([promo(target=10)], {}, remote, strict).actions[0]
    assert refused.kind == "refuse" and "customForm" in refused.reason


def test_R32_deleted_locally_plans_inactivate() -> None:
    eid = chunk_external_id("key", 0)
    remote = {eid: RemoteChunk("9", eid, "SINGLEUSE", -10502)}
    action = build_plan([promo(deleted=True)], {}, remote, M).actions[0]
    assert action.kind == "inactivate"
    gone = build_plan([promo(deleted=True)], {}, {}, M).actions
    assert gone == []


def test_R32_in_step_promotion_plans_nothing_and_missing_codes_update() -> None:
    eid = chunk_external_id("key", 0)
    first = build_plan([promo(target=10)], {}, {}, M).actions[0]
    records = {eid: ChunkRecord(eid, "9", "SINGLEUSE", -10502, first.body_hash)}
    remote = {eid: RemoteChunk("9", eid, "SINGLEUSE", -10502, codes=10)}
    p = promo(target=10, code_count=10, chunks={0: LocalChunk(10, 10, 0)})
    assert build_plan([p], records, remote, M).actions[0].kind == "nothing"
    behind = promo(target=10, code_count=4, chunks={0: LocalChunk(4, 4, 0)})
    action = build_plan([behind], records, remote, M).actions[0]
    assert action.kind == "update" and action.read_back == 6 and not action.write


def test_R26_netsuite_codes_only_for_single_use() -> None:
    action = build_plan([promo(use_type="multi_use")], {}, {}, M).actions[0]
    assert action.kind == "refuse"
