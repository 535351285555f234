"""R34/R36: code generation as a slow account does it - codes visible only some time after the
write returned, a generating write that takes long, and faults that hit it after NetSuite
applied it (the client sees a failure although the codes exist)."""

from __future__ import annotations

import time

import pytest
import requests

from connector.emulator import EmulatorServer, mock_netsuite
from connector.emulator.profiles import VARIANTS, options_for
from connector.emulator.records import PROMOTION

from .conftest import call, oauth1

BODY = {"name": "Gen", "useType": {"id": "SINGLEUSE"}, "codePattern": "GEN-[AN.8]",
        "numberToGenerate": 40, "customForm": {"id": "-10502"}}


def _visible(emu: mock_netsuite, pid: int | str) -> int:
    rows, _ = emu.backend.suiteql(f"SELECT COUNT(*) AS n FROM couponcode WHERE promotion = {pid}")
    return int(rows[0]["n"])


def test_R36_slow_generation_variant_shows_codes_a_second_or_two_later() -> None:
    delay = VARIANTS["slow_generation"]["generation_delay_seconds"]
    assert 1.0 <= delay <= 2.0
    options = options_for("slow_generation", generation_delay_seconds=0.6,
                          max_codes_per_promotion=500)
    with mock_netsuite(options) as emu:
        started = time.monotonic()
        r = call(emu, "POST", "/record/v1/promotionCode", json=BODY)
        assert r.status_code == 204 and time.monotonic() - started < 0.5
        pid = r.headers["Location"].rsplit("/", 1)[1]
        assert _visible(emu, pid) == 0
        listed = call(emu, "GET", "/record/v1/couponCode",
                      params={"q": f"promotion ANY_OF [{pid}]"})
        assert listed.json()["totalResults"] == 0
        more = call(emu, "PATCH", f"/record/v1/promotionCode/{pid}",
                    json={"numberToGenerate": 460})
        assert more.status_code == 204  # the pending codes count against the cap ...
        over = call(emu, "PATCH", f"/record/v1/promotionCode/{pid}",
                    json={"numberToGenerate": 1})
        assert over.status_code == 400 and "at most 500" in over.text  # ... not lost
        time.sleep(0.7)
        assert _visible(emu, pid) == 500
        codes = emu.backend.suiteql(f"SELECT code FROM couponcode WHERE promotion = {pid}",
                                    limit=1000)[0]
        assert len({c["code"] for c in codes}) == 500


def test_R36_evidence_default_shows_generated_codes_at_once() -> None:
    with mock_netsuite(options_for("evidence")) as emu:
        r = call(emu, "POST", "/record/v1/promotionCode", json=BODY)
        assert _visible(emu, r.headers["Location"].rsplit("/", 1)[1]) == 40


def test_R34_a_long_generating_write_times_the_client_out_but_is_applied() -> None:
    options = options_for("evidence", generation_seconds_per_100k=1000.0)  # 40 codes: 0.4 s
    with EmulatorServer(options=options) as srv:
        rest = srv.url + "/services/rest"
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.put(rest + "/record/v1/promotionCode/eid:gen-1", json=BODY,
                         auth=oauth1(srv.credentials), timeout=0.15)
        time.sleep(0.4)
        pid = srv.backend.find_by_external_id(PROMOTION, "gen-1")
        assert pid is not None
        rows, _ = srv.backend.suiteql(f"SELECT COUNT(*) AS n FROM couponcode "
                                      f"WHERE promotion = {pid}")
        assert rows[0]["n"] == "40"


@pytest.mark.parametrize("transport", ["inprocess", "server"])
def test_R34_drop_after_the_write_loses_the_answer_not_the_codes(transport: str) -> None:
    rule = {"path": "promotionCode", "method": "POST", "rate_drop": 1.0, "after": True}
    if transport == "inprocess":
        with mock_netsuite(options_for("evidence")) as emu:
            requests.post(emu.base_url + "/__emulator__/faults", json=rule, timeout=5)
            with pytest.raises(requests.exceptions.ConnectionError):
                call(emu, "POST", "/record/v1/promotionCode", json=BODY)
            assert emu.backend.dump()["promotions"][0]["codes"] == 40
        return
    with EmulatorServer(options=options_for("evidence")) as srv:
        requests.post(srv.url + "/__emulator__/faults", json=rule, timeout=5)
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(srv.url + "/services/rest/record/v1/promotionCode", json=BODY,
                          auth=oauth1(srv.credentials), timeout=5)
        assert srv.backend.dump()["promotions"][0]["codes"] == 40
        assert srv.stats()["faults"] == {"drop": 1}


def test_R34_a_5xx_after_the_write_answers_an_error_for_work_done() -> None:
    with mock_netsuite(options_for("evidence")) as emu:
        emu.faults.set(path="promotionCode", method="POST", rate_5xx=1.0, after=True)
        r = call(emu, "POST", "/record/v1/promotionCode", json=BODY)
        assert r.status_code == 503
        assert emu.backend.dump()["promotions"][0]["codes"] == 40
