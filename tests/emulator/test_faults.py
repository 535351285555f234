"""R34 faults: latency, 429, 5xx, dropped connections per route, the concurrency limit,
counters, and the HTTP control API, on both transports."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from connector.emulator import EmulatorOptions, EmulatorServer, mock_netsuite

from .conftest import call, oauth1


def _statuses(emu: mock_netsuite, n: int) -> list[int]:
    return [call(emu, "GET", "/record/v1/customer").status_code for _ in range(n)]


def test_R34_fault_decisions_are_deterministic_for_a_seed() -> None:
    runs = []
    for _ in range(2):
        with mock_netsuite(EmulatorOptions(seed=7, rate_429=0.3, rate_5xx=0.2)) as emu:
            runs.append(_statuses(emu, 40))
    assert runs[0] == runs[1]
    assert {429, 503, 200} <= set(runs[0])


def test_R34_429_carries_concurrency_code_and_retry_after(emu: mock_netsuite) -> None:
    emu.faults.set(rate_429=1.0)
    r = call(emu, "GET", "/record/v1/customer")
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert r.json()["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"


def test_R34_retry_after_can_be_switched_off() -> None:
    with mock_netsuite(EmulatorOptions(send_retry_after=False, rate_429=1.0)) as emu:
        assert "Retry-After" not in call(emu, "GET", "/record/v1/customer").headers


def test_R34_faults_apply_per_route(emu: mock_netsuite) -> None:
    emu.faults.set(path=r"/query/v1/suiteql$", method="POST", rate_5xx=1.0, status_5xx=502)
    assert call(emu, "GET", "/record/v1/customer").status_code == 200
    r = call(emu, "POST", "/query/v1/suiteql", json={"q": "SELECT id FROM customer"})
    assert r.status_code == 502
    assert r.json()["o:errorDetails"][0]["o:errorCode"] == "UNEXPECTED_ERROR"


def test_R34_latency_is_added(emu: mock_netsuite) -> None:
    emu.faults.set(latency_ms=120)
    start = time.monotonic()
    call(emu, "GET", "/record/v1/customer")
    assert time.monotonic() - start >= 0.12


def test_R34_dropped_connection_in_process_raises_connection_error(emu: mock_netsuite) -> None:
    emu.faults.set(rate_drop=1.0)
    with pytest.raises(requests.exceptions.ConnectionError):
        call(emu, "GET", "/record/v1/customer")
    assert emu.stats()["faults"]["drop"] == 1


def test_R34_dropped_connection_on_the_server_closes_the_socket() -> None:
    with EmulatorServer(options=EmulatorOptions(rate_drop=1.0)) as srv:
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(srv.url + "/services/rest/record/v1/customer",
                         auth=oauth1(srv.credentials), timeout=5)


@pytest.mark.parametrize("transport", ["inprocess", "server"])
def test_R34_concurrency_limit_answers_429_and_counts_in_flight(transport: str) -> None:
    options = EmulatorOptions(concurrency_limit=2, latency_ms=150)
    ctx = mock_netsuite(options) if transport == "inprocess" else EmulatorServer(options=options)
    with ctx as emu:
        statuses: list[int] = []
        lock = threading.Lock()

        def one() -> None:
            r = requests.get(emu.url + "/services/rest/record/v1/customer",
                             auth=oauth1(emu.credentials), timeout=10)
            with lock:
                statuses.append(r.status_code)
                if r.status_code == 429:
                    body = r.json()["o:errorDetails"][0]
                    assert body["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"

        threads = [threading.Thread(target=one) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stats = emu.stats()
        assert statuses.count(200) >= 2 and statuses.count(429) >= 1
        assert stats["max_in_flight"] >= 3 and stats["faults"]["concurrency"] >= 1
        assert stats["requests"]["record.list"] == 6


def test_R34_control_api_over_http_needs_no_oauth() -> None:
    with EmulatorServer() as srv:
        ctl = srv.url + "/__emulator__/"
        seeded = requests.post(ctl + "seed", json={"customers": 2}).json()
        assert len(seeded["customer"]) == 2
        pid = srv.backend.create("promotionCode", {"name": "C", "useType": "SINGLEUSE",
                                                   "codePattern": "C-[AN.6]",
                                                   "numberToGenerate": 2})
        code = srv.backend.suiteql("SELECT code FROM couponcode")[0][0]["code"]
        tid = requests.post(ctl + "redeem", json={"code": code,
                                                  "customer": seeded["customer"][0]}).json()
        assert requests.post(ctl + "cancel", json=tid).status_code == 200
        dump = requests.get(ctl + "dump").json()
        assert dump["counts"]["transaction"] == 1
        assert dump["promotions"][0] == {"id": str(pid), "externalId": None, "name": "C",
                                         "useType": "SINGLEUSE", "codes": 2, "used": 1}
        r = requests.post(ctl + "faults", json={"rate_5xx": 1.0, "path": "customer"})
        assert r.json()["rules"] == 1
        url = srv.url + "/services/rest/record/v1/customer"
        assert requests.get(url, auth=oauth1(srv.credentials)).status_code == 503
        assert requests.post(ctl + "redeem", json={"code": "NOPE"}).status_code == 404
        assert requests.post(ctl + "seed", data=b"{bad").status_code == 400
        stats = requests.get(ctl + "stats").json()
        assert stats["statuses"]["503"] == 1
        requests.post(ctl + "reset")
        assert requests.get(ctl + "dump").json()["counts"]["customer"] == 0
        assert requests.get(url, auth=oauth1(srv.credentials)).status_code == 200
