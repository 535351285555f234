"""R36/R37: the metadata catalog and select options an account answers - JSON Schema of the
records with their enum values, labels only where the account shows them, OpenAPI with batch
paths only where batch writes are offered, a slow or failing catalog."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from connector.emulator import EmulatorServer, mock_netsuite
from connector.emulator.profiles import options_for

from .conftest import call, oauth1

SCHEMA = {"Accept": "application/schema+json"}
SWAGGER = {"Accept": "application/swagger+json"}
SELECT = {"Accept": "application/vnd.oracle.resource+json; type=select-options"}


def _schema(emu: mock_netsuite, record: str) -> dict[str, Any]:
    r = call(emu, "GET", f"/record/v1/metadata-catalog/{record}", headers=SCHEMA)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/schema+json"
    body: dict[str, Any] = r.json()
    return body


def test_R36_metadata_schema_lists_the_2026_1_fields_and_enums() -> None:
    with mock_netsuite(options_for("evidence")) as emu:
        promo = _schema(emu, "promotionCode")
        props = promo["properties"]
        for name in ("customForm", "useType", "discountType", "codePattern", "numberToGenerate",
                     "whatTheCustomerNeedsToBuy", "items", "lastModifiedDate"):
            assert name in props, name
        enum = {f: props[f]["properties"]["id"]["enum"] for f in
                ("useType", "discountType", "applyDiscountTo", "combinationType",
                 "whatTheCustomerNeedsToBuy")}
        assert enum["useType"] == ["SINGLEUSE", "MULTIPLEUSES"]
        assert enum["discountType"] == ["F", "T"]
        assert enum["applyDiscountTo"] == ["FIRSTSALE", "ALLSALES"]
        assert "ITEMLINEEXCLUSIVE" in enum["combinationType"]
        assert enum["whatTheCustomerNeedsToBuy"] == ["ANYTHING",
                                                     "MINIMUMORDERAMOUNTORSPECIFICITEMS"]
        assert props["numberToGenerate"]["title"] == "Codes to Generate"
        assert "lastModifiedDate" in promo["x-ns-filterable"]
        coupon = _schema(emu, "couponCode")["properties"]
        assert {"code", "promotion", "used", "useCount", "dateSent"} <= set(coupon)
        assert "lastModifiedDate" not in coupon  # not in the 2026.1 couponCode metadata
        order = _schema(emu, "salesOrder")["properties"]
        line = order["item"]["properties"]["items"]["items"]["properties"]
        assert {"entity", "couponCode", "promoCode", "promotions"} <= set(order)
        assert {"item", "quantity", "rate", "amount"} <= set(line)


def test_R37_evidence_metadata_has_no_discount_type_labels() -> None:
    with mock_netsuite(options_for("evidence")) as emu:
        ident = _schema(emu, "promotionCode")["properties"]["discountType"]["properties"]["id"]
        assert ident["enum"] == ["F", "T"]
        assert "Percent" not in str(_schema(emu, "promotionCode"))


def test_R37_labels_in_metadata_variant_shows_them_as_x_ns_enum_labels() -> None:
    with mock_netsuite(options_for("labels_in_metadata")) as emu:
        ident = _schema(emu, "promotionCode")["properties"]["discountType"]["properties"]["id"]
        assert ident["x-ns-enum-labels"] == {"F": "Percent", "T": "Flat"}
    with mock_netsuite(options_for("labels_in_metadata",
                                   discount_type_values={"percent": "T", "amount": "F"})) as emu:
        ident = _schema(emu, "promotionCode")["properties"]["discountType"]["properties"]["id"]
        assert ident["x-ns-enum-labels"] == {"T": "Percent", "F": "Flat"}


@pytest.mark.parametrize("method,path", [("POST", "/record/v1/promotionCode"),
                                         ("GET", "/record/v1/promotionCode")])
def test_R37_select_options_only_where_the_account_offers_them(method: str, path: str) -> None:
    with mock_netsuite(options_for("labels_in_metadata")) as emu:
        r = call(emu, method, path, json={} if method == "POST" else None, headers=SELECT)
        assert r.status_code == 200
        assert r.json()["discountType"] == {"_selectOptions": [
            {"id": "F", "refName": "Percent"}, {"id": "T", "refName": "Flat"}]}
        assert emu.backend.db.counts()["promotioncode"] == 0  # nothing was created
    with mock_netsuite(options_for("evidence")) as emu:
        r = call(emu, method, path, json={} if method == "POST" else None, headers=SELECT)
        assert r.status_code == 400
        assert r.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_PARAMETER"
        assert emu.backend.db.counts()["promotioncode"] == 0


@pytest.mark.parametrize("variant,offered", [("evidence", True), ("no_async_batch", False)])
def test_R36_openapi_lists_batch_writes_only_when_offered(variant: str, offered: bool) -> None:
    with mock_netsuite(options_for(variant)) as emu:
        r = call(emu, "GET", "/record/v1/metadata-catalog/couponCode", headers=SWAGGER)
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/swagger+json"
        api = r.json()
        ops = api["paths"]["/couponCode"]
        assert ("put" in ops and "patch" in ops) is offered
        if offered:
            prefer = [p for p in ops["put"]["parameters"] if p["name"] == "Prefer"]
            assert prefer[0]["required"] is True
        assert "code" in api["components"]["schemas"]["couponCode"]["properties"]


def test_R36_catalog_lists_record_types_with_links() -> None:
    with mock_netsuite(options_for("evidence")) as emu:
        r = call(emu, "GET", "/record/v1/metadata-catalog/")
        names = {i["name"] for i in r.json()["items"]}
        assert {"promotionCode", "couponCode", "salesOrder"} <= names
        missing = call(emu, "GET", "/record/v1/metadata-catalog/noSuchRecord", headers=SCHEMA)
        assert missing.status_code == 404


def test_R36_metadata_catalog_can_fail_with_a_5xx() -> None:
    with mock_netsuite(options_for("evidence", metadata_catalog_error_status=503)) as emu:
        r = call(emu, "GET", "/record/v1/metadata-catalog/promotionCode", headers=SCHEMA)
        assert r.status_code == 503
        assert r.json()["o:errorDetails"][0]["o:errorCode"] == "UNEXPECTED_ERROR"


def test_R36_a_slow_metadata_catalog_makes_a_client_time_out() -> None:
    options = options_for("evidence", metadata_catalog_delay_seconds=1.0)
    with EmulatorServer(options=options) as srv:
        url = srv.url + "/services/rest/record/v1/metadata-catalog/promotionCode"
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(url, headers=SCHEMA, auth=oauth1(srv.credentials), timeout=0.3)
        assert time.monotonic() - started < 0.9
        ok = requests.get(url, headers=SCHEMA, auth=oauth1(srv.credentials), timeout=5)
        assert ok.status_code == 200
