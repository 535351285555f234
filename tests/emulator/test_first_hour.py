"""R33/R35: a developer's first hour with the emulator - `emulator serve` says how to reach it
and starts with a sample account, mock_netsuite plays any account id and fails at once for a
host it does not intercept, the HTTP server reads chunked bodies, the recorder writes where the
user says."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from requests_oauthlib import OAuth1

from connector.emulator import EmulatorServer, Recorder, mock_netsuite
from connector.emulator.inprocess import HostNotIntercepted
from connector.netsuite import NetSuiteClient, TokenAuth

from .conftest import call, oauth1

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ("NETSUITE_BASE_URL", "NETSUITE_ACCOUNT_ID", "NETSUITE_CONSUMER_KEY",
           "NETSUITE_CONSUMER_SECRET", "NETSUITE_TOKEN_ID", "NETSUITE_TOKEN_SECRET")


def _serve(*flags: str) -> Iterator[tuple[list[str], subprocess.Popen[str]]]:
    cmd = [sys.executable, "-m", "connector", "emulator", "serve", "--port", "0", *flags]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        while not lines or not lines[-1].startswith("Control API"):
            line = proc.stdout.readline()
            assert line, (lines, proc.stderr.read() if proc.stderr else "")
            lines.append(line.rstrip("\n"))
        yield lines, proc
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def _exports(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        m = re.fullmatch(r"\s*export (\w+)=(.*)", line)
        if m:
            found[m.group(1)] = shlex.split(m.group(2))[0]
    return found


def test_R33_serve_prints_the_exports_and_starts_with_a_sample_account() -> None:
    for lines, _proc in _serve("--variant", "evidence"):
        env = _exports(lines)
        assert tuple(env) == EXPORTS
        auth = OAuth1(env["NETSUITE_CONSUMER_KEY"], env["NETSUITE_CONSUMER_SECRET"],
                      env["NETSUITE_TOKEN_ID"], env["NETSUITE_TOKEN_SECRET"],
                      signature_method="HMAC-SHA256", realm=env["NETSUITE_ACCOUNT_ID"])
        rest = env["NETSUITE_BASE_URL"] + "/services/rest"
        customer = requests.get(rest + "/record/v1/customer/1001", auth=auth, timeout=10)
        assert customer.status_code == 200 and customer.json()["id"] == "1001"
        items = requests.post(rest + "/query/v1/suiteql", auth=auth, timeout=10,
                              json={"q": "SELECT id, itemtype FROM item ORDER BY id"})
        assert [(i["id"], i["itemtype"]) for i in items.json()["items"]] == [
            ("10", "Discount"), ("150", "InvtPart"), ("200", "InvtPart")]
        assert "customers 1001, 1002, 1003, discount item 10, items 150, 200" in "\n".join(lines)


def test_R33_serve_empty_starts_with_no_records() -> None:
    for lines, _proc in _serve("--empty"):
        env = _exports(lines)
        assert not any("sample account" in line for line in lines)
        r = requests.get(env["NETSUITE_BASE_URL"] + "/__emulator__/dump", timeout=10)
        assert r.json()["counts"]["customer"] == r.json()["counts"]["item"] == 0


def test_R33_mock_netsuite_plays_any_account_id() -> None:
    with mock_netsuite(account_id="TSTDRV42") as emu:
        assert emu.base_url == "https://tstdrv42.suitetalk.api.netsuite.com"
        assert emu.credentials.account_id == "TSTDRV42"
        assert call(emu, "GET", "/record/v1/customer").status_code == 200
        wrong_realm = call(emu, "GET", "/record/v1/customer", auth=oauth1(emu.credentials,
                                                                         realm="1234567_SB1"))
        assert wrong_realm.status_code == 401


def test_R33_a_request_to_another_host_fails_at_once_naming_it() -> None:
    c = mock_netsuite().credentials
    auth = TokenAuth(account_id="TSTDRV42", consumer_key=c.consumer_key,
                     consumer_secret=c.consumer_secret, token_id=c.token_id,
                     token_secret=c.token_secret)
    client = NetSuiteClient(account_id="TSTDRV42", auth=auth)
    with mock_netsuite():
        started = time.monotonic()
        with pytest.raises(HostNotIntercepted) as err:
            client.suiteql_page("SELECT id FROM customer", limit=1, offset=0)
        assert time.monotonic() - started < 2.0
        text = str(err.value)
        assert "tstdrv42.suitetalk.api.netsuite.com" in text
        assert "https://1234567-sb1.suitetalk.api.netsuite.com" in text
        assert "account_id='TSTDRV42'" in text
        with pytest.raises(HostNotIntercepted, match="example.org"):
            requests.get("https://example.org/anything", timeout=5)


def _raw(sock: socket.socket, request: bytes) -> bytes:
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        body += sock.recv(65536)
    return head.split(b"\r\n", 1)[0] + b"\n" + body


def test_R33_server_reads_chunked_bodies_and_keeps_the_connection_in_step() -> None:
    with EmulatorServer() as srv:
        host, port = srv.url.removeprefix("http://").split(":")
        payload = json.dumps({"note": "x" * 300}).encode()
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part)
                          for part in (payload[:100], payload[100:]))
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            first = _raw(sock, b"POST /__emulator__/seed HTTP/1.1\r\nHost: " + host.encode()
                         + b"\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json"
                         b"\r\n\r\n" + chunks + b"0\r\nX-Trailer: t\r\n\r\n")
            assert first.startswith(b"HTTP/1.1 200"), first
            second = _raw(sock, b"GET /__emulator__/dump HTTP/1.1\r\nHost: " + host.encode()
                          + b"\r\n\r\n")
            assert second.startswith(b"HTTP/1.1 200") and b'"counts"' in second, second

        def body() -> Iterator[bytes]:  # requests sends a generator chunked
            yield b'{"companyName": "Chunked", '
            yield b'"externalId": "chunked-1"}'

        rest = srv.url + "/services/rest"
        r = requests.post(rest + "/record/v1/customer", data=body(), timeout=10,
                          headers={"Content-Type": "application/json"},
                          auth=oauth1(srv.credentials))
        assert r.status_code == 204, r.text
        got = requests.get(rest + "/record/v1/customer/eid:chunked-1", timeout=10,
                           auth=oauth1(srv.credentials))
        assert got.json()["companyName"] == "Chunked"


def test_R35_recorder_writes_where_the_user_says(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with mock_netsuite() as emu:
        rec = Recorder(secrets=emu.credentials.secret_values())
        rec.session.get(emu.base_url + "/services/rest/record/v1/customer",
                        auth=oauth1(emu.credentials))
        default = rec.save("first")
        assert default == tmp_path / "netsuite-recordings" / "first.json"
        exact = rec.save("out/deep/session.json")
        assert exact == tmp_path / "out" / "deep" / "session.json"
        into = rec.save("third.json", tmp_path / "elsewhere")
        assert into == tmp_path / "elsewhere" / "third.json"
        own = Recorder(directory=tmp_path / "mine")
        assert own.save("empty") == tmp_path / "mine" / "empty.json"
        for path in (default, exact, into):
            assert json.loads(path.read_text())["exchanges"][0]["method"] == "GET"
