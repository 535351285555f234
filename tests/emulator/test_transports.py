"""R33 transports: mock_netsuite as a context manager, decorator and pytest fixture; unmatched
hosts fail loudly; the server binds a free loopback port; the CLI prints URL and hints only;
fixtures hold the documented shapes; volume (500,000 codes) stays fast."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from connector.emulator import EmulatorServer, NetSuiteBackend, mock_netsuite
from connector.emulator.inprocess import HostNotIntercepted
from connector.emulator.pytest_plugin import netsuite_emulator  # noqa: F401 - fixture

from .conftest import call, oauth1

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "netsuite"


@mock_netsuite()
def test_R33_decorator_passes_the_emulator(netsuite: mock_netsuite) -> None:
    assert call(netsuite, "GET", "/record/v1/customer").status_code == 200


def test_R33_pytest_fixture_intercepts(netsuite_emulator: mock_netsuite) -> None:  # noqa: F811
    r = requests.get(netsuite_emulator.base_url + "/services/rest/system/v1/governanceLimits",
                     auth=oauth1(netsuite_emulator.credentials))
    assert r.status_code == 200


def test_R33_unmatched_hosts_fail_loudly(emu: mock_netsuite) -> None:
    with pytest.raises(HostNotIntercepted, match="elsewhere.example"):
        requests.get("https://elsewhere.example/services/rest/record/v1/customer")


def test_R33_server_binds_a_free_loopback_port_and_keeps_alive() -> None:
    with EmulatorServer() as a, EmulatorServer() as b:
        assert a.url.startswith("http://127.0.0.1:") and a.url != b.url
        s = requests.Session()
        for _ in range(3):
            r = s.get(a.url + "/services/rest/record/v1/customer", auth=oauth1(a.credentials))
            assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(r.content)
        assert a.stats()["requests"]["record.list"] == 3


def test_R33_server_survives_garbage_on_the_wire() -> None:
    import socket

    with EmulatorServer() as srv:
        host, port = srv.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"this is not http\r\n\r\n")
            assert sock.recv(100) == b""  # closed without an answer
        r = requests.head(srv.url + "/services/rest/record/v1/customer")
        assert r.status_code == 405 and r.content == b""  # no HEAD route; no body
        r = requests.get(srv.url + "/services/rest/record/v1/customer",
                         auth=oauth1(srv.credentials))
        assert r.status_code == 200


def test_R33_fixtures_hold_the_documented_shapes() -> None:
    for name in ("record", "collection", "suiteql", "error", "async_job", "async_task",
                 "governance_limits", "idempotency_conflict", "oauth2_token"):
        data = json.loads((FIXTURES / f"{name}.json").read_text())
        assert data["source"].startswith("Oracle") and data["example"]
    error = json.loads((FIXTURES / "error.json").read_text())["example"]
    assert list(error) == ["type", "title", "status", "o:errorDetails"]


def test_R33_answers_use_the_fixture_shapes(emu: mock_netsuite) -> None:
    def keys(name: str) -> list[str]:
        return list(json.loads((FIXTURES / f"{name}.json").read_text())["example"])

    err = call(emu, "GET", "/record/v1/customer/1")
    assert list(err.json()) == keys("error")
    assert err.headers["Content-Type"] == json.loads(
        (FIXTURES / "error.json").read_text())["content_type"]
    listed = call(emu, "GET", "/record/v1/customer").json()
    assert sorted(listed) == sorted(keys("collection"))
    batch = call(emu, "PUT", "/record/v1/customer", json={"items": [{"externalId": "s"}]},
                 headers={"Prefer": "respond-async"})
    job_path = batch.headers["Location"].split("/services/rest", 1)[1]
    assert list(call(emu, "GET", job_path).json()) == keys("async_job")
    assert sorted(call(emu, "GET", job_path + "/task/1").json()) == sorted(keys("async_task"))
    gov = call(emu, "GET", "/system/v1/governanceLimits").json()
    assert list(gov) == keys("governance_limits")


def test_R33_serve_prints_url_and_only_the_published_test_values() -> None:
    code = ("from connector.cli.emulator import emulator_group; "
            "emulator_group(['serve', '--host', '0.0.0.0', '--port', '0', '--empty'])")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(9)]
        assert lines[0].startswith("NetSuite emulator on http://0.0.0.0:")
        assert lines[8].startswith("Control API")
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    text = "".join(lines) + out + err
    assert "export NETSUITE_ACCOUNT_ID=1234567_SB1" in text and "WARNING" in err
    # the only secrets printed are the published test values the emulator accepts
    assert "export NETSUITE_CONSUMER_SECRET=cs-test-secret" in text
    assert proc.returncode == 0 and "Traceback" not in err


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("PROMOSYNC_SKIP_SLOW") == "1", reason="slow test skipped")
def test_R34_500000_codes_generate_in_seconds() -> None:
    backend = NetSuiteBackend()
    start = time.monotonic()
    pid = backend.create("promotionCode", {"name": "Big", "useType": "SINGLEUSE",
                                           "codePattern": "BIG-[AN.10]",
                                           "numberToGenerate": 500_000})
    elapsed = time.monotonic() - start
    assert backend.dump()["promotions"][0]["codes"] == 500_000
    rows, total = backend.suiteql(f"SELECT COUNT(DISTINCT code) n FROM couponcode "
                                  f"WHERE promotion = {pid}")
    assert rows[0]["n"] == "500000" and total == 1
    assert elapsed < 5.0, f"500,000 codes took {elapsed:.1f}s"
