"""R41 admin pages over HTTP: sign-in (a password whose hash is in the settings, or an admin
key), signed session cookies, CSRF on every form that writes, and what each page shows, on
both stores. (tests/serve/test_browser.py drives the same pages in Chromium.)"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests

from connector.emulator import TEST_CREDENTIALS as C
from connector.emulator import EmulatorServer
from connector.serve.keys import revoke_key
from connector.store import schema as s
from connector.store.schema import utcnow
from tests.serve.conftest import ADMIN_PASSWORD, Served

CART = {"lines": [{"item": "SHIRT", "amount": "40.00"}]}


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def sign_in(served: Served, secret: str = ADMIN_PASSWORD) -> requests.Session:
    browser = requests.Session()
    form = browser.get(served.url + "/admin/sign-in", timeout=30)
    done = browser.post(served.url + "/admin/sign-in", timeout=30, allow_redirects=False,
                        data={"csrf": _csrf(form.text), "secret": secret})
    assert done.status_code == 303 and done.headers["location"] == "/admin", done.text
    return browser


def _redeem(served: Served, code: str) -> None:
    sale = served.call("POST", "/v1/transactions", json=CART).json()["id"]
    assert served.call("POST", f"/v1/transactions/{sale}/codes",
                       json={"code": code}).status_code == 201
    assert served.call("POST", f"/v1/transactions/{sale}/pay").status_code == 200


def test_R41_pages_need_a_session_and_forms_need_csrf(served_sqlite: Served) -> None:
    served = served_sqlite
    anonymous = requests.Session()
    for page in ("/admin", "/admin/sync", "/admin/codes?code=X", "/admin/promotion?name=P"):
        gone = anonymous.get(served.url + page, allow_redirects=False, timeout=30)
        assert gone.status_code == 303 and gone.headers["location"] == "/admin/sign-in"
    form = anonymous.get(served.url + "/admin/sign-in", timeout=30)
    assert "default-src 'none'" in form.headers["content-security-policy"]
    no_token = anonymous.post(served.url + "/admin/sign-in", data={"secret": ADMIN_PASSWORD},
                              allow_redirects=False, timeout=30)
    assert no_token.status_code == 403 and "promosync_session" not in no_token.cookies
    wrong = anonymous.post(served.url + "/admin/sign-in", timeout=30, allow_redirects=False,
                           data={"csrf": _csrf(form.text), "secret": "not the password"})
    assert wrong.status_code == 401 and "wrong password or key" in wrong.text
    other_site = anonymous.post(served.url + "/admin/sign-in", timeout=30, allow_redirects=False,
                                data={"csrf": _csrf(form.text), "secret": ADMIN_PASSWORD},
                                headers={"Origin": "http://evil.example"})
    assert other_site.status_code == 403
    browser = sign_in(served)
    cookie = browser.cookies["promosync_session"]
    assert ADMIN_PASSWORD not in cookie
    assert browser.get(served.url + "/admin", timeout=30).status_code == 200
    forged = requests.Session()
    forged.cookies.set("promosync_session", cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB"))
    assert forged.get(served.url + "/admin", allow_redirects=False,
                      timeout=30).status_code == 303
    refused = browser.post(served.url + "/admin/sign-out", data={"csrf": "guess"},
                           allow_redirects=False, timeout=30)
    assert refused.status_code == 403
    page = browser.get(served.url + "/admin", timeout=30).text
    out = browser.post(served.url + "/admin/sign-out", data={"csrf": _csrf(page)},
                       allow_redirects=False, timeout=30)
    assert out.status_code == 303 and "promosync_session" not in browser.cookies


def test_R41_an_admin_key_signs_in_until_it_is_revoked(served_sqlite: Served) -> None:
    served = served_sqlite
    browser = sign_in(served, served.keys["admin"])
    assert browser.get(served.url + "/admin", timeout=30).status_code == 200
    revoke_key(served.store, "test-admin")
    assert browser.get(served.url + "/admin", allow_redirects=False,
                       timeout=30).status_code == 303
    form = requests.get(served.url + "/admin/sign-in", timeout=30)
    lists_key = requests.post(served.url + "/admin/sign-in", timeout=30, allow_redirects=False,
                              cookies=form.cookies,
                              data={"csrf": _csrf(form.text), "secret": served.keys["lists"]})
    assert lists_key.status_code == 401  # a key without the admin scope does not sign in


def test_R41_pages_show_promotions_lists_chart_history_and_codes(served: Served) -> None:
    codes = served.codes(count=4)
    for code in codes[:2]:
        _redeem(served, code)
    served.codes("<script>alert(1)</script>", count=1)
    from connector import Distributor

    Distributor(served.store).create("Gifts", codes=["G-1", "G-2"], warning_limit=5)
    browser = sign_in(served)
    overview = browser.get(served.url + "/admin", timeout=30).text
    row = re.search(r"<tr><td><a href=\"/admin/promotion\?name=P\">P</a></td>(.*?)</tr>",
                    overview)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    assert cells[3] == "not in NetSuite" and cells[4:8] == ["4", "0", "2", "2"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in overview and "<script>" not in overview
    assert "at or below the warning limit" in overview
    detail = browser.get(served.url + "/admin/promotion", params={"name": "P"}, timeout=30).text
    assert 'id="redemptions-chart"' in detail and 'data-total="2"' in detail
    today = utcnow().date().isoformat()
    assert f'data-day="{today}" data-count="2"' in detail
    assert detail.count("<rect ") == 30
    assert codes[0] in detail and "redeemed" in detail  # latest history lines
    lookup = browser.get(served.url + "/admin/codes", params={"code": codes[0].lower()},
                         timeout=30).text
    assert codes[0] in lookup and "reserved" in lookup and "redeemed" in lookup
    missing = browser.get(served.url + "/admin/codes", params={"code": "NOPE"}, timeout=30).text
    assert "no code &#x27;NOPE&#x27; in the store" in missing
    unknown = browser.get(served.url + "/admin/promotion", params={"name": "Nope"}, timeout=30)
    assert unknown.status_code == 404 and "Traceback" not in unknown.text


def test_R41_sync_page_shows_the_ledger_and_the_plan(served: Served,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    served.codes(count=2)
    now = utcnow()
    report = {"plan": {"create": 1, "nothing": 0}, "failed": ["P"],
              "promotions": [{"promotion": "P", "status": "failed",
                              "error": "NetSuite said no (INVALID_FLD_VALUE)"}]}
    with served.store.begin() as conn:
        conn.execute(s.sync_runs.insert().values(
            command="run", owner="test", started_at=now - timedelta(minutes=2),
            finished_at=now, status="partial", report=report))
    browser = sign_in(served)
    page = browser.get(served.url + "/admin/sync", timeout=30).text
    assert "partial" in page and "1 create" in page
    assert "P: NetSuite said no (INVALID_FLD_VALUE)" in page
    failed = browser.post(served.url + "/admin/sync/plan", data={"csrf": _csrf(page)},
                          timeout=120).text  # no NetSuite account is set: one line
    assert 'id="plan-error"' in failed and "Traceback" not in failed
    with EmulatorServer() as netsuite:
        for name, value in {"NETSUITE_BASE_URL": netsuite.url,
                            "NETSUITE_ACCOUNT_ID": C.account_id,
                            "NETSUITE_CONSUMER_KEY": C.consumer_key,
                            "NETSUITE_CONSUMER_SECRET": C.consumer_secret,
                            "NETSUITE_TOKEN_ID": C.token_id,
                            "NETSUITE_TOKEN_SECRET": C.token_secret}.items():
            monkeypatch.setenv(name, value)
        planned = browser.post(served.url + "/admin/sync/plan", data={"csrf": _csrf(page)},
                               timeout=300).text
    assert 'id="plan"' in planned and "<td>P</td>" in planned and "<td>create</td>" in planned
    assert C.consumer_secret not in planned and C.token_secret not in planned
    assert browser.post(served.url + "/admin/sync/plan", data={"csrf": "forged"},
                        timeout=30).status_code == 403
