"""A refreshed NetSuite sandbox is recognised before anything is written (R46): records gone,
internal ids that point elsewhere, credentials that worked and are now refused; one record
deleted by hand is still just re-created."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from connector import catalog, generate
from connector.emulator import EmulatorServer, mock_netsuite
from connector.errors import AccountRefreshed, NetSuiteAuthError
from connector.store import Store
from connector.store import schema as s
from connector.sync.state import get_watermark
from tests.conftest import run_cli
from tests.sync.conftest import EngineFactory, end_state, make_client, sample_promotions, writes


def _links(store: Store) -> dict[str, str]:
    with store.read() as conn:
        return {r.external_id: r.netsuite_id for r in conn.execute(select(s.sync_chunks))}


def _last_run(store: Store) -> tuple[str, dict[str, object]]:
    with store.read() as conn:
        row = conn.execute(select(s.sync_runs).order_by(s.sync_runs.c.id.desc())).first()
    assert row is not None
    return row.status, row.report


def _synced(store: Store, engine: EngineFactory) -> None:
    sample_promotions(store, generated=30, local=20)
    assert engine().run().exit_code == 0


def test_R46_emulator_refresh_modes_over_the_control_api(
        store: Store, emu: mock_netsuite, engine: EngineFactory) -> None:
    _synced(store, engine)
    url = emu.url + "/__emulator__/refresh"
    bad = requests.post(url, json={"mode": "sideways"}, timeout=5)
    assert bad.status_code == 400 and "unknown refresh mode" in bad.text
    assert requests.post(url, json={"mode": "older"}, timeout=5).status_code == 400  # no copy
    assert requests.post(url, json={"mode": "save"}, timeout=5).json()["saved"][
        "promotioncode"] == 3
    wiped = requests.post(url, json={"mode": "wipe"}, timeout=5).json()
    assert (wiped["promotions"], wiped["codes"]) == (3, 30 + 20)
    assert emu.backend.db.counts()["promotioncode"] == 0
    older = requests.post(url, json={"mode": "older"}, timeout=5).json()
    assert older["restored"]["promotioncode"] == 3 and older["ids_taken"] == 0
    tokens = requests.post(url, json={"mode": "tokens"}, timeout=5).json()
    assert tokens["token_id"] != "tk-test" and "secret" not in json.dumps(tokens)


def test_R46_records_gone_are_recognised_before_any_write(
        store: Store, emu: mock_netsuite, engine: EngineFactory) -> None:
    _synced(store, engine)
    emu.refresh("wipe")
    before, watermarks = writes(emu), _watermarks(store)
    with pytest.raises(AccountRefreshed) as seen:
        engine().run()
    message = str(seen.value)
    assert "3 of the 3 promotion records promosync linked are gone" in message
    first = sorted(_links(store))[0]
    assert f"e.g. {first}, internal id {_links(store)[first]}" in message
    assert "promosync sync rebaseline" in message and "Nothing was written" in message
    status, report = _last_run(store)
    assert status == "refused" and report["reason"] == message and report["exit_code"] == 2
    assert report["mirror"] == [] and report["promotions"] == []
    with pytest.raises(AccountRefreshed):
        engine().mirror()
    with pytest.raises(AccountRefreshed):
        engine().plan()
    with pytest.raises(AccountRefreshed):  # a retry compares its own promotions' links
        engine().run(only=["Big", "Local"])
    assert writes(emu) == before and emu.backend.db.counts()["promotioncode"] == 0
    assert _watermarks(store) == watermarks


def _watermarks(store: Store) -> dict[str, str | None]:
    with store.read() as conn:
        return {n: get_watermark(conn, n) for n in ("mirror.tranpromotion", "mirror.couponcode")}


def test_R46_an_id_that_now_holds_another_record_is_recognised(
        store: Store, emu: mock_netsuite, engine: EngineFactory) -> None:
    _synced(store, engine)
    emu.refresh("save")
    saved = set(_links(store))
    catalog.create_promotion(store, name="Late", kind="order", rate=3, pattern="LATE-[AN.6]")
    generate.generate_codes(store, "Late", count=5)
    assert engine().run().exit_code == 0
    (late,) = set(_links(store)) - saved
    emu.refresh("older")  # Late's record is gone and a production promotion has its id
    before = writes(emu)
    with pytest.raises(AccountRefreshed) as seen:
        engine().run()
    assert writes(emu) == before
    assert "1 link now point elsewhere" in str(seen.value)
    assert f"e.g. {late}: the store has internal id {_links(store)[late]}" in str(seen.value)
    assert "which now holds another record (no external id)" in str(seen.value)


def test_R46_a_record_under_our_external_id_with_another_internal_id_is_recognised(
        store: Store, emu: mock_netsuite, engine: EngineFactory) -> None:
    _synced(store, engine)
    eid = sorted(_links(store))[0]
    with emu.backend.db.lock:  # the same record, copied in under a new internal id
        emu.backend.db.conn.execute("UPDATE promotioncode SET id = id + 1000 WHERE externalid = ?",
                                    [eid])
    before = writes(emu)
    with pytest.raises(AccountRefreshed) as seen:
        engine().run()
    assert writes(emu) == before
    assert f"NetSuite has it under internal id {int(_links(store)[eid]) + 1000}" in str(seen.value)


def test_R46_one_deleted_record_is_still_just_created_again(
        store: Store, emu: mock_netsuite, engine: EngineFactory) -> None:
    _synced(store, engine)
    local = next(eid for eid, nid in _links(store).items()
                 if _name_of(emu, nid) == "Local")
    emu.backend.delete("promotionCode", _links(store)[local])
    report = engine().run()
    assert report.exit_code == 0 and report.plan["create"] == 1
    assert end_state(store, emu)["codes_equal"]
    before = writes(emu)
    assert engine().run().plan["nothing"] == 3 and writes(emu) == before


def _name_of(emu: mock_netsuite, nid: str) -> str:
    with emu.backend.db.lock:
        return str(emu.backend.db.conn.execute("SELECT name FROM promotioncode WHERE id = ?",
                                               [int(nid)]).fetchone()[0])


def test_R46_cli_run_exit_2_report_refused_and_plan_shows_the_finding(
        store: Store, emu: mock_netsuite, env: dict[str, str], tmp_path: Path) -> None:
    sample_promotions(store, generated=30, local=20)
    assert run_cli(["sync", "run"], env).exit_code == 0
    emu.refresh("wipe")
    before = writes(emu)
    report = tmp_path / "report.json"
    result = run_cli(["sync", "run", "--report", str(report)], env)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: NetSuite account ") and "rebaseline" in line
    data = json.loads(report.read_text())
    assert (data["outcome"], data["exit_code"]) == ("refused", 2)
    assert data["reason"] == line.removeprefix("error: ")
    history = json.loads(run_cli(["sync", "history", "--json"], env).stdout)
    assert history[0]["outcome"] == "refused" and "no longer holds" in history[0]["reason"]
    plan = run_cli(["sync", "plan"], env)
    assert plan.exit_code == 2 and plan.stderr.strip() == line and "create" not in plan.stdout
    mirror = run_cli(["sync", "mirror"], env)
    assert mirror.exit_code == 2 and "no longer holds" in mirror.stderr
    assert writes(emu) == before


def test_R46_refused_credentials_that_worked_before_say_the_account_may_be_refreshed(
        store: Store, emu: mock_netsuite, env: dict[str, str], tmp_path: Path) -> None:
    fresh = run_cli(["sync", "run"], {**env, "NETSUITE_TOKEN_SECRET": "not-the-secret"})
    assert fresh.exit_code == 2 and "refreshed" not in fresh.stderr  # never worked: plain
    sample_promotions(store, generated=30, local=20)
    assert run_cli(["sync", "run"], env).exit_code == 0
    emu.refresh("tokens", token_id="tk-after", token_secret="ts-after-secret")
    before = writes(emu)
    report = tmp_path / "report.json"
    result = run_cli(["sync", "run", "--report", str(report)], env)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    usual = "NetSuite 401 INVALID_LOGIN"
    assert usual in fresh.stderr and line.startswith(f"error: {usual}")  # then more
    assert "these credentials worked before (a sync run reached NetSuite" in line
    assert "may have been refreshed" in line and "then run `promosync sync rebaseline`" in line
    assert "ts-after-secret" not in report.read_text() + line
    assert json.loads(report.read_text())["outcome"] == "refused"
    assert writes(emu) == before
    new = {**env, "NETSUITE_TOKEN_ID": "tk-after", "NETSUITE_TOKEN_SECRET": "ts-after-secret"}
    assert run_cli(["sync", "rebaseline", "--yes"], new).exit_code == 0
    assert run_cli(["sync", "run"], new).exit_code == 0
    assert writes(emu) == before + 3  # each record's fields written once more, no code
    assert json.loads(run_cli(["sync", "plan", "--json"], new).stdout)["in_step"]


def test_R46_an_oauth2_client_refused_after_working_says_the_account_may_be_refreshed(
        store: Store, emu: mock_netsuite, env: dict[str, str], tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_bytes(rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    oauth2 = {**env, "NETSUITE_CLIENT_ID": emu.credentials.oauth2_client_id,
              "NETSUITE_CERTIFICATE_ID": "cert-1", "NETSUITE_PRIVATE_KEY_FILE": str(key)}
    for name in ("NETSUITE_CONSUMER_KEY", "NETSUITE_CONSUMER_SECRET", "NETSUITE_TOKEN_ID",
                 "NETSUITE_TOKEN_SECRET"):
        oauth2[name] = ""
    sample_promotions(store, generated=30, local=20)
    assert run_cli(["sync", "run"], oauth2).exit_code == 0, "OAuth 2.0 works before"
    emu.refresh("tokens", client_id="oauth2-client-after")  # the mapping was not copied
    before = writes(emu)
    result = run_cli(["sync", "mirror"], oauth2)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "invalid_client" in result.stderr and "may have been refreshed" in result.stderr
    assert writes(emu) == before
    after = {**oauth2, "NETSUITE_CLIENT_ID": "oauth2-client-after"}
    assert run_cli(["sync", "rebaseline", "--yes"], after).exit_code == 0
    assert run_cli(["sync", "run"], after).exit_code == 0
    assert json.loads(run_cli(["sync", "plan", "--json"], after).stdout)["in_step"]


def test_R46_refresh_tokens_on_a_real_emulator_server_refuses_the_old_token() -> None:
    with EmulatorServer() as server:
        old = make_client(server.url)
        assert list(old.suiteql("SELECT id FROM promotioncode")) == []
        answer = requests.post(server.url + "/__emulator__/refresh",
                               json={"mode": "tokens", "token_id": "tk-2",
                                     "token_secret": "ts-2-secret"}, timeout=5)
        assert answer.status_code == 200 and answer.json()["token_id"] == "tk-2"
        with pytest.raises(NetSuiteAuthError) as refused:
            list(old.suiteql("SELECT id FROM promotioncode"))
        assert refused.value.error_code == "INVALID_LOGIN"
        old.close()
