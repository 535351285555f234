"""`promosync sync verify` through the real entry point (R43): exit codes, table and JSON,
--fix shown by `sync plan` and carried out by `sync run`, and bad input."""

from __future__ import annotations

import json

from connector.emulator import mock_netsuite
from connector.store import Store
from tests.conftest import run_cli
from tests.sync.conftest import sample_promotions, writes


def _requests(emu: mock_netsuite) -> int:
    return sum(emu.stats()["requests"].values())


def test_R43_cli_verify_an_unknown_promotion_is_one_line_and_reads_nothing(
        store: Store, emu: mock_netsuite, env: dict[str, str]) -> None:
    sample_promotions(store, generated=20, local=5)
    before = _requests(emu)
    result = run_cli(["sync", "verify", "Local", "Nope"], env)
    assert result.exit_code != 0
    assert "no promotion named 'Nope'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert result.stdout == "" and _requests(emu) == before
    usage = run_cli(["sync", "verify", "--inactivate-unknown"], env)
    assert usage.exit_code == 2 and "--inactivate-unknown goes with --fix" in usage.stderr


def test_R43_cli_verify_finds_fix_plans_run_repairs_then_exit_0(
        store: Store, emu: mock_netsuite, env: dict[str, str]) -> None:
    sample_promotions(store, generated=20, local=5)
    assert run_cli(["sync", "run"], env).exit_code == 0
    clean = run_cli(["sync", "verify"], env)
    assert clean.exit_code == 0, clean.stderr
    assert "sync verify: in step" in clean.stdout and "SuiteQL page" in clean.stdout
    with emu.backend.db.lock:
        cid, code = emu.backend.db.conn.execute(
            "SELECT c.id, c.code FROM couponcode c JOIN promotioncode p ON p.id = c.promotion "
            "WHERE p.name = 'Local' ORDER BY c.id LIMIT 1").fetchone()
    emu.backend.delete("couponCode", str(cid))
    sent = writes(emu)

    table = run_cli(["sync", "verify"], env)
    assert table.exit_code == 1
    assert "missing_in_netsuite" in table.stdout and code in table.stdout
    assert "NOT in step: 1 difference" in table.stdout
    data = json.loads(run_cli(["sync", "verify", "--json"], env).stdout)
    assert data["in_step"] is False and data["exit_code"] == 1
    assert [(d["kind"], d["promotion"], d["chunk"], d["code"], d["netsuite_id"])
            for d in data["differences"]] == [("missing_in_netsuite", "Local", 1, code,
                                               str(cid))]
    assert "pushes it again" in data["differences"][0]["explain"]
    local = next(c for c in data["chunks"] if c["promotion"] == "Local")
    assert (local["store_codes"], local["netsuite_codes"], local["differences"]) == (5, 4, 1)
    only = json.loads(run_cli(["sync", "verify", "--json", "Big"], env).stdout)
    assert {c["promotion"] for c in only["chunks"]} == {"Big"} and only["in_step"] is True

    fixed = run_cli(["sync", "verify", "--fix"], env)
    assert fixed.exit_code == 1 and "1 repair step recorded for" in fixed.stdout
    assert writes(emu) == sent  # verify, even with --fix, sends nothing to NetSuite
    plan = json.loads(run_cli(["sync", "plan", "--json"], env).stdout)
    assert plan["in_step"] is False
    assert [(r["action"], r["code"]) for r in plan["repairs"]] == [("repair: forget_id", code)]
    assert "repair: forget_id" in run_cli(["sync", "plan"], env).stdout
    run = run_cli(["sync", "run", "--json"], env)
    assert run.exit_code == 0, run.stderr
    report = json.loads(run.stdout)
    assert "repairs" in report["steps"]
    assert next(p for p in report["promotions"] if p["promotion"] == "Local")["pushed"] == 1
    final = run_cli(["sync", "verify"], env)
    assert final.exit_code == 0 and "sync verify: in step" in final.stdout
    assert json.loads(run_cli(["sync", "plan", "--json"], env).stdout)["repairs"] == []
