"""R35: record a session against the "real account" (here the emulator) with secrets scrubbed,
then replay it and get the same answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from connector.emulator import Recorder, Replayer, mock_netsuite

from .conftest import oauth1


def _session_against(emu: mock_netsuite, session: requests.Session) -> list[requests.Response]:
    rest = emu.base_url + "/services/rest"
    auth = oauth1(emu.credentials)
    out = [session.post(rest + "/record/v1/customer", json={"companyName": "Rec Co",
                                                             "externalId": "rec-1"}, auth=auth)]
    rid = out[0].headers["Location"].rsplit("/", 1)[1]
    out.append(session.get(rest + f"/record/v1/customer/{rid}", auth=auth))
    out.append(session.post(rest + "/query/v1/suiteql", json={"q": "SELECT id FROM customer"},
                            auth=auth))
    out.append(session.get(rest + "/record/v1/customer/999", auth=auth))
    return out


def test_R35_recording_scrubs_secrets(tmp_path: Path) -> None:
    with mock_netsuite() as emu:
        rec = Recorder(secrets=emu.credentials.secret_values(),
                       account_ids=[emu.credentials.account_id])
        _session_against(emu, rec.session)
        path = rec.save("session", tmp_path)
    text = path.read_text()
    for secret in ("cs-test-secret", "ts-test-secret", "1234567", "oauth_signature",
                   "oauth_nonce"):
        assert secret not in text.lower() and secret not in text
    assert "authorization" not in text.lower()
    data = json.loads(text)
    assert [e["response"]["status"] for e in data["exchanges"]] == [204, 200, 200, 404]
    assert data["exchanges"][0]["host"] == "ACCOUNT.suitetalk.api.netsuite.com"
    assert data["exchanges"][1]["response"]["body"]["companyName"] == "Rec Co"


def test_R35_recording_masks_oauth2_tokens(tmp_path: Path) -> None:
    with mock_netsuite() as emu:
        rec = Recorder(account_ids=[emu.credentials.account_id])
        resp = rec.session.post(emu.base_url + "/services/rest/auth/oauth2/v1/token",
                                data={"grant_type": "client_credentials",
                                      "client_assertion_type": "x", "client_assertion": "a.b.c"})
        assert resp.status_code == 400
        path = rec.save("token", tmp_path)
    body = json.loads(path.read_text())["exchanges"][0]["request"]["body"]
    assert body["form"]["client_assertion"] == "<scrubbed>"


def test_R35_replay_serves_recorded_answers_in_order(tmp_path: Path) -> None:
    with mock_netsuite() as emu:
        rec = Recorder(secrets=emu.credentials.secret_values(),
                       account_ids=[emu.credentials.account_id])
        live = _session_against(emu, rec.session)
        path = rec.save("replay", tmp_path)
        base = emu.base_url
    with Replayer(path, base) as replay:  # no emulator now: only the recording answers
        replayed = _session_against_plain(base)
        assert replay.remaining() == 0
    assert [r.status_code for r in replayed] == [r.status_code for r in live]
    assert replayed[1].json() == live[1].json()
    assert replayed[0].headers["Location"] == live[0].headers["Location"]
    with Replayer(path, base), pytest.raises(requests.exceptions.ConnectionError,
                                             match="no recorded exchange left"):
        for _ in range(2):
            requests.get(base + "/services/rest/record/v1/customer/999")


def _session_against_plain(base: str) -> list[requests.Response]:
    rest = base + "/services/rest"
    out = [requests.post(rest + "/record/v1/customer", json={"companyName": "Rec Co"})]
    rid = out[0].headers["Location"].rsplit("/", 1)[1]
    out.append(requests.get(rest + f"/record/v1/customer/{rid}"))
    out.append(requests.post(rest + "/query/v1/suiteql", json={"q": "SELECT id FROM customer"}))
    out.append(requests.get(rest + "/record/v1/customer/999"))
    return out
