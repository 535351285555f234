"""`promosync sync rebaseline` (R46): after a sandbox refresh the store is relinked to what
NetSuite holds, no local redemption is lost or undone, one run brings NetSuite back in step and
the next is in step; its bad input is refused in one line."""

from __future__ import annotations

import dataclasses
import io
import json
import sys

import pytest
from sqlalchemy import func, select

from connector import catalog, generate
from connector.emulator import mock_netsuite
from connector.errors import AccountRefreshed
from connector.netsuite import NetSuiteClient
from connector.store import Store
from connector.store import schema as s
from connector.sync.mapping import Mapping
from connector.sync.rebaseline import Rebaseline
from connector.sync.state import SyncLock, get_watermark, request_netsuite_codes
from tests.conftest import run_cli
from tests.sync.conftest import EngineFactory, end_state, sample_promotions, writes


def _codes(store: Store, promotion: str) -> dict[str, tuple[str, str | None]]:
    """code -> (state, NetSuite id) of a promotion's codes."""
    with store.read() as conn:
        pid = catalog.promotion_row(conn, promotion).id
        return {r.code: (r.state, r.netsuite_id) for r in conn.execute(
            select(s.codes).where(s.codes.c.promotion_id == pid).order_by(s.codes.c.id))}


def _redeem_locally(store: Store, code: str, sale: str) -> None:
    """A redemption at the local register: the code redeemed, a local event for its sale."""
    with store.begin() as conn:
        cid = conn.scalar(select(s.codes.c.id).where(s.codes.c.code == code))
        conn.execute(s.sales.insert().values(id=sale, mode="normal", state="paid",
                                             lines=[{"item": "150", "amount": "20.00",
                                                     "quantity": 1}]))
        conn.execute(s.codes.update().where(s.codes.c.id == cid)
                     .values(state="redeemed", use_count=1))
        conn.execute(s.code_events.insert().values(code_id=cid, kind="redeemed",
                                                   source="local", transaction_ref=sale))


def _events(store: Store) -> list[tuple[str, str, str]]:
    with store.read() as conn:
        return sorted((str(r.code), str(r.source), str(r.kind)) for r in conn.execute(
            select(s.codes.c.code, s.code_events.c.source, s.code_events.c.kind)
            .join(s.codes, s.codes.c.id == s.code_events.c.code_id)))


def _in_netsuite(emu: mock_netsuite, codes: list[str]) -> dict[str, str]:
    with emu.backend.db.lock:
        return {r[0]: r[1] for r in emu.backend.db.conn.execute(
            f"SELECT code, used FROM couponcode WHERE code IN ({', '.join('?' * len(codes))})",
            codes)}


def test_R46_wipe_rebaseline_then_run_recreates_and_keeps_every_redemption(
        store: Store, emu: mock_netsuite, engine: EngineFactory, client: NetSuiteClient,
        mapping: Mapping) -> None:
    sample_promotions(store, generated=30, local=20)
    assert engine().run().exit_code == 0
    local = sorted(_codes(store, "Local"))
    big = sorted(_codes(store, "Big"))
    emu.backend.simulate_redemption(big[0])  # used in NetSuite, mirrored here
    assert engine().mirror().mirror[0].redeemed == 1
    _redeem_locally(store, local[0], "S-1")
    _redeem_locally(store, big[1], "S-2")
    events = _events(store)
    emu.refresh("wipe")
    before = writes(emu)
    report = Rebaseline(store, client, mapping).run()
    assert writes(emu) == before  # rebaseline reads NetSuite only
    assert (report.chunks_gone, report.chunks_kept, report.chunks_relinked) == (3, 0, 0)
    assert report.codes_unlinked == 30 + 20 and report.codes_relinked == 0
    assert report.redeemed_kept == 3 and report.watermarks_reset == ["mirror.tranpromotion"]
    with store.read() as conn:
        assert get_watermark(conn, "mirror.tranpromotion") is None
    run = engine().run()
    assert run.exit_code == 0 and run.plan["create"] == 3
    state = end_state(store, emu)  # every active local code is in NetSuite again
    assert state["local_redeemed"] == 3 and _events(store) == events
    assert {c: st for c, (st, _) in _codes(store, "Local").items() if st != "active"} == {
        local[0]: "redeemed"}
    assert {c: st for c, (st, _) in _codes(store, "Big").items() if st != "active"} == {
        big[0]: "redeemed", big[1]: "redeemed"}
    again = writes(emu)
    second = engine().run()
    assert second.plan["nothing"] == 3 and writes(emu) == again
    assert end_state(store, emu) == state


