"""`promosync netsuite check` and how sync uses what it found (R36, R37): read-only probes, exit
codes, the profile file that `emulator serve --profile` plays, the cached profile refreshed when
NetSuite contradicts it, and discountType learned, verified or refused, never guessed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from connector import catalog
from connector.emulator import TEST_CREDENTIALS, EmulatorOptions, mock_netsuite
from connector.emulator.profiles import load_profile as emulator_profile
from connector.emulator.profiles import options_for
from connector.errors import ConfigError, DiscountTypeContradicted
from connector.netsuite import NetSuiteClient
from connector.netsuite.profile import read_profile
from connector.store import Store
from connector.sync.capabilities import load_profile, save_profile
from connector.sync.engine import SyncEngine
from connector.sync.mapping import Mapping
from tests.conftest import run_cli
from tests.sync.conftest import make_client, sample_promotions, writes


def _promotion_with_items(store: Store) -> None:
    catalog.create_promotion(store, name="Spring", kind="item", rate=10, items=["150", "200"],
                             discount_item="10", pattern="SPR-[AN.6]", codes_from="netsuite")


def test_R36_check_reads_the_account_writes_nothing_and_says_what_it_means(
        store: Store, emu: mock_netsuite, env: dict[str, str], tmp_path: Path) -> None:
    emu.backend.seed_samples()
    _promotion_with_items(store)
    profile_file = tmp_path / "account.json"
    result = run_cli(["netsuite", "check", "--write-profile", str(profile_file)], env)
    assert result.exit_code == 0, result.stdout + result.stderr
    out = result.stdout
    assert "✓ credentials: accepted (token-based" in out
    assert "✓ redemptions: read from tranpromotion" in out
    assert "? discountType: values F, T, meaning not shown" in out
    assert "✓ batch writes: offered" in out
    assert "✗ SuiteQL couponcode.used" in out  # not queryable in the evidence's account
    assert "✓ item 150: exists" in out and "✓ item 10: exists" in out
    assert "raw format M/D/YYYY" in out or "raw format unknown" in out
    assert writes(emu) == 0
    requests = emu.stats()["requests"]
    total = sum(requests.values())
    assert total <= 10 + 3, requests  # at most 10 requests plus one per item named
    profile = read_profile(profile_file)
    assert "customform" not in (profile.suiteql.get("promotioncode") or ())  # never probed
    assert profile.column("couponcode", "used") is False
    assert profile.async_batch is True and profile.enums["discountType"] == ("F", "T")
    text = profile_file.read_text()
    secrets = (TEST_CREDENTIALS.consumer_secret, TEST_CREDENTIALS.token_secret)
    assert not any(secret in text for secret in secrets)
    with store.read() as conn:
        cached = load_profile(conn, TEST_CREDENTIALS.account_id)
    assert cached is not None and cached.suiteql == profile.suiteql


def test_R36_check_json_and_exit_1_names_the_mapping_key_of_what_is_missing(
        store: Store, emu: mock_netsuite, env: dict[str, str], tmp_path: Path) -> None:
    catalog.create_promotion(store, name="Spring", kind="item", rate=10, items=["999"],
                             pattern="SPR-[AN.6]")
    mapping = tmp_path / "account.toml"
    mapping.write_text('[codes]\npush = "async_batch"\n[redemptions]\nsource = "couponcode"\n')
    result = run_cli(["netsuite", "check", "--json"], {**env, "PROMOSYNC_MAPPING": str(mapping)})
    assert result.exit_code == 1, result.stderr
    data = json.loads(result.stdout)
    missing = {c["capability"]: c["key"] for c in data["capabilities"]
               if c["status"] == "missing"}
    assert missing["item 999"] == "the promotion's --discount-item / --items"
    assert missing["redemptions"] == "redemptions.source"


def test_R36_check_exit_2_for_wrong_credentials(emu: mock_netsuite, env: dict[str, str]) -> None:
    wrong = run_cli(["netsuite", "check"], {**env, "NETSUITE_TOKEN_SECRET": "wrong"})
    assert wrong.exit_code == 2 and "\n" not in wrong.stderr.strip()
    assert "wrong" not in wrong.stderr


def test_R36_check_exit_2_for_an_unreachable_host(env: dict[str, str]) -> None:
    gone = run_cli(["netsuite", "check"], {**env, "NETSUITE_BASE_URL": "http://127.0.0.1:9"})
    assert gone.exit_code == 2 and "127.0.0.1:9" in gone.stderr
    assert "\n" not in gone.stderr.strip()


def test_R36_a_written_profile_is_played_by_the_emulator(
        store: Store, tmp_path: Path) -> None:
    with mock_netsuite(options_for("used_in_suiteql", async_batch_offered=False)) as emu:
        client = make_client(emu.url)
        profile, _probe = SyncEngine(store, client, _mapping()).account.check()
        client.close()
        assert profile.column("couponcode", "used") is True and profile.async_batch is False
    path = tmp_path / "account.json"
    path.write_text(profile.dumps())
    played = emulator_profile(path)
    assert played.couponcode_used_in_suiteql and not played.async_batch_offered
    with pytest.raises(ValueError, match="not an account profile"):
        bad = tmp_path / "bad.json"
        bad.write_text('{"hello": 1}')
        emulator_profile(bad)


def _promotions(emu: mock_netsuite) -> list[tuple[int, str, bool]]:
    """(id, name, inactive) of every promotionCode record in the emulator."""
    with emu.backend.db.lock:
        rows = emu.backend.db.conn.execute(
            "SELECT id, name, isinactive FROM promotioncode ORDER BY id").fetchall()
    return [(int(r[0]), str(r[1]), r[2] == "T") for r in rows]


def _mapping(**changes: object) -> Mapping:
    from connector.sync.mapping import load_mapping
    return dataclasses.replace(load_mapping(), chunk_size=1000, page_size=100, **changes)


def test_R36_cached_profile_contradicted_by_netsuite_is_refreshed_once(
        store: Store, emu: mock_netsuite, client: NetSuiteClient) -> None:
    sample_promotions(store, generated=30, local=5)
    engine = SyncEngine(store, client, _mapping())
    stale = dataclasses.replace(engine.account.profile(), suiteql={
        **engine.account.profile().suiteql, "tranpromotion": (),
        "couponcode": ("id", "code", "promotion", "used")})
    save_profile(store, stale)
    report = SyncEngine(store, client, _mapping()).run()  # reads couponcode.used: refused
    assert report.exit_code == 0
    with store.read() as conn:
        fresh = load_profile(conn, TEST_CREDENTIALS.account_id)
    assert fresh is not None and fresh.column("couponcode", "used") is False
    assert report.mirror[0].source == "tranpromotion"


def test_R36_a_second_contradiction_refuses_in_one_line(
        store: Store, emu: mock_netsuite, client: NetSuiteClient) -> None:
    sample_promotions(store, generated=30, local=5)
    engine = SyncEngine(store, client, _mapping())
    engine.account.profile()
    # the account stops answering tranpromotion after the check found it
    emu.backend.options.tranpromotion_queryable = False
    engine.account.check = lambda: (engine.account.profile(), None)  # type: ignore[assignment, return-value]
    with pytest.raises(ConfigError) as err:
        engine.mirror()
    assert "was not found although the account check found it" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("variant, percent", [
    ("evidence", "F"), ("t_is_percent", "T"), ("percent_flat", "percent"),
    ("labels_in_metadata", "F")])
def test_R37_discount_type_is_learned_from_the_account_never_guessed(
        store: Store, variant: str, percent: str) -> None:
    sample_promotions(store, generated=20, local=10)  # Big: percent; Local: amount
    with mock_netsuite(options_for(variant)) as emu:
        client = make_client(emu.url)
        report = SyncEngine(store, client, _mapping()).run()
        assert report.exit_code == 0, report.as_dict()["promotions"]
        records = _promotions(emu)
        meaning = {name: emu.backend.discount_meaning(pid) for pid, name, off in records
                   if not off}
        assert meaning["Big"] == "percent" and meaning["Local"] == "amount", meaning
        with store.read() as conn:
            profile = load_profile(conn, TEST_CREDENTIALS.account_id)
        assert profile is not None and profile.discount_type is not None
        assert profile.discount_type["percent"] == percent
        # the probe write was activated with the right value; with labels there was none
        assert not [r for r in records if r[2]]
        again = SyncEngine(store, client, _mapping()).run()
        assert again.plan["nothing"] == 3 and again.exit_code == 0
        client.close()


def test_R37_a_stated_value_that_reads_back_wrong_inactivates_and_stops(
        store: Store) -> None:
    sample_promotions(store, generated=20, local=10)
    wrong = _mapping(discount_types={"percent": "T", "amount": "F"})  # evidence: F = percent
    with mock_netsuite(EmulatorOptions()) as emu:
        client = make_client(emu.url)
        with pytest.raises(DiscountTypeContradicted) as err:
            SyncEngine(store, client, wrong).run()
        assert "enums.discountType" in str(err.value) and "inactivated" in str(err.value)
        assert [r for r in _promotions(emu) if not r[2]] == []
        client.close()


def test_R37_an_account_that_does_not_say_refuses_percent_and_amount(store: Store) -> None:
    sample_promotions(store, generated=20, local=10)
    with mock_netsuite(EmulatorOptions(discount_type_labels=None)) as emu:
        client = make_client(emu.url)
        report = SyncEngine(store, client, _mapping()).run()
        assert report.exit_code == 1
        refused = [o for o in report.outcomes if o.status == "refused"]
        assert len(refused) == 3 and all("enums.discountType" in str(o.error) for o in refused)
        # one promotion was written inactive to find out; nothing is active
        records = _promotions(emu)
        assert len(records) == 1 and records[0][2]
        client.close()


def test_R36_a_metadata_catalog_that_fails_leaves_capabilities_unknown_and_safe(
        store: Store, env: dict[str, str]) -> None:
    """The catalog answers 5xx: the check says what stays unknown; sync then sends one upsert
    per code (batch writes not known to exist) and takes discountType only from the mapping."""
    sample_promotions(store, generated=20, local=10)
    with mock_netsuite(EmulatorOptions(metadata_catalog_error_status=503)) as emu:
        result = run_cli(["netsuite", "check"], env)
        assert result.exit_code == 1, result.stdout + result.stderr  # discountType unknowable
        assert "? metadata catalog:" in result.stdout
        assert "✗ discountType: which value means percent cannot be found out" in result.stdout
        client = make_client(emu.url)
        refused = SyncEngine(store, client, _mapping()).run()
        assert refused.exit_code == 1 and writes(emu) == 0
        stated = _mapping(discount_types={"percent": "F", "amount": "T"})
        report = SyncEngine(store, client, stated).run()
        assert report.exit_code == 0, report.as_dict()["promotions"]
        assert emu.stats()["requests"].get("record.batch", 0) == 0  # one upsert per code
        assert report.as_dict()["codes"]["pushed"] == 10
        client.close()
