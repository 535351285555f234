"""R33/R34: SuiteQL pages rendered by SQLite are the pages Python rendered, and codes drawn
ahead of the database lock keep every generation rule."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from connector.emulator import NetSuiteBackend, coupons, mock_netsuite, suiteql_engine
from connector.emulator.profiles import options_for

from .conftest import call

QUERIES = [
    "SELECT * FROM promotioncode",
    "SELECT id, name, rate, description FROM promotioncode ORDER BY id DESC",
    "SELECT COUNT(*), SUM(rate), MAX(name) FROM promotioncode",
    "SELECT id, code FROM couponcode WHERE id > 3 ORDER BY id",
    "SELECT code, id AS \"it's\", NULL AS empty FROM couponcode ORDER BY code DESC",
    "SELECT x'00ff' AS b, 1.5e300 AS big, -0.0 AS z, 1 / 3.0 AS third, "
    "9223372036854775807 AS m",
    "WITH t AS (SELECT id FROM couponcode) SELECT * FROM t ORDER BY id",
    # names JSON would escape, `links`, repeated names: rendered by Python
    "SELECT id AS \"a\"\"b\", code AS \"back\\slash\" FROM couponcode ORDER BY id",
    "SELECT id AS links FROM couponcode ORDER BY id",
    "SELECT id, id, code AS ID FROM couponcode ORDER BY id",
]


@pytest.fixture
def backend() -> NetSuiteBackend:
    b = NetSuiteBackend()
    b.create("promotionCode", {"name": "Q'\"\\é\u2028\n\x01", "useType": "SINGLEUSE",
                               "codePattern": "Q-[AN.6]", "numberToGenerate": 12, "rate": 12.5})
    b.create("promotionCode", {"name": "R", "rate": 3.0})
    b.create("promotionCode", {"name": "S", "rate": 1 / 3})
    return b


def _python_page(backend: NetSuiteBackend, query: str, limit: int, offset: int,
                 monkeypatch: pytest.MonkeyPatch) -> tuple[str, int, int]:
    with monkeypatch.context() as m:
        m.setattr(suiteql_engine, "_page_sql", lambda *args: None)
        return backend.suiteql_json(query, limit, offset)


@pytest.mark.parametrize("query", QUERIES)
def test_R33_sqlite_rendered_page_equals_the_python_rendering(
        backend: NetSuiteBackend, query: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for limit, offset in ((1000, 0), (5, 0), (5, 5), (5, 10), (5, 15), (1, 0), (3, 9)):
        text, count, total = backend.suiteql_json(query, limit, offset)
        want_text, want_count, want_total = _python_page(backend, query, limit, offset,
                                                         monkeypatch)
        got, want = json.loads(text), json.loads(want_text)
        assert got == want and (count, total) == (want_count, want_total)
        assert [list(item) for item in got] == [list(item) for item in want]  # key order
        assert count == len(got)


DATED = [
    "SELECT id, lastmodifieddate, startdate, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') "
    "AS iso FROM promotioncode ORDER BY id",
    "SELECT MAX(p.lastmodifieddate) AS m, MIN(startdate) FROM promotioncode p",
    "SELECT * FROM promotioncode ORDER BY id",
    "SELECT id AS lastmodifieddate, rate AS startdate FROM promotioncode ORDER BY id",
]


@pytest.mark.parametrize("query", DATED)
def test_R36_dates_in_the_user_format_render_alike_in_sqlite_and_python(
        query: str, monkeypatch: pytest.MonkeyPatch) -> None:
    b = NetSuiteBackend(options_for("evidence", date_format="DD-Mon-YYYY"))
    for name, start in (("A", "2026-01-31"), ("B", None), ("C", "2026-12-06")):
        b.create("promotionCode", {"name": name, "rate": 2.5, "startDate": start})
    text, count, total = b.suiteql_json(query, 1000, 0)
    assert (text, count, total) == _python_page(b, query, 1000, 0, monkeypatch)
    rows = json.loads(text)
    dated = [r for r in rows if "startdate" in r and "-" in r["startdate"]]
    assert all(len(r["startdate"]) == 11 for r in dated)  # 31-Jan-2026
    assert not any(":" in str(v) for r in rows for k, v in r.items() if k != "iso")


def test_R33_http_page_keeps_the_collection_shape() -> None:
    with mock_netsuite() as emu:
        emu.backend.create("promotionCode", {"name": "P", "useType": "SINGLEUSE",
                                             "codePattern": "P-[AN.6]", "numberToGenerate": 30})
        r = call(emu, "POST", "/query/v1/suiteql?limit=10&offset=10",
                 json={"q": "SELECT id, code FROM couponcode ORDER BY id"},
                 headers={"Prefer": "transient"})
        page = r.json()
        assert list(page) == ["links", "count", "hasMore", "items", "offset", "totalResults"]
        assert (page["count"], page["hasMore"], page["offset"], page["totalResults"]) == \
            (10, True, 10, 30)
        assert [i["id"] for i in page["items"]] == [str(n) for n in range(11, 21)]
        assert all(list(i) == ["links", "id", "code"] and i["links"] == []
                   for i in page["items"])


def test_R34_codes_are_drawn_without_holding_the_database_lock(
        monkeypatch: pytest.MonkeyPatch) -> None:
    backend = NetSuiteBackend()
    others_got_the_lock: list[bool] = []
    draw = coupons.generate_unique

    def watched(*args: Any, **kwargs: Any) -> list[str]:
        def other() -> None:
            got = backend.db.lock.acquire(timeout=2)
            others_got_the_lock.append(got)
            if got:
                backend.db.lock.release()
        t = threading.Thread(target=other)
        t.start()
        t.join()
        return draw(*args, **kwargs)

    monkeypatch.setattr(coupons, "generate_unique", watched)
    rid, created = backend.upsert("promotionCode", "ahead", {
        "name": "A", "useType": "SINGLEUSE", "codePattern": "A-[AN.6]", "numberToGenerate": 50})
    assert created and others_got_the_lock[0] is True
    codes = [i["code"] for i in backend.suiteql(
        f"SELECT code FROM couponcode WHERE promotion = {rid}")[0]]
    assert len(codes) == len(set(codes)) == 50 and all(c.startswith("A-") for c in codes)


def test_R34_codes_drawn_ahead_never_duplicate_codes_already_in_the_promotion() -> None:
    backend = NetSuiteBackend()
    body = {"name": "T", "useType": "SINGLEUSE", "codePattern": "T-[N.4]", "numberToGenerate": 300}
    rid, _ = backend.upsert("promotionCode", "top", body)
    backend.upsert("promotionCode", "top", body)  # drawn ahead, but the promotion has codes
    codes = [i["code"] for i in backend.suiteql(
        f"SELECT code FROM couponcode WHERE promotion = {rid}", limit=1000)[0]]
    assert len(codes) == len(set(codes)) == 600  # of 4,096 possible: collisions are likely


def test_R34_a_refused_count_is_refused_whether_drawn_ahead_or_not() -> None:
    backend = NetSuiteBackend()
    with pytest.raises(Exception, match="at most 500,000"):
        backend.upsert("promotionCode", "big", {"name": "B", "useType": "SINGLEUSE",
                                                "codePattern": "B-[AN.6]",
                                                "numberToGenerate": 500_001})
    with pytest.raises(Exception, match="distinct"):
        backend.upsert("promotionCode", "small", {"name": "S", "useType": "SINGLEUSE",
                                                  "codePattern": "S-[N.1]",
                                                  "numberToGenerate": 9})
    assert backend.db.counts()["couponcode"] == 0
    assert backend.db.counts()["promotioncode"] == 0
