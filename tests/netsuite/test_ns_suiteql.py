"""R29/R31 SuiteQL: offset paging with Prefer: transient, the 100,000-row refusal, and keyset
paging that runs past 100,000 rows with a loop guard."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from connector.errors import InputError, NetSuiteBadResponse
from connector.netsuite import NetSuiteClient, NetSuiteQueryTooLarge
from connector.netsuite._pagination import key_literal

from .conftest import SUITEQL


def _params(request: Any) -> dict[str, int]:
    return {k: int(v[0]) for k, v in parse_qs(urlsplit(request.url).query).items()}


def _offset_server(total: int, seen: list[dict[str, Any]]) -> Any:
    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        params = _params(request)
        seen.append({"params": params, "prefer": request.headers.get("Prefer"),
                     "body": json.loads(request.body)})
        limit, offset = params["limit"], params["offset"]
        ids = range(offset + 1, min(total, offset + limit) + 1)
        items = [{"links": [], "id": str(i), "code": f"C{i}"} for i in ids]
        body = {"links": [], "count": len(items), "hasMore": offset + limit < total,
                "offset": offset, "totalResults": total, "items": items}
        return 200, {}, json.dumps(body)
    return reply


def test_R29_suiteql_pages_by_offset_with_prefer_transient(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    seen: list[dict[str, Any]] = []
    wire.add_callback(responses.POST, SUITEQL, callback=_offset_server(5, seen))
    rows = list(client.suiteql("SELECT id, code FROM couponCode ORDER BY id", page_size=2))
    assert rows == [{"id": str(i), "code": f"C{i}"} for i in range(1, 6)]
    assert [s["params"] for s in seen] == [{"limit": 2, "offset": 0}, {"limit": 2, "offset": 2},
                                           {"limit": 2, "offset": 4}]
    assert all(s["prefer"] == "transient" for s in seen)
    assert all(s["body"] == {"q": "SELECT id, code FROM couponCode ORDER BY id"} for s in seen)


def test_R29_suiteql_page_returns_the_raw_page(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    seen: list[dict[str, Any]] = []
    wire.add_callback(responses.POST, SUITEQL, callback=_offset_server(5, seen))
    page = client.suiteql_page("SELECT id FROM couponCode", limit=2, offset=2)
    assert (page["hasMore"], page["offset"], page["totalResults"]) == (True, 2, 5)
    assert [item["id"] for item in page["items"]] == ["3", "4"]


def test_R29_suiteql_refuses_past_100k_and_points_to_keyset(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    seen: list[dict[str, Any]] = []
    wire.add_callback(responses.POST, SUITEQL, callback=_offset_server(150_000, seen))
    rows = client.suiteql("SELECT id FROM couponCode")
    with pytest.raises(NetSuiteQueryTooLarge) as caught:
        next(rows)
    assert "100,000" in str(caught.value) and "suiteql_keyset" in str(caught.value)
    assert len(seen) == 1  # refused on the first page, before any row was handed out


def test_R29_suiteql_stops_at_the_cap_even_without_total(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    def endless(request: Any) -> tuple[int, dict[str, str], str]:
        offset = _params(request)["offset"]
        items = [{"id": str(offset + i)} for i in range(1, 1001)]
        return 200, {}, json.dumps({"items": items, "hasMore": True, "offset": offset})

    wire.add_callback(responses.POST, SUITEQL, callback=endless)
    count = 0
    with pytest.raises(NetSuiteQueryTooLarge, match="keyset"):
        for _ in client.suiteql("SELECT id FROM couponCode"):
            count += 1
    assert count == 100_000
    assert len(wire.calls) == 100


def _keyset_server(total: int, offsets: list[int]) -> Any:
    pattern = re.compile(r"id > (\d+)")

    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        params = _params(request)
        offsets.append(params["offset"])
        after = int(pattern.search(json.loads(request.body)["q"]).group(1))  # type: ignore[union-attr]
        last = min(total, after + params["limit"])
        items = [{"links": [], "id": str(i)} for i in range(after + 1, last + 1)]
        body = {"items": items, "hasMore": last < total, "offset": 0, "count": len(items),
                "totalResults": total - after}
        return 200, {}, json.dumps(body)
    return reply


def test_R29_keyset_paging_runs_past_100k_rows(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    offsets: list[int] = []
    wire.add_callback(responses.POST, SUITEQL, callback=_keyset_server(150_000, offsets))
    query = "SELECT id FROM couponCode WHERE id > {after} ORDER BY id"
    count, last = 0, None
    for row in client.suiteql_keyset(query):
        count += 1
        last = row["id"]
    assert count == 150_000 and last == "150000"
    assert len(offsets) == 150 and set(offsets) == {0}


def test_R29_keyset_starts_after_the_given_key(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    offsets: list[int] = []
    wire.add_callback(responses.POST, SUITEQL, callback=_keyset_server(25, offsets))
    rows = list(client.suiteql_keyset("SELECT id FROM t WHERE id > {after} ORDER BY id",
                                      start_after=20, page_size=2))
    assert [r["id"] for r in rows] == ["21", "22", "23", "24", "25"]
    assert "id > 24" in json.loads(wire.calls[-1].request.body)["q"]


def test_R29_keyset_loop_guard_when_the_key_does_not_advance(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.post(SUITEQL, json={"items": [{"id": "5"}, {"id": "3"}], "hasMore": True})
    rows = client.suiteql_keyset("SELECT id FROM t WHERE id > {after}", page_size=2,
                                 start_after=10)
    with pytest.raises(NetSuiteBadResponse, match="did not advance"):
        list(rows)
    assert len(wire.calls) == 1


def test_R29_keyset_needs_the_after_placeholder(client: NetSuiteClient) -> None:
    with pytest.raises(InputError, match="after"):
        next(client.suiteql_keyset("SELECT id FROM t ORDER BY id"))


def test_R29_keyset_row_without_the_key_column(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.post(SUITEQL, json={"items": [{"code": "A"}], "hasMore": False})
    with pytest.raises(NetSuiteBadResponse, match="'id' column"):
        list(client.suiteql_keyset("SELECT code FROM t WHERE id > {after}"))


def test_R29_key_literals_are_numbers_or_quoted_strings() -> None:
    assert key_literal("123") == "123"
    assert key_literal(7) == "7"
    assert key_literal("O'Brien") == "'O''Brien'"


def test_R29_suiteql_page_or_offers_the_body_text_first(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    seen: list[dict[str, Any]] = []
    wire.add_callback(responses.POST, SUITEQL, callback=_offset_server(5, seen))
    texts: list[str] = []

    def take(text: str) -> int | None:
        texts.append(text)
        return len(text) if "C3" in text else None

    assert client.suiteql_page_or("SELECT id FROM couponCode", limit=2, offset=2,
                                  take=take) == len(texts[0])
    page = client.suiteql_page_or("SELECT id FROM couponCode", limit=2, offset=0, take=take)
    assert isinstance(page, dict) and [i["id"] for i in page["items"]] == ["1", "2"]
    assert json.loads(texts[1]) == page
    assert all(s["prefer"] == "transient" for s in seen)


def test_R31_suiteql_page_or_refuses_a_bad_body_like_suiteql_page(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.add(responses.POST, SUITEQL, body=b"\xff\xfe<html>busy</html>", status=200)
    with pytest.raises(NetSuiteBadResponse):
        client.suiteql_page_or("SELECT id FROM couponCode", limit=2, offset=0,
                               take=lambda text: None)
