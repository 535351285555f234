"""R31/issue 6: every value promosync writes into SuiteQL text goes through
connector.sync.suiteql_values."""

from __future__ import annotations

import pytest

from connector.errors import NetSuiteBadResponse
from connector.sync import suiteql_values as suiteql


def test_integers_are_checked() -> None:
    assert suiteql.integers(["1", 22, " 333 "]) == "1, 22, 333"
    for hostile in ("1) OR (1=1", "2 UNION SELECT 1", "", "1e9", True):
        with pytest.raises(NetSuiteBadResponse):
            suiteql.integer(hostile)


def test_strings_double_their_quotes() -> None:
    assert suiteql.string("O'Brien") == "'O''Brien'"
    assert suiteql.string("x' OR '1'='1") == "'x'' OR ''1''=''1'"


def test_timestamps_must_look_like_netsuite_timestamps() -> None:
    assert (
        suiteql.timestamp("2026-11-22 01:02:03")
        == "TO_DATE('2026-11-22 01:02:03', 'YYYY-MM-DD HH24:MI:SS')"
    )
    assert suiteql.timestamp("2026-11-22").startswith("TO_DATE('2026-11-22 00:00:00'")
    with pytest.raises(NetSuiteBadResponse):
        suiteql.timestamp("2026-11-22') OR ('1'='1")
