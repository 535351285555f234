"""R34: what happens in the account outside promosync - orders placed in the past, orders edited
later to use a code (same id, new lastmodifieddate), cancellations - in Python and over the
control API under /__emulator__/."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from connector.emulator import EmulatorServer, NetSuiteBackend, mock_netsuite
from connector.emulator.apierror import ApiError
from connector.emulator.profiles import options_for

ISO = "TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS')"


def _codes(b: NetSuiteBackend, n: int = 3) -> list[str]:
    b.create("promotionCode", {"name": "A", "useType": {"id": "SINGLEUSE"},
                               "codePattern": "A-[AN.6]", "numberToGenerate": n,
                               "customForm": {"id": "-10502"}})
    return [r["code"] for r in b.suiteql("SELECT code FROM couponcode ORDER BY id")[0]]


def _links(b: NetSuiteBackend) -> list[dict[str, Any]]:
    rows, _ = b.suiteql(f"SELECT tp.transaction, tp.couponcode, {ISO} AS lmd FROM tranpromotion "
                        "tp JOIN transaction t ON t.id = tp.transaction ORDER BY tp.couponcode")
    return rows


def test_R34_an_older_order_edited_later_keeps_its_id_and_moves_its_lastmodifieddate() -> None:
    b = NetSuiteBackend(options_for("evidence"))
    first, second, _ = _codes(b)
    old = b.simulate_redemption(first, at="2026-11-20 08:00:00")
    newer = b.simulate_redemption(_codes(b, 1)[-1])
    assert _links(b)[0]["lmd"] == "2026-11-20 08:00:00"
    b.add_coupon_to_transaction(old, second)
    links = _links(b)
    assert [r["transaction"] for r in links[:2]] == [str(old), str(old)]
    assert old < newer  # the edited order keeps its (lower) id ...
    assert links[0]["lmd"] == links[1]["lmd"] > "2026-11-20 08:00:00"  # ... and is modified now
    with pytest.raises(ApiError, match="already been used"):
        b.add_coupon_to_transaction(newer, second)


def test_R34_an_order_without_a_code_can_get_one_later() -> None:
    b = NetSuiteBackend(options_for("evidence"))
    code = _codes(b, 1)[0]
    tid = b.simulate_order(at="2026-10-01 12:00:00")
    assert _links(b) == []
    b.add_coupon_to_transaction(tid, code)
    assert [r["transaction"] for r in _links(b)] == [str(tid)]
    with pytest.raises(ApiError):
        b.add_coupon_to_transaction(tid + 100, code)


def test_R34_redeem_at_takes_iso_times_with_offsets_in_the_account_zone() -> None:
    b = NetSuiteBackend(options_for("evidence"))
    code = _codes(b, 1)[0]
    b.simulate_redemption(code, at="2026-12-06T18:00:00Z")  # 10:00 in Los Angeles (PST)
    assert _links(b)[0]["lmd"] == "2026-12-06 10:00:00"
    with pytest.raises(ApiError) as err:
        b.simulate_redemption(code, at="yesterday")
    assert err.value.status == 400


@pytest.mark.parametrize("transport", ["inprocess", "server"])
def test_R34_control_api_places_edits_and_cancels_orders(transport: str) -> None:
    def run(base: str, backend: NetSuiteBackend) -> None:
        codes = _codes(backend)
        ctl = base + "/__emulator__/"
        old = requests.post(ctl + "redeem", json={"code": codes[0], "at": "2026-11-01 09:00:00"},
                            timeout=5).json()["transaction"]
        plain = requests.post(ctl + "order", json={"at": "2026-11-02 09:00:00"},
                              timeout=5).json()["transaction"]
        for tid, code in ((old, codes[1]), (plain, codes[2])):
            r = requests.post(ctl + "add_coupon", json={"transaction": tid, "code": code},
                              timeout=5)
            assert r.status_code == 200 and r.json() == {"transaction": tid}
        assert [r["transaction"] for r in _links(backend)] == [old, old, plain]
        assert requests.post(ctl + "cancel", json={"transaction": plain},
                             timeout=5).status_code == 200
        missing = requests.post(ctl + "add_coupon", json={"code": codes[0]}, timeout=5)
        assert missing.status_code == 400 and "transaction" in missing.text
        seeded = requests.post(ctl + "seed", json={"samples": True}, timeout=5).json()
        assert seeded["discountItem"] == ["10"] and seeded["inventoryItem"] == ["150", "200"]

    if transport == "inprocess":
        with mock_netsuite(options_for("evidence")) as emu:
            run(emu.base_url, emu.backend)
    else:
        with EmulatorServer(options=options_for("evidence")) as srv:
            run(srv.url, srv.backend)
