"""Every plausible NetSuite account (R36): sync, mirror and the account check against each
emulator variant end in the same NetSuite and local state, or refuse before writing anything.

Public evidence leaves open which SuiteQL columns exist, which discountType value means
percent, how dates come back, whether batch writes are offered and whether generated codes
appear at once; the emulator plays each answer (connector.emulator.profiles.VARIANTS).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from connector.emulator import mock_netsuite
from connector.emulator.profiles import VARIANTS, options_for
from connector.errors import ConfigError
from connector.store import Store
from connector.sync.engine import SyncEngine
from connector.sync.mapping import Mapping, load_mapping
from tests.sync.conftest import end_state, make_client, sample_promotions, writes

# Every variant but the one with no way to read redemptions (refused: see the last test), and
# that one again where couponcode.used is queryable instead.
CASES = [(v, {}) for v in sorted(VARIANTS) if v not in ("legacy", "no_tranpromotion")] + [
    ("no_tranpromotion", {"couponcode_used_in_suiteql": True})]


def _mapping() -> Mapping:
    return dataclasses.replace(load_mapping(), chunk_size=1000, page_size=100)


def _meanings(emu: mock_netsuite) -> dict[str, str | None]:
    with emu.backend.db.lock:
        rows = emu.backend.db.conn.execute(
            "SELECT id, name FROM promotioncode WHERE isinactive = 'F'").fetchall()
    return {str(name): emu.backend.discount_meaning(int(pid)) for pid, name in rows}


@pytest.mark.parametrize("variant, overrides", CASES, ids=[c[0] for c in CASES])
def test_R36_every_account_variant_ends_in_the_same_state(
        store: Store, variant: str, overrides: dict[str, object]) -> None:
    options = options_for(variant, retry_after_seconds=0, send_retry_after=False, **overrides)
    zone = ZoneInfo(options.timezone)
    sample_promotions(store, generated=2500, local=120)
    with mock_netsuite(options) as emu:
        client = make_client(emu.url)
        engine = SyncEngine(store, client, _mapping(), timezone=options.timezone)
        report = engine.run()
        assert report.exit_code == 0, report.as_dict()["promotions"]
        state = end_state(store, emu)
        assert state["netsuite_codes"] == 2500 + 120 and state["codes_equal"]
        assert sorted(p[1] for p in state["promotions"]) == ["Big #1", "Big #2", "Big #3",
                                                              "Local", "Multi"]
        meanings = _meanings(emu)
        assert meanings["Local"] == "amount"
        assert {meanings[f"Big #{k}"] for k in (1, 2, 3)} == {"percent"}
        # NetSuite redemptions: two orders now, one older order edited later to add a code
        with emu.backend.db.lock:
            codes = [r[0] for r in emu.backend.db.conn.execute(
                "SELECT code FROM couponcode ORDER BY id LIMIT 3")]
        earlier = (datetime.now(zone) - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S")
        old = emu.backend.simulate_redemption(codes[0], at=earlier)
        emu.backend.simulate_redemption(codes[1])
        assert engine.mirror().mirror[0].redeemed == 2
        emu.backend.add_coupon_to_transaction(old, codes[2])
        again = SyncEngine(store, client, _mapping(), timezone=options.timezone)
        assert again.mirror().mirror[0].redeemed == 1
        before = writes(emu)
        final = again.run()
        assert final.plan["nothing"] == 5 and writes(emu) == before
        state = end_state(store, emu)
        assert state["local_redeemed"] == 3 and state["netsuite_events"] == 3
        client.close()


def test_R36_an_account_with_no_way_to_read_redemptions_is_refused_before_any_write(
        store: Store) -> None:
    options = options_for("no_tranpromotion")
    assert not options.couponcode_used_in_suiteql
    sample_promotions(store, generated=30, local=5)
    with mock_netsuite(options) as emu:
        client = make_client(emu.url)
        with pytest.raises(ConfigError) as err:
            SyncEngine(store, client, _mapping()).run()
        assert "redemptions.source" in str(err.value) and "\n" not in str(err.value)
        with pytest.raises(ConfigError):
            SyncEngine(store, client, _mapping()).plan()
        assert writes(emu) == 0
        client.close()
