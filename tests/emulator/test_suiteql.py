"""R33/R34 SuiteQL: translation, read-only execution, NetSuite's value rendering, paging caps
and the UNCONFIRMED visibility options."""

from __future__ import annotations

import pytest

from connector.emulator import EmulatorOptions, NetSuiteBackend
from connector.emulator.apierror import ApiError
from connector.emulator.suiteql_text import translate


@pytest.fixture
def backend() -> NetSuiteBackend:
    b = NetSuiteBackend()
    b.create("promotionCode", {"name": "Q", "useType": "SINGLEUSE", "codePattern": "Q-[AN.6]",
                               "numberToGenerate": 12, "rate": 12.5})
    return b


def test_R33_to_date_and_transaction_are_translated() -> None:
    sql = translate("SELECT t.id FROM transaction t WHERE t.lastmodifieddate >= "
                    "TO_DATE('2025-01-02 03:04:05','YYYY-MM-DD HH24:MI:SS') "
                    "AND t.memo = 'transaction'")
    assert "'2025-01-02 03:04:05'" in sql and 'FROM "transaction" t' in sql
    assert "'transaction'" in sql  # literals untouched


def test_R33_values_are_strings_and_nulls_are_omitted(backend: NetSuiteBackend) -> None:
    items, total = backend.suiteql("SELECT id, name, rate, description, isinactive "
                                   "FROM promotioncode")
    assert total == 1
    assert items == [{"links": [], "id": "1", "name": "Q", "rate": "12.5", "isinactive": "F"}]


def test_R33_date_filter_compares_with_stored_times(backend: NetSuiteBackend) -> None:
    code = backend.suiteql("SELECT code FROM couponcode")[0][0]["code"]
    backend.simulate_redemption(code)
    recent = ("SELECT tp.couponcode FROM tranPromotion tp JOIN transaction t ON "
              "t.id = tp.transaction WHERE t.lastmodifieddate >= "
              "TO_DATE('{}','YYYY-MM-DD HH24:MI:SS')")
    assert backend.suiteql(recent.format("2000-01-01 00:00:00"))[1] == 1
    assert backend.suiteql(recent.format("2999-01-01 00:00:00"))[1] == 0


def test_R33_paging_limit_and_offset(backend: NetSuiteBackend) -> None:
    page, total = backend.suiteql("SELECT id FROM couponcode ORDER BY id", limit=5, offset=10)
    assert total == 12 and [p["id"] for p in page] == ["11", "12"]
    for limit, offset in ((0, 0), (1001, 0), (1000, 99_001), (5, -1)):
        with pytest.raises(ApiError) as err:
            backend.suiteql("SELECT id FROM couponcode", limit=limit, offset=offset)
        assert err.value.status == 400
    assert backend.suiteql("SELECT id FROM couponcode", limit=1000, offset=99_000)[0] == []


@pytest.mark.parametrize("query", [
    "DELETE FROM couponcode", "UPDATE couponcode SET used = 'T'",
    "SELECT 1; DROP TABLE couponcode", "PRAGMA writable_schema = 1",
    "SELECT * FROM _nonce", "SELECT * FROM sqlite_master", "SELECT nothing FROM nowhere",
    "SELECT FROM WHERE", "ATTACH DATABASE 'x.db' AS x", "", "   "])
def test_R34_anything_but_a_select_is_a_400_and_changes_nothing(backend: NetSuiteBackend,
                                                                query: str) -> None:
    with pytest.raises(ApiError) as err:
        backend.suiteql(query)
    assert err.value.status == 400 and err.value.code == "INVALID_PARAMETER"
    assert backend.db.counts()["couponcode"] == 12


def test_R34_used_columns_can_be_hidden_from_suiteql() -> None:
    b = NetSuiteBackend(EmulatorOptions(couponcode_used_in_suiteql=False))
    b.create("promotionCode", {"name": "H", "useType": "SINGLEUSE", "codePattern": "H-[AN.6]",
                               "numberToGenerate": 2})
    with pytest.raises(ApiError, match="Search error occurred: Field 'used'"):
        b.suiteql("SELECT id, used FROM couponcode")
    rows, _ = b.suiteql("SELECT * FROM couponcode")
    assert "used" not in rows[0] and "code" in rows[0]


def test_R34_tranpromotion_can_be_unqueryable() -> None:
    b = NetSuiteBackend(EmulatorOptions(tranpromotion_queryable=False))
    with pytest.raises(ApiError, match="Record 'tranpromotion' was not found"):
        b.suiteql("SELECT * FROM tranpromotion")


def test_R34_runaway_query_is_stopped() -> None:
    b = NetSuiteBackend(EmulatorOptions(suiteql_timeout_seconds=0.2))
    b.create("promotionCode", {"name": "R", "useType": "SINGLEUSE", "codePattern": "R-[AN.6]",
                               "numberToGenerate": 300})
    with pytest.raises(ApiError):
        b.suiteql("SELECT COUNT(*) FROM couponcode a, couponcode b, couponcode c")
