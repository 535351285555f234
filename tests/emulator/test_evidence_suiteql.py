"""R36: SuiteQL as the account shows it - columns and tables it does not have, raw dates in the
user's format and time zone, TO_CHAR / TO_DATE - in the evidence default and its variants."""

from __future__ import annotations

import pytest

from connector.emulator import EmulatorOptions, NetSuiteBackend, mock_netsuite
from connector.emulator.apierror import ApiError
from connector.emulator.profiles import options_for

from .conftest import call

NOT_FOUND = "Search error occurred: Field '{}' was not found."


def _backend(variant: str = "evidence", **overrides: object) -> NetSuiteBackend:
    b = NetSuiteBackend(options_for(variant, **overrides))
    b.create("promotionCode", {"name": "E", "useType": {"id": "SINGLEUSE"},
                               "codePattern": "E-[AN.6]", "numberToGenerate": 4,
                               "customForm": {"id": "-10502"}, "startDate": "2026-12-01"})
    return b


def _error(b: NetSuiteBackend, query: str) -> ApiError:
    with pytest.raises(ApiError) as err:
        b.suiteql(query)
    return err.value


@pytest.mark.parametrize("query", [
    "SELECT id, customform FROM promotioncode",
    "SELECT p.id FROM promotioncode p WHERE p.customForm = -10502",
    "SELECT id FROM promotioncode ORDER BY customform",
    "SELECT MAX(customform) AS f FROM promotioncode",
    "SELECT c.id FROM couponcode c JOIN promotioncode p ON p.customform = c.promotion",
    "SELECT id FROM promotioncode WHERE id IN (SELECT customform FROM promotioncode)",
])
def test_R36_suiteql_hides_customform_wherever_it_is_named(query: str) -> None:
    err = _error(_backend(), query)
    assert err.status == 400 and err.code == "INVALID_PARAMETER"
    assert err.detail.endswith(NOT_FOUND.format("customform"))


@pytest.mark.parametrize("query,column", [
    ("SELECT cc.id, cc.lastmodifieddate FROM couponcode cc", "lastmodifieddate"),
    ("SELECT MAX(lastmodifieddate) AS top FROM couponcode", "lastmodifieddate"),
    ("SELECT id FROM couponcode WHERE used = 'T'", "used"),
    ("SELECT cc.id FROM couponcode cc ORDER BY cc.usecount", "usecount"),
    ("SELECT promotion, SUM(CASE WHEN x.used = 'T' THEN 1 ELSE 0 END) AS u FROM couponcode x "
     "GROUP BY promotion", "used"),
])
def test_R36_couponcode_has_no_lastmodifieddate_and_no_used_in_suiteql(query: str,
                                                                        column: str) -> None:
    assert _error(_backend(), query).detail.endswith(NOT_FOUND.format(column))


def test_R36_select_star_leaves_hidden_columns_out_and_rest_still_has_them() -> None:
    with mock_netsuite(EmulatorOptions.evidence_default()) as emu:
        b = emu.backend
        pid = b.create("promotionCode", {"name": "S", "useType": {"id": "SINGLEUSE"},
                                         "codePattern": "S-[AN.6]", "numberToGenerate": 1,
                                         "customForm": {"id": "-10502"}})
        code = b.suiteql("SELECT * FROM couponcode")[0][0]
        assert set(code) == {"links", "id", "code", "promotion"}
        promo = b.suiteql("SELECT * FROM promotioncode")[0][0]
        assert "customform" not in promo and promo["usetype"] == "SINGLEUSE"
        rest = call(emu, "GET", f"/record/v1/promotionCode/{pid}").json()
        assert rest["customForm"] == {"id": "-10502"}
        assert call(emu, "GET", f"/record/v1/couponCode/{code['id']}").json()["used"] is False


def test_R36_used_in_suiteql_variant_makes_used_queryable() -> None:
    b = _backend("used_in_suiteql")
    rows, total = b.suiteql("SELECT id, used, usecount FROM couponcode WHERE used = 'F'")
    assert total == 4 and rows[0]["used"] == "F" and rows[0]["usecount"] == "0"
    assert _error(b, "SELECT customform FROM promotioncode").detail.endswith(
        NOT_FOUND.format("customform"))


def test_R36_no_tranpromotion_variant_answers_record_not_found() -> None:
    err = _error(_backend("no_tranpromotion"), "SELECT tp.transaction FROM tranPromotion tp")
    assert err.detail.endswith("Search error occurred: Record 'tranpromotion' was not found.")
    assert _backend().suiteql("SELECT COUNT(*) AS n FROM tranpromotion")[0] == [
        {"links": [], "n": "0"}]


