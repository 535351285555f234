"""R41 in a real browser: Debian's headless Chromium, driven through chromedriver (webdriver.py),
signs in, loads every admin page, sees the chart drawn and looks a code up. A screenshot of each
page is kept under .artifacts/browser/ (git-ignored; PROMOSYNC_TEST_ARTIFACTS moves it).

Skipped, saying why, when chromium or chromium-driver is not installed; CI installs both.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.store import schema as s
from connector.store.schema import utcnow
from tests.serve import webdriver
from tests.serve.conftest import ADMIN_PASSWORD, Served

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("PROMOSYNC_TEST_ARTIFACTS", REPO / ".artifacts")) / "browser"
CART = {"lines": [{"item": "SHIRT", "amount": "40.00"}]}
WHY_NOT = webdriver.missing()
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    with webdriver.Chrome(tmp_path / "chromium-profile") as chrome:
        yield chrome


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _shot(browser: webdriver.Chrome, name: str) -> None:
    path = browser.screenshot(ARTIFACTS / f"{name}.png")
    width, height = _png_size(path)
    assert width >= 800 and height >= 600 and path.stat().st_size > 5_000


def test_R41_admin_pages_in_chromium(served_sqlite: Served,
                                     browser: webdriver.Chrome) -> None:
    served = served_sqlite
    codes = served.codes("Spring", count=5)
    for code in codes[:3]:
        sale = served.call("POST", "/v1/transactions", json=CART).json()["id"]
        served.call("POST", f"/v1/transactions/{sale}/codes", json={"code": code})
        assert served.call("POST", f"/v1/transactions/{sale}/pay").status_code == 200

    browser.get(served.url + "/admin")
    assert browser.url.endswith("/admin/sign-in")
    _shot(browser, "sign-in")
    browser.find("#secret").send_keys(ADMIN_PASSWORD)
    browser.find("#sign-in").click()
    browser.wait_for_url("/admin")
    assert browser.title.startswith("Promotions")
    row = browser.find("#promotions tbody tr")
    assert [c.text for c in row.find_all("td")][:2] == ["Spring", "order"]
    _shot(browser, "promotions")

    browser.find("#promotions a").click()
    browser.wait_for_url("/admin/promotion")
    assert browser.title.startswith("Spring")
    bars = browser.find_all("#redemptions-chart rect.bar")
    assert len(bars) == 30
    assert sum(int(b.attribute("data-count") or 0) for b in bars) == 3
    drawn = browser.script(
        "const bars = [...document.querySelectorAll('#redemptions-chart rect.bar')];"
        "return bars.map(b => b.getBBox().height);")
    assert max(drawn) > 100 and sorted(drawn)[:-1] == [0] * 29  # one day, drawn to scale
    _shot(browser, "promotion")

    with served.store.begin() as conn:  # a run in the ledger, as `sync run` records it
        conn.execute(s.sync_runs.insert().values(
            command="run", owner="test", started_at=utcnow(), finished_at=utcnow(),
            status="ok", report={"plan": {"create": 1}, "promotions": []}))
    browser.get(served.url + "/admin/sync")
    assert browser.title.startswith("Sync")
    assert [c.text for c in browser.find("#runs tbody tr").find_all("td")][4:6] == [
        "ok", "1 create"]
    _shot(browser, "sync")

    browser.get(served.url + "/admin")
    browser.find("#code").send_keys(codes[0].lower())
    browser.find("#lookup").click()
    assert "?code=" in browser.wait_for_url("/admin/codes")
    record = [c.text for c in browser.find("#code tbody tr").find_all("td")]
    assert record[:3] == [codes[0], "Spring", "redeemed"]
    events = [r.find_all("td")[1].text for r in browser.find_all("#code-history tbody tr")]
    assert events == ["issued", "reserved", "redeemed"]
    _shot(browser, "code-lookup")
    browser.find("#code").send_keys("-NOPE")
    browser.find("#lookup").click()
    browser.until(lambda: "NOPE" in browser.url, "the second lookup")
    assert "in the store" in browser.find("#lookup-error").text
