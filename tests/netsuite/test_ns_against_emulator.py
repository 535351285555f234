"""R33 agreement: the real client against the in-process emulator (signature checks, eid:
paths, SuiteQL keyset paging, async batches). Skipped while the emulator package is absent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connector.errors import NetSuiteAuthError, NetSuiteBadRequest
from connector.netsuite import NetSuiteClient, TokenAuth

from .conftest import ACCOUNT, CONSUMER_KEY, TOKEN_ID, FakeTime, policy, token_auth

emulator = pytest.importorskip("connector.emulator")


@pytest.fixture
def emu() -> Iterator[Any]:
    with emulator.mock_netsuite() as running:
        running.backend.seed(customers=3, items=2, discount_items=1)
        yield running


@pytest.fixture
def ns(emu: Any, fake_time: FakeTime) -> NetSuiteClient:
    return NetSuiteClient(account_id=ACCOUNT, auth=token_auth(), base_url=emu.base_url,
                          retry=policy(fake_time), poll_interval=0.0)


def test_R33_emulator_accepts_our_signatures_and_eid_paths(ns: NetSuiteClient) -> None:
    new_id = ns.create("customer", {"companyName": "Acme", "externalId": "cust_1-a"})
    found = ns.get_by_external_id("customer", "cust_1-a")
    assert found is not None and found["id"] == new_id
    assert ns.get_by_external_id("customer", "no such") is None


def test_R33_external_ids_outside_letters_digits_dash_underscore_are_refused(
        ns: NetSuiteClient) -> None:
    """Oracle: an external ID holds only letters, digits, `_` and `-` (the emulator's default
    plays that); the client's path quoting still gets such an id to NetSuite intact."""
    with pytest.raises(NetSuiteBadRequest) as err:
        ns.create("customer", {"companyName": "Acme", "externalId": "cust/1 a"})
    assert err.value.error_path == "externalId"


def test_R30_emulator_rejects_a_wrong_secret(emu: Any, fake_time: FakeTime) -> None:
    bad = TokenAuth(account_id=ACCOUNT, consumer_key=CONSUMER_KEY, consumer_secret="wrong",
                    token_id=TOKEN_ID, token_secret="wrong")
    client = NetSuiteClient(account_id=ACCOUNT, auth=bad, base_url=emu.base_url,
                            retry=policy(fake_time))
    with pytest.raises(NetSuiteAuthError):
        client.get("customer", 1)
    assert "wrong" not in str(client.auth)


def test_R29_emulator_keyset_and_offset_agree(ns: NetSuiteClient) -> None:
    for n in range(7):
        ns.upsert("customer", f"c-{n}", {"companyName": f"C{n}"})
    offset_rows = list(ns.suiteql("SELECT id FROM customer ORDER BY id", page_size=2))
    keyset_rows = list(ns.suiteql_keyset(
        "SELECT id FROM customer WHERE id > {after} ORDER BY id", page_size=2))
    assert offset_rows == keyset_rows and len(keyset_rows) == 10


def test_R26_emulator_async_batch_reports_the_failed_item(ns: NetSuiteClient) -> None:
    items = list(ns.suiteql("SELECT id, itemtype FROM item ORDER BY id"))
    discount = next(i["id"] for i in items if i["itemtype"] == "Discount")
    ns.upsert("promotionCode", "promo-1", {
        "name": "P1", "code": "P1CODE", "useType": "SINGLEUSE",
        "customForm": {"id": "-10502"}, "discount": {"id": discount}, "rate": 10})
    promo = ns.get_by_external_id("promotionCode", "promo-1")
    assert promo is not None
    batch = [{"externalId": f"cc-{i}", "code": f"CODE{i}", "promotion": {"id": promo["id"]}}
             for i in range(3)] + [{"code": "NOEID", "promotion": {"id": promo["id"]}}]
    result = ns.async_batch("PUT", "couponCode", batch)
    assert not result.succeeded
    assert [(e.index, e.error_code) for e in result.errors] == [(3, "INVALID_CONTENT")]
    codes = [r["code"] for r in ns.suiteql("SELECT code FROM couponCode ORDER BY id")]
    assert codes == ["CODE0", "CODE1", "CODE2"]
