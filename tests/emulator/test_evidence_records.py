"""R36/R37/R34: record writes as the evidence-default account answers them - discountType per
account, bodies checked against the schema, external ids, batch size, sales orders - and what
everything promosync sends still passes."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from connector.emulator import mock_netsuite
from connector.emulator.profiles import options_for

from .conftest import call

PROMO = "/record/v1/promotionCode"


def _detail(r: Any) -> dict[str, Any]:
    details: list[dict[str, Any]] = r.json()["o:errorDetails"]
    return details[0]


def _single_use(emu: mock_netsuite, **extra: Any) -> int:
    body = {"name": "SU", "useType": {"id": "SINGLEUSE"}, "codePattern": "SU-[AN.6]",
            "numberToGenerate": 3, "customForm": {"id": "-10502"}, **extra}
    return int(emu.backend.create("promotionCode", body))


@pytest.mark.parametrize("variant,percent,amount", [("evidence", "F", "T"),
                                                    ("t_is_percent", "T", "F"),
                                                    ("percent_flat", "percent", "flat")])
def test_R37_discount_type_values_labels_and_meaning_per_account(
        variant: str, percent: str, amount: str) -> None:
    with mock_netsuite(options_for(variant)) as emu:
        for meaning, value, label in (("percent", percent, "Percent"),
                                      ("amount", amount, "Flat")):
            pid = _single_use(emu, discountType={"id": value})
            got = call(emu, "GET", f"{PROMO}/{pid}").json()["discountType"]
            assert got == {"id": value, "refName": label}
            assert emu.backend.discount_meaning(pid) == meaning
            meant = requests.get(f"{emu.base_url}/__emulator__/discount",
                                 params={"promotion": pid}, timeout=5).json()
            assert meant == {"meaning": meaning}
        wrong = "F" if variant == "percent_flat" else "percent"
        r = call(emu, "POST", PROMO, json={"name": "W", "discountType": {"id": wrong}})
        assert r.status_code == 400
        assert (_detail(r)["o:errorCode"], _detail(r)["o:errorPath"]) == ("INVALID_CONTENT",
                                                                          "discountType")


def test_R37_a_promotion_without_discount_type_means_nothing() -> None:
    with mock_netsuite(options_for("evidence")) as emu:
        assert emu.backend.discount_meaning(_single_use(emu)) is None


@pytest.mark.parametrize("record,body", [
    ("promotionCode", {"name": "U", "promotionType": "ORDER"}),
    ("couponCode", {"code": "C-1", "promotion": {"id": "1"}, "lastModifiedDate": "x"}),
    ("couponCode", {"code": "C-2", "promotion": {"id": "1"}, "usedBy": "me"}),
    ("salesOrder", {"entity": {"id": "1001"}, "item": {"items": [{"item": {"id": "150"}}]},
                    "promoCodeText": "X"}),
])
def test_R36_unknown_body_fields_are_refused_naming_the_field(record: str,
                                                              body: dict[str, Any]) -> None:
    with mock_netsuite(options_for("evidence")) as emu:
        emu.backend.seed_samples()
        _single_use(emu)
        r = call(emu, "POST", f"/record/v1/{record}", json=body)
        assert r.status_code == 400, r.text
        unknown = next(k for k in body if k not in ("name", "code", "promotion", "entity",
                                                    "item"))
        detail = _detail(r)
        assert detail["o:errorCode"] in ("NONEXISTENT_FIELD", "INVALID_CONTENT")
        assert detail["o:errorPath"] == unknown and unknown in detail["detail"]


def test_R36_unknown_sublist_line_field_is_refused_with_its_path() -> None:
    with mock_netsuite(options_for("evidence")) as emu:
        emu.backend.seed_samples()
        r = call(emu, "POST", "/record/v1/salesOrder", json={
            "entity": {"id": "1001"},
            "item": {"items": [{"item": {"id": "150"}, "quantity": 1, "colour": "red"}]}})
        assert r.status_code == 400
        assert _detail(r)["o:errorPath"] == "item.items[0].colour"


def test_R36_select_value_outside_the_enum_is_invalid_content() -> None:
    with mock_netsuite(options_for("evidence")) as emu:
        r = call(emu, "POST", PROMO, json={"name": "M", "useType": {"id": "MULTIUSE"}})
        assert r.status_code == 400
        assert (_detail(r)["o:errorCode"], _detail(r)["o:errorPath"]) == ("INVALID_CONTENT",
                                                                          "useType")


def test_R36_everything_promosync_sends_passes_the_evidence_account() -> None:
    with mock_netsuite(options_for("evidence")) as emu:
        emu.backend.seed_samples()
        common = {"customForm": {"id": "-10502"}, "isInactive": False, "name": "Spring",
                  "startDate": "2026-12-01", "endDate": "2026-12-31", "rate": 10.0,
                  "combinationType": {"id": "COMBINABLE"}, "description": "promosync: Spring",
                  "discountType": {"id": "F"}, "discount": {"id": "10"},
                  "whatTheCustomerNeedsToBuy": {"id": "MINIMUMORDERAMOUNTORSPECIFICITEMS"},
                  "minimumOrderAmountCheck": True, "minimumOrderAmount": 50.0,
                  "specificItemsCheck": True,
                  "items": {"items": [{"item": {"id": "150"}}, {"item": {"id": "200"}}]}}
        single = call(emu, "PUT", f"{PROMO}/eid:promosync-spring-1", json={
            **common, "useType": {"id": "SINGLEUSE"}, "codePattern": "SP-[AN.6]",
            "numberToGenerate": 5, "externalId": "promosync-spring-1"})
        assert single.status_code == 204, single.text
        multi = call(emu, "POST", PROMO, json={
            **common, "useType": {"id": "MULTIPLEUSES"}, "code": "SPRING10",
            "whatTheCustomerNeedsToBuy": {"id": "ANYTHING"}})
        assert multi.status_code == 204, multi.text
        pid = single.headers["Location"].rsplit("/", 1)[1]
        coupon = call(emu, "PUT", "/record/v1/couponCode/eid:promosync-code-SP-LOCAL1",
                      json={"code": "SP-LOCAL1", "promotion": {"id": pid},
                            "externalId": "promosync-code-SP-LOCAL1"})
        assert coupon.status_code == 204, coupon.text
        cid = coupon.headers["Location"].rsplit("/", 1)[1]
        order = call(emu, "PUT", "/record/v1/salesOrder/eid:promosync-redemption-7", json={
            "entity": {"id": "1001"}, "couponCode": {"id": cid}, "promoCode": {"id": pid},
            "memo": "promosync: SP-LOCAL1 redeemed at the point of sale",
            "item": {"items": [{"item": {"id": "150"}, "quantity": 1, "rate": 10.0},
                               {"item": {"id": "200"}, "quantity": 2, "amount": 30.0}]},
            "externalId": "promosync-redemption-7"})
        assert order.status_code == 204, order.text


@pytest.mark.parametrize("eid", ["has.dot", "has space", "ümlaut", "slash/x"])
def test_R36_external_ids_take_letters_digits_underscore_dash_only(eid: str) -> None:
    with mock_netsuite(options_for("evidence")) as emu:
        body = call(emu, "POST", "/record/v1/customer",
                    json={"companyName": "A", "externalId": eid})
        assert body.status_code == 400 and _detail(body)["o:errorPath"] == "externalId"
        url = call(emu, "PUT", "/record/v1/customer/eid:" + eid.replace("/", "%2F"),
                   json={"companyName": "A"})
        assert url.status_code == 400 and _detail(url)["o:errorCode"] == "INVALID_CONTENT"
        ok = call(emu, "PUT", "/record/v1/customer/eid:ok_id-9", json={"companyName": "A"})
        assert ok.status_code == 204
    with mock_netsuite(options_for("legacy")) as legacy:  # the pre-evidence options do not
        assert call(legacy, "POST", "/record/v1/customer",
                    json={"companyName": "A", "externalId": eid}).status_code == 204


def test_R34_async_batch_holds_at_most_100_records() -> None:
    with mock_netsuite(options_for("evidence")) as emu:
        items = [{"externalId": f"c{i}", "companyName": "C"} for i in range(101)]
        over = call(emu, "PUT", "/record/v1/customer", json={"items": items},
                    headers={"Prefer": "respond-async"})
        assert over.status_code == 400
        assert "at most 100" in _detail(over)["detail"] and _detail(over)["o:errorPath"] == "items"
        ok = call(emu, "PUT", "/record/v1/customer", json={"items": items[:100]},
                  headers={"Prefer": "respond-async"})
        assert ok.status_code == 202


def test_R34_no_async_batch_variant_refuses_collection_writes() -> None:
    with mock_netsuite(options_for("no_async_batch")) as emu:
        r = call(emu, "PUT", "/record/v1/couponCode", json={"items": [{"externalId": "x"}]},
                 headers={"Prefer": "respond-async"})
        assert r.status_code == 405 and _detail(r)["o:errorCode"] == "INVALID_METHOD"


@pytest.mark.parametrize("body,path", [
    ({"memo": "no customer", "item": {"items": [{"item": {"id": "150"}, "quantity": 1}]}},
     "entity"),
    ({"entity": {"id": "1001"}}, "item"),
    ({"entity": {"id": "1001"}, "item": {"items": []}}, "item"),
    ({"entity": {"id": "1001"}, "item": {"items": [{"quantity": 1}]}}, "item.items[0].item"),
    ({"entity": {"id": "1001"}, "item": {"items": [{"item": {"id": "999"}}]}},
     "item.items[0].item"),
])
def test_R34_sales_order_needs_entity_and_item_lines(body: dict[str, Any], path: str) -> None:
    with mock_netsuite(options_for("evidence")) as emu:
        emu.backend.seed_samples()
        r = call(emu, "POST", "/record/v1/salesOrder", json=body)
        assert r.status_code == 400 and _detail(r)["o:errorPath"] == path, r.text
        assert _detail(r)["o:errorCode"] in ("USER_ERROR", "INVALID_CONTENT")
        assert emu.backend.db.counts()["transaction"] == 0


@pytest.mark.parametrize("consumes", [True, False])
def test_R34_sales_order_coupon_consumes_the_code_only_when_the_account_does(
        consumes: bool) -> None:
    with mock_netsuite(options_for("evidence", sales_order_consumes_code=consumes)) as emu:
        emu.backend.seed_samples()
        pid = _single_use(emu)
        code = emu.backend.suiteql(f"SELECT id FROM couponcode WHERE promotion = {pid}")[0][0]
        r = call(emu, "POST", "/record/v1/salesOrder", json={
            "entity": {"id": "1001"}, "couponCode": {"id": code["id"]},
            "item": {"items": [{"item": {"id": "150"}, "quantity": 1}]}})
        assert r.status_code == 204
        links = emu.backend.suiteql("SELECT couponcode FROM tranpromotion")[0]
        assert links == ([{"links": [], "couponcode": code["id"]}] if consumes else [])
        rest = call(emu, "GET", f"/record/v1/couponCode/{code['id']}").json()
        assert rest["used"] is consumes


def test_R34_sales_order_promotions_sublist_also_uses_its_codes() -> None:
    with mock_netsuite(options_for("evidence")) as emu:
        emu.backend.seed_samples()
        pid = _single_use(emu)
        ids = [c["id"] for c in emu.backend.suiteql(
            f"SELECT id FROM couponcode WHERE promotion = {pid} ORDER BY id")[0][:2]]
        r = call(emu, "POST", "/record/v1/salesOrder", json={
            "entity": {"id": "1002"}, "item": {"items": [{"item": {"id": "200"}}]},
            "promotions": {"items": [{"couponCode": {"id": i}} for i in ids]}})
        assert r.status_code == 204
        used = emu.backend.suiteql("SELECT couponcode FROM tranpromotion ORDER BY couponcode")[0]
        assert [u["couponcode"] for u in used] == ids


def test_R34_legacy_options_keep_accepting_bare_sales_orders() -> None:
    with mock_netsuite(options_for("legacy")) as emu:
        r = call(emu, "POST", "/record/v1/salesOrder", json={"memo": "bare", "extra": 1})
        assert r.status_code == 204