def test_R46_older_copy_rebaseline_pushes_codes_it_lacks_and_requeues_redemptions(
        store: Store, emu: mock_netsuite, engine: EngineFactory, client: NetSuiteClient,
        mapping: Mapping) -> None:
    emu.backend.seed_samples()  # customers 1001-1003, items 150 and 200
    push = dataclasses.replace(mapping, push_local_redemptions=True, push_customer="1001")
    sample_promotions(store, generated=30, local=20)
    assert engine(mapping_=push).run().exit_code == 0
    emu.refresh("save")
    request_netsuite_codes(store, "Big", 20)  # Big grows after the copy was taken ...
    catalog.create_promotion(store, name="Late", kind="order", rate=3, pattern="LATE-[AN.6]")
    generate.generate_codes(store, "Late", count=5)  # ... and Late is new
    _redeem_locally(store, sorted(_codes(store, "Local"))[0], "S-1")
    assert engine(mapping_=push).run().exit_code == 0
    grown = list(_codes(store, "Big"))  # in id order: the last 20 came after the copy
    assert len(grown) == 50
    _redeem_locally(store, grown[-1], "S-2")  # redeemed here, not pushed yet
    late_id = _late_link(store)
    assert late_id is not None
    emu.refresh("older")  # Big holds 30 codes again, Late is gone and its id taken
    before = writes(emu)
    report = Rebaseline(store, client, push).run()
    assert writes(emu) == before
    assert (report.chunks_kept, report.chunks_gone) == (3, 1)
    assert report.codes_unlinked == 20 + 5 and report.redemptions_queued == 1
    assert _late_link(store) is None
    run = engine(mapping_=push).run()
    assert run.exit_code == 0
    # S-1's order, which the copy lost, is pushed again; S-2's code is redeemed here and not
    # in NetSuite, so its redemption stays queued (kept, reported as not in NetSuite)
    assert [(m.pushed, m.not_pushed) for m in run.mirror] == [(1, 1), (0, 1)]
    in_ns = _in_netsuite(emu, grown)  # the 19 active codes the copy lacked were pushed,
    assert set(in_ns) == set(grown) - {grown[-1]}  # none generated anew
    assert _codes(store, "Big")[grown[-1]][0] == "redeemed"
    state = end_state(store, emu)
    assert state["local_redeemed"] == 2
    with emu.backend.db.lock:  # the production promotion that holds Late's old id is untouched
        held = emu.backend.db.conn.execute("SELECT externalid, name FROM promotioncode "
                                           "WHERE id = ?", [int(late_id)]).fetchone()
    assert held == (None, f"Production promotion {late_id}")
    again = writes(emu)
    assert engine(mapping_=push).run().plan["nothing"] == 4 and writes(emu) == again


def _late_link(store: Store) -> str | None:
    with store.read() as conn:
        pid = catalog.promotion_row(conn, "Late").id
        return conn.scalar(select(s.sync_chunks.c.netsuite_id)
                           .where(s.sync_chunks.c.promotion_id == pid))


def test_R46_cli_rebaseline_json_and_its_bad_input(
        store: Store, emu: mock_netsuite, env: dict[str, str]) -> None:
    sample_promotions(store, generated=30, local=20)
    assert run_cli(["sync", "run"], env).exit_code == 0
    with emu.backend.db.lock:  # one code lost in NetSuite before the refresh: verify --fix
        emu.backend.db.conn.execute("DELETE FROM couponcode WHERE id = (SELECT MAX(id) FROM "
                                    "couponcode)")  # records a repair for the next run
    verify = run_cli(["sync", "verify", "--fix"], env)
    with store.read() as conn:
        assert get_watermark(conn, "verify.repair") is not None, verify.stdout
    emu.refresh("wipe")
    no_yes = run_cli(["sync", "rebaseline"], env)  # tests run off a terminal
    assert no_yes.exit_code == 1
    assert no_yes.stderr.strip() == ("error: sync rebaseline rewrites the store's links to "
                                     "NetSuite; when not run from a terminal it needs --yes")
    lock = SyncLock(store, ttl=60, owner="elsewhere:1:held")
    lock.acquire()
    try:
        held = run_cli(["sync", "rebaseline", "--yes"], env)
    finally:
        lock.release()
    assert held.exit_code == 3 and "another sync run holds the lock" in held.stderr
    with store.read() as conn:  # neither touched a link
        assert conn.scalar(select(func.count()).where(
            s.sync_chunks.c.netsuite_id.is_not(None))) == 3
    done = run_cli(["sync", "rebaseline", "--yes", "--json"], env)
    assert done.exit_code == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["chunks_gone"] == 3 and data["requests"] > 0 and data["account"] == "1234567_SB1"
    assert data["repairs_dropped"] == 1  # made against NetSuite as it was
    with store.read() as conn:
        assert get_watermark(conn, "verify.repair") is None
    text = run_cli(["sync", "rebaseline", "--yes"], env)
    assert "chunks: 0 kept, 0 relinked to new internal ids, 3 not in NetSuite" in text.stdout
    assert run_cli(["sync", "run"], env).exit_code == 0
    assert json.loads(run_cli(["sync", "plan", "--json"], env).stdout)["in_step"]


