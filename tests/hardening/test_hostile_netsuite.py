"""Hostile NetSuite responses (hypothesis): truncated JSON, wrong types, HTML, huge bodies.

Whatever NetSuite (or a proxy in front of it) answers, the client either returns what a caller
expects or raises a NetSuiteError subclass with a short message: never a KeyError, TypeError,
JSONDecodeError or a message carrying the whole body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.errors import NetSuiteError
from connector.netsuite import NetSuiteClient, RetryPolicy, TokenAuth

BASE = "https://1234567-sb1.suitetalk.api.netsuite.com"
ANY_URL = re.compile(re.escape(BASE) + r"/services/rest/.*")
FUZZ = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
MESSAGE_LIMIT = 2_000

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["items", "id", "hasMore", "totalResults", "count", "offset", "links",
                         "o:errorDetails", "detail", "o:errorCode", "title", "status", "code",
                         "x"]), inner, max_size=5),
    max_leaves=12,
)
BODIES = st.one_of(
    JSON_VALUES.map(json.dumps),
    JSON_VALUES.map(json.dumps).map(lambda text: text[: max(1, len(text) // 2)]),  # truncated
    st.sampled_from([
        "", " ", "<html><body><h1>503 Service Unavailable</h1></body></html>",
        "<!DOCTYPE html><html><head><title>Login</title></head></html>",
        '{"items": [{"id": "1"}, {"id": ', '{"items": "not a list", "hasMore": true}',
        '{"items": [1, 2, 3], "hasMore": false}', '{"items": [{"id": null}], "hasMore": true}',
        '{"o:errorDetails": "nope"}', '{"o:errorDetails": [{"detail": 5, "o:errorCode": []}]}',
        '[{"id": 1}]', '"just a string"', "null", "NaN", '{"id": {"nested": true}}',
        '{"items": [], "hasMore": "yes", "totalResults": "many"}',
    ]),
    st.text(max_size=200),
)
STATUSES = st.sampled_from([200, 201, 202, 204, 206, 301, 400, 401, 403, 404, 405, 409, 429,
                            500, 502, 503, 504])
HEADERS = st.fixed_dictionaries({}, optional={
    "Location": st.sampled_from([f"{BASE}/services/rest/record/v1/customer/42",
                                 "javascript:alert(1)", "", "/x/y/z", f"{BASE}/../../etc/passwd",
                                 f"{BASE}/services/rest/async/v1/job/7"]),
    "Retry-After": st.sampled_from(["0", "-5", "soon", "99999999999", "1.5"]),
    "Content-Type": st.sampled_from(["application/json", "text/html", "application/xml"]),
})


def client() -> NetSuiteClient:
    auth = TokenAuth(account_id="1234567_SB1", consumer_key="ck-test",
                     consumer_secret="cs-test-secret", token_id="tk-test",
                     token_secret="ts-test-secret")
    retry = RetryPolicy(max_attempts=2, sleep=lambda s: None, jitter=lambda lo, hi: 0.0,
                        max_total_seconds=5.0)
    return NetSuiteClient(account_id="1234567_SB1", auth=auth, retry=retry, poll_interval=0.0,
                          poll_timeout=0.0)


CALLS: dict[str, Callable[[NetSuiteClient], Any]] = {
    "get": lambda c: c.get("customer", 42),
    "get_by_external_id": lambda c: c.get_by_external_id("promotionCode", "promosync-1"),
    "create": lambda c: c.create("customer", {"companyName": "x"}),
    "upsert": lambda c: c.upsert("couponCode", "eid-1", {"code": "A"}),
    "patch": lambda c: c.patch("promotionCode", 7, {"isInactive": True}),
    "suiteql": lambda c: list(c.suiteql("SELECT id FROM customer", page_size=10)),
    "suiteql_keyset": lambda c: list(c.suiteql_keyset(
        "SELECT id FROM customer WHERE id > {after} ORDER BY id", page_size=10)),
    "list_ids": lambda c: list(c.list_ids("customer", page_size=10)),
    "governance_limits": lambda c: c.governance_limits(),
}


def call_under(status: int, body: str | bytes, headers: dict[str, str], name: str,
               *, must_fail: bool = False) -> None:
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            mock.add(method, ANY_URL, body=raw, status=status, headers=headers)
        ns = client()
        try:
            CALLS[name](ns)
            assert not must_fail, f"{name} accepted a body it should refuse"
        except NetSuiteError as exc:
            text = str(exc)
            assert text and len(text) < MESSAGE_LIMIT, f"{type(exc).__name__}: {len(text)} chars"
            assert "Traceback" not in text
        finally:
            ns.close()


@FUZZ
@given(status=STATUSES, body=BODIES, headers=HEADERS, name=st.sampled_from(sorted(CALLS)))
def test_R31_any_response_gives_a_result_or_a_netsuite_error(
    status: int, body: str, headers: dict[str, str], name: str
) -> None:
    call_under(status, body, headers, name)


@pytest.mark.parametrize("name", ["get", "suiteql", "create"])
@pytest.mark.parametrize("status", [200, 400, 503])
def test_R31_a_20_mb_body_is_refused_with_a_short_message(name: str, status: int) -> None:
    huge = b'{"items": [' + (b'"' + b"x" * 1_000 + b'",') * 20_000  # 20 MB, never closed
    call_under(status, huge, {"Content-Type": "application/json"}, name, must_fail=True)
    html = b"<html>" + b"<p>busy</p>" * 2_000_000  # 22 MB of HTML
    call_under(status, html, {"Content-Type": "text/html"}, name, must_fail=True)