def test_R36_legacy_options_still_show_every_column() -> None:
    b = NetSuiteBackend(options_for("legacy"))
    b.create("promotionCode", {"name": "T", "customForm": {"id": "-10502"}})
    row = b.suiteql("SELECT customform, lastmodifieddate FROM promotioncode")[0][0]
    assert row["customform"] == "-10502" and len(row["lastmodifieddate"]) == 19


# ---- dates ---------------------------------------------------------------------------------

def _order_at(b: NetSuiteBackend, at: str) -> int:
    code = b.suiteql("SELECT code FROM couponcode ORDER BY id")[0][0]["code"]
    return b.simulate_redemption(code, at=at)


def test_R36_raw_dates_come_back_in_the_user_format_date_only() -> None:
    b = _backend()
    tid = _order_at(b, "2026-12-06 09:05:07")
    row = b.suiteql(f"SELECT t.lastmodifieddate, trandate, createddate FROM transaction t "
                    f"WHERE t.id = {tid}")[0][0]
    assert row == {"links": [], "lastmodifieddate": "12/6/2026", "trandate": "12/6/2026",
                   "createddate": "12/6/2026"}
    promo = b.suiteql("SELECT startdate, MAX(lastmodifieddate) AS m FROM promotioncode")[0][0]
    assert promo["startdate"] == "12/1/2026" and "/" in promo["m"]


def test_R36_to_char_gives_the_full_local_timestamp_anywhere_in_the_select_list() -> None:
    b = _backend()
    _order_at(b, "2026-12-06 09:05:07")
    queries = {
        "SELECT TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') FROM transaction": None,
        "SELECT TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS iso FROM transaction t":
            "iso",
        "SELECT TO_CHAR(MAX(t.lastmodifieddate), 'YYYY-MM-DD HH24:MI:SS') AS top "
        "FROM tranpromotion tp JOIN transaction t ON t.id = tp.transaction": "top",
        "SELECT MAX(TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS')) AS top "
        "FROM transaction t": "top",
    }
    for query, key in queries.items():
        row = b.suiteql(query)[0][0]
        value = row[key] if key else next(v for k, v in row.items() if k != "links")
        assert value == "2026-12-06 09:05:07", query


def test_R36_to_date_compares_in_account_local_time() -> None:
    b = _backend()
    _order_at(b, "2026-12-06 09:05:07")
    q = ("SELECT COUNT(*) AS n FROM tranpromotion tp JOIN transaction t ON t.id = tp.transaction "
         "WHERE t.lastmodifieddate >= TO_DATE('{}', 'YYYY-MM-DD HH24:MI:SS')")
    assert b.suiteql(q.format("2026-12-06 09:05:07"))[0][0]["n"] == "1"
    assert b.suiteql(q.format("2026-12-06 09:05:08"))[0][0]["n"] == "0"
    day = ("SELECT COUNT(*) AS n FROM transaction WHERE trandate = "
           "TO_DATE('12/06/2026', 'MM/DD/YYYY')")
    assert b.suiteql(day)[0][0]["n"] == "1"


def test_R36_writes_are_stamped_with_the_account_local_wall_time() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    b = _backend()
    before = datetime.now(ZoneInfo("America/Los_Angeles")).strftime("%Y-%m-%d %H:%M:%S")
    b.create("customer", {"companyName": "Now"})
    got = b.suiteql("SELECT TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS t "
                    "FROM customer")[0][0]["t"]
    after = datetime.now(ZoneInfo("America/Los_Angeles")).strftime("%Y-%m-%d %H:%M:%S")
    assert before <= got <= after


def test_R36_rest_datetimes_are_utc_whatever_the_account_zone() -> None:
    with mock_netsuite(options_for("evidence")) as emu:
        cid = emu.backend.seed(customers=1)["customer"][0]
        tid = emu.backend.simulate_order(cid, at="2026-07-01 10:00:00")  # PDT, UTC-7
        got = call(emu, "GET", f"/record/v1/salesOrder/{tid}").json()
        assert got["lastModifiedDate"] == "2026-07-01T17:00:00Z"


def test_R36_iso_dates_variant_uses_yyyy_mm_dd_in_utc() -> None:
    b = _backend("iso_dates")
    _order_at(b, "2026-12-06T23:30:00+00:00")
    row = b.suiteql("SELECT lastmodifieddate, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') "
                    "AS iso FROM transaction")[0][0]
    assert row["lastmodifieddate"] == "2026-12-06" and row["iso"] == "2026-12-06 23:30:00"


def test_R36_date_formats_render_like_the_account_preference() -> None:
    for fmt, want in (("DD/MM/YYYY", "06/12/2026"), ("DD-Mon-YYYY", "06-Dec-2026"),
                      ("D.M.YYYY", "6.12.2026"), ("MM/DD/YYYY", "12/06/2026")):
        b = _backend(date_format=fmt)
        _order_at(b, "2026-12-06 10:00:00")
        assert b.suiteql("SELECT trandate FROM transaction")[0][0]["trandate"] == want, fmt