def test_R46_rebaseline_without_a_store_says_so(
        tmp_path: object, emu: mock_netsuite, env: dict[str, str]) -> None:
    missing = {**env, "PROMOSYNC_DATABASE_URL": "sqlite:///nowhere/promosync.db"}
    result = run_cli(["sync", "rebaseline", "--yes"], missing)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "store" in result.stderr and writes(emu) == 0
    assert sum(emu.stats()["requests"].values()) == 0


def test_R46_a_record_back_under_its_old_id_is_relinked_with_its_codes(
        store: Store, emu: mock_netsuite, engine: EngineFactory, client: NetSuiteClient,
        mapping: Mapping) -> None:
    sample_promotions(store, generated=30, local=20)
    assert engine().run().exit_code == 0
    emu.refresh("save")
    old = _codes(store, "Big")
    with store.read() as conn:
        pid = catalog.promotion_row(conn, "Big").id
        link = conn.execute(select(s.sync_chunks).where(s.sync_chunks.c.promotion_id == pid)
                            ).one()
    emu.backend.delete("promotionCode", link.netsuite_id)  # deleted by hand: created again, its
    # codes pushed from the store under new ids
    assert engine().run().plan["create"] == 1
    assert all(old[c][1] != nid for c, (_, nid) in _codes(store, "Big").items())
    emu.refresh("older")  # the copy has Local under its old internal id and old code ids
    before = writes(emu)
    with pytest.raises(AccountRefreshed) as seen:
        engine().run()
    assert f"{link.external_id}: the store has internal id" in str(seen.value)
    assert f"NetSuite has it under internal id {link.netsuite_id}" in str(seen.value)
    report = Rebaseline(store, client, mapping).run()
    assert (report.chunks_kept, report.chunks_relinked, report.chunks_gone) == (2, 1, 0)
    assert report.codes_relinked == 30 and report.codes_unlinked == 0
    assert _codes(store, "Big") == old and writes(emu) == before
    assert engine().run().exit_code == 0
    assert end_state(store, emu)["codes_equal"]
    again = writes(emu)
    assert engine().run().plan["nothing"] == 3 and writes(emu) == again


def test_R46_rebaseline_on_a_terminal_asks_first(
        store: Store, emu: mock_netsuite, env: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    sample_promotions(store, generated=30, local=20)
    assert run_cli(["sync", "run"], env).exit_code == 0
    emu.refresh("wipe")
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    declined = run_cli(["sync", "rebaseline"], env)
    assert declined.exit_code == 130 and "Relink the store to what NetSuite account " \
        "1234567_SB1 holds now?" in declined.stderr
    with store.read() as conn:  # nothing relinked
        assert conn.scalar(select(func.count()).where(
            s.sync_chunks.c.netsuite_id.is_not(None))) == 3
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    agreed = run_cli(["sync", "rebaseline"], env)
    assert agreed.exit_code == 0 and "3 not in NetSuite" in agreed.stdout


class _Terminal(io.StringIO):
    """Standard input that says it is a terminal, with the user's answer in it."""

    def isatty(self) -> bool:
        return True


def test_R46_rebaseline_is_in_the_run_history(
        store: Store, emu: mock_netsuite, env: dict[str, str]) -> None:
    sample_promotions(store, generated=30, local=20)
    assert run_cli(["sync", "run"], env).exit_code == 0
    emu.refresh("wipe")
    assert run_cli(["sync", "run"], env).exit_code == 2  # refused: the sandbox looks refreshed
    assert run_cli(["sync", "rebaseline", "--yes"], env).exit_code == 0
    history = json.loads(run_cli(["sync", "history", "--json"], env).stdout)
    assert [(h["command"], h["outcome"]) for h in history] == [
        ("rebaseline", "ok"), ("run", "refused"), ("run", "ok")]
    assert history[0]["requests"] > 0 and history[0]["seconds"] is not None
    assert history[0]["rate_limited"] == 0
    shown = json.loads(run_cli(["sync", "show", str(history[0]["run"]), "--json"], env).stdout)
    assert shown["report"]["chunks_gone"] == 3 and shown["report"]["account"] == "1234567_SB1"
    assert run_cli(["sync", "run"], env).exit_code == 0
    assert json.loads(run_cli(["sync", "errors", "--json"], env).stdout) == []
