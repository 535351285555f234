"""R26/R27 record calls: create (204 + Location, 200 body), get, eid: reads and upserts, patch
with replace, delete, id listing with offset paging, governance limits."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connector.errors import InputError, NetSuiteBadResponse
from connector.netsuite import NetSuiteClient, NetSuiteQueryTooLarge

from .conftest import BASE, RECORDS


def _query(call: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def test_R26_create_returns_id_from_location_on_204(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.post(f"{RECORDS}/promotionCode", status=204,
              headers={"Location": f"{RECORDS}/promotionCode/647"})
    assert client.create("promotionCode", {"name": "Spring"}) == "647"
    assert json.loads(wire.calls[0].request.body) == {"name": "Spring"}
    assert wire.calls[0].request.headers["Content-Type"] == "application/json"


def test_R26_create_returns_id_from_200_body(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.post(f"{RECORDS}/couponCode", status=200, json={"id": "88", "code": "ABC"})
    assert client.create("couponCode", {"code": "ABC"}) == "88"


def test_R26_create_accepts_201_with_location(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.post(f"{RECORDS}/couponCode", status=201, json={"code": "ABC"},
              headers={"Location": "/services/rest/record/v1/couponCode/89"})
    assert client.create("couponCode", {"code": "ABC"}) == "89"


def test_R26_create_without_any_id_is_a_bad_response(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.post(f"{RECORDS}/couponCode", status=204)
    with pytest.raises(NetSuiteBadResponse, match="no Location"):
        client.create("couponCode", {"code": "ABC"})


def test_R26_get_expands_sub_resources_on_request(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.get(f"{RECORDS}/promotionCode/42", json={"id": "42", "items": {"items": []}})
    assert client.get("promotionCode", 42, expand=True)["id"] == "42"
    assert _query(wire.calls[0]) == {"expandSubResources": "true"}
    client.get("promotionCode", 42)
    assert _query(wire.calls[1]) == {}


def test_R27_get_by_external_id_uses_eid_and_returns_none_on_404(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.get(f"{RECORDS}/promotionCode/eid:promo-1", json={"id": "42", "externalId": "promo-1"})
    wire.get(f"{RECORDS}/promotionCode/eid:promo-2", status=404, json={
        "title": "Not Found", "status": 404,
        "o:errorDetails": [{"detail": "The record instance does not exist.",
                            "o:errorCode": "NONEXISTENT_ID"}]})
    assert client.get_by_external_id("promotionCode", "promo-1") == {
        "id": "42", "externalId": "promo-1"}
    assert client.get_by_external_id("promotionCode", "promo-2") is None


def test_R27_upsert_puts_to_quoted_eid_and_reads_location(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    url = f"{RECORDS}/couponCode/eid:PROMO%2F1%20A%3Fx%3A1"
    wire.put(url, status=204, headers={"Location": f"{RECORDS}/couponCode/501"})
    assert client.upsert("couponCode", "PROMO/1 A?x:1", {"code": "A"}) == "501"
    request = wire.calls[0].request
    assert request.method == "PUT"
    assert urlsplit(request.url).path == (
        "/services/rest/record/v1/couponCode/eid:PROMO%2F1%20A%3Fx%3A1")
    assert urlsplit(request.url).query == ""


def test_R27_upsert_without_location_returns_none(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.put(f"{RECORDS}/couponCode/eid:c-1", status=204)
    assert client.upsert("couponCode", "c-1", {"code": "A"}) is None


def test_R26_patch_with_replace_names_the_sublists(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.patch(f"{RECORDS}/promotionCode/42", status=204)
    client.patch("promotionCode", 42, {"items": {"items": []}}, replace=["items", "currency"])
    client.patch("promotionCode", 42, {"isInactive": True})
    assert _query(wire.calls[0]) == {"replace": "items,currency"}
    assert _query(wire.calls[1]) == {}
    assert json.loads(wire.calls[1].request.body) == {"isInactive": True}


def test_R26_delete_sends_delete(wire: responses.RequestsMock, client: NetSuiteClient) -> None:
    wire.delete(f"{RECORDS}/promotionCode/42", status=204)
    client.delete("promotionCode", 42)
    assert wire.calls[0].request.method == "DELETE"


def test_R26_bad_record_type_or_empty_id_never_reaches_the_wire(client: NetSuiteClient) -> None:
    with pytest.raises(InputError):
        client.get("../system/v1/governanceLimits", 1)
    with pytest.raises(InputError):
        client.delete("couponCode", "")


def _list_callback(total: int) -> Any:
    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        query = _query_of(request.url)
        limit, offset = int(query["limit"]), int(query["offset"])
        ids = [str(i) for i in range(offset + 1, min(total, offset + limit) + 1)]
        body = {"count": len(ids), "hasMore": offset + limit < total, "offset": offset,
                "totalResults": total, "links": [],
                "items": [{"id": i, "links": []} for i in ids]}
        return 200, {}, json.dumps(body)
    return reply


def _query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_R26_list_ids_pages_by_offset_in_multiples_of_limit(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.add_callback(responses.GET, f"{RECORDS}/couponCode", callback=_list_callback(7))
    ids = list(client.list_ids("couponCode", q="promotion ANY_OF [42]", page_size=3))
    assert ids == [str(i) for i in range(1, 8)]
    queries = [_query(call) for call in wire.calls]
    assert [q["offset"] for q in queries] == ["0", "3", "6"]
    assert all(q["limit"] == "3" and q["q"] == "promotion ANY_OF [42]" for q in queries)


def test_R26_list_ids_loop_guard_on_empty_page_that_says_has_more(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.get(f"{RECORDS}/couponCode", json={"items": [], "hasMore": True, "offset": 0,
                                            "count": 0})
    with pytest.raises(NetSuiteBadResponse, match="hasMore"):
        list(client.list_ids("couponCode"))
    assert len(wire.calls) == 1


def test_R26_list_ids_refuses_more_than_100k(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.add_callback(responses.GET, f"{RECORDS}/couponCode", callback=_list_callback(250_000))
    with pytest.raises(NetSuiteQueryTooLarge, match="100,000"):
        next(client.list_ids("couponCode"))


def test_R26_page_size_is_bounded(client: NetSuiteClient) -> None:
    with pytest.raises(InputError, match="1000"):
        next(client.list_ids("couponCode", page_size=1001))


def test_R31_governance_limits(wire: responses.RequestsMock, client: NetSuiteClient) -> None:
    body = {"accountConcurrencyLimit": 15, "accountUnallocatedConcurrencyLimit": 10,
            "accountLimitType": "SUITECLOUD_PLUS"}
    wire.get(f"{BASE}/services/rest/system/v1/governanceLimits", json=body)
    assert client.governance_limits() == body


def test_R31_proxy_and_ca_settings_from_the_environment_are_kept(monkeypatch) -> None:
    from connector.netsuite import NetSuiteClient, TokenAuth

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corp-ca.pem")
    auth = TokenAuth(account_id="1234567_SB1", consumer_key="ck", consumer_secret="cs",
                     token_id="tk", token_secret="ts")
    client = NetSuiteClient(account_id="1234567_SB1", auth=auth)
    assert client.session.proxies.get("https") == "http://proxy.internal:3128"
    assert client.session.verify == "/etc/ssl/corp-ca.pem"
    monkeypatch.setenv("NO_PROXY", "suitetalk.api.netsuite.com")
    bypassed = NetSuiteClient(account_id="1234567_SB1", auth=auth)
    assert "https" not in bypassed.session.proxies
