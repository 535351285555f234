"""R31: retries (429 + Retry-After, 5xx, dropped connections, bounded give-up, no blind POST
retry, capped 401 retries) and the one table from status / o:errorCode to typed errors."""

from __future__ import annotations

import email.utils
import socket
import threading
import time
from typing import Any

import pytest
import requests
import responses
from urllib3.exceptions import NewConnectionError, ProtocolError

from connector.errors import (
    NetSuiteAuthError,
    NetSuiteBadRequest,
    NetSuiteBadResponse,
    NetSuiteConnectionError,
    NetSuiteForbidden,
    NetSuiteNotFound,
    NetSuiteRateLimited,
    NetSuiteServerError,
)
from connector.netsuite import NetSuiteClient, NetSuiteConnectFailed, NetSuiteIdempotencyConflict
from connector.netsuite._errors_table import error_class, parse_retry_after
from connector.netsuite._transport import Transport

from .conftest import BASE, RECORDS, SUITEQL, FakeTime, policy, token_auth

CUSTOMER = f"{RECORDS}/customer/9"


def _err(status: int, code: str | None = None, detail: str = "x", path: str | None = None
         ) -> dict[str, Any]:
    detail_entry: dict[str, Any] = {"detail": detail}
    if code:
        detail_entry["o:errorCode"] = code
    if path:
        detail_entry["o:errorPath"] = path
    return {"type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
            "title": "Error", "status": status, "o:errorDetails": [detail_entry]}


# -- retries ------------------------------------------------------------------------------------

def test_R31_429_with_retry_after_seconds_is_honoured(
    wire: responses.RequestsMock, client: NetSuiteClient, fake_time: FakeTime
) -> None:
    wire.get(CUSTOMER, status=429, json=_err(429), headers={"Retry-After": "7"})
    wire.get(CUSTOMER, json={"id": "9"})
    assert client.get("customer", 9) == {"id": "9"}
    assert fake_time.sleeps == [7.0]


def test_R31_retry_after_as_http_date_is_honoured(
    wire: responses.RequestsMock, client: NetSuiteClient, fake_time: FakeTime
) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    wire.get(CUSTOMER, status=503, json=_err(503), headers={"Retry-After": when})
    wire.get(CUSTOMER, json={"id": "9"})
    client.get("customer", 9)
    assert len(fake_time.sleeps) == 1 and 27.0 <= fake_time.sleeps[0] <= 30.0


def test_R31_concurrency_limit_error_code_is_rate_limited_and_retried(
    wire: responses.RequestsMock, client: NetSuiteClient, fake_time: FakeTime
) -> None:
    wire.get(CUSTOMER, status=400, json=_err(400, "CONCURRENCY_LIMIT_EXCEEDED"))
    wire.get(CUSTOMER, json={"id": "9"})
    assert client.get("customer", 9) == {"id": "9"}
    assert fake_time.sleeps == [0.5]  # base 0.5 s, first attempt, jitter at its ceiling


def test_R31_503_then_success_with_capped_exponential_backoff(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    for _ in range(5):
        wire.get(CUSTOMER, status=503, json=_err(503))
    wire.get(CUSTOMER, json={"id": "9"})
    client = make_client(retry=policy(fake_time, base_seconds=1.0, cap_seconds=5.0))
    assert client.get("customer", 9) == {"id": "9"}
    assert fake_time.sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_R31_backoff_is_jittered_below_the_ceiling(fake_time: FakeTime) -> None:
    seen: list[tuple[float, float]] = []

    def jitter(low: float, high: float) -> float:
        seen.append((low, high))
        return high / 3

    retry = policy(fake_time, jitter=jitter, base_seconds=2.0, cap_seconds=10.0)
    assert retry.backoff(1) == pytest.approx(2.0 / 3)
    assert retry.backoff(4) == pytest.approx(10.0 / 3)
    assert seen == [(0.0, 2.0), (0.0, 10.0)]


def test_R31_dropped_connection_then_success(
    wire: responses.RequestsMock, client: NetSuiteClient, fake_time: FakeTime
) -> None:
    dropped = requests.ConnectionError(ProtocolError("Connection aborted.",
                                                     ConnectionResetError(104, "reset")))
    wire.get(CUSTOMER, body=dropped)
    wire.get(CUSTOMER, body=requests.exceptions.ReadTimeout("read timed out"))
    wire.get(CUSTOMER, json={"id": "9"})
    assert client.get("customer", 9) == {"id": "9"}
    assert len(wire.calls) == 3 and len(fake_time.sleeps) == 2


def test_R31_gives_up_after_the_time_bound_with_a_clear_message(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    wire.get(CUSTOMER, status=503, json=_err(503, detail="down for maintenance"))
    client = make_client(retry=policy(fake_time, base_seconds=1.0, cap_seconds=4.0,
                                      max_attempts=100, max_total_seconds=10.0))
    with pytest.raises(NetSuiteServerError) as caught:
        client.get("customer", 9)
    # waits 1 + 2 + 4 = 7 s; the next 4 s would pass the 10 s bound, so it stops at 4 attempts
    assert fake_time.sleeps == [1.0, 2.0, 4.0]
    assert len(wire.calls) == 4
    message = str(caught.value)
    assert "gave up after 4 attempts over 7.0s" in message
    assert "GET /services/rest/record/v1/customer/9" in message
    assert "down for maintenance" in message
    assert caught.value.status == 503


def test_R31_gives_up_after_max_attempts(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    wire.get(CUSTOMER, status=429, json=_err(429))
    client = make_client(retry=policy(fake_time, max_attempts=3))
    with pytest.raises(NetSuiteRateLimited, match="gave up after 3 attempts"):
        client.get("customer", 9)
    assert len(wire.calls) == 3


def test_R31_retry_after_longer_than_the_bound_gives_up_at_once(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    wire.get(CUSTOMER, status=429, json=_err(429), headers={"Retry-After": "600"})
    client = make_client(retry=policy(fake_time, max_total_seconds=60.0))
    with pytest.raises(NetSuiteRateLimited, match="gave up after 1 attempts"):
        client.get("customer", 9)
    assert fake_time.sleeps == []


def test_R31_post_create_not_retried_after_503(
    wire: responses.RequestsMock, client: NetSuiteClient, fake_time: FakeTime
) -> None:
    wire.post(f"{RECORDS}/customer", status=503, json=_err(503))
    with pytest.raises(NetSuiteServerError) as caught:
        client.create("customer", {"companyName": "Acme"})
    assert len(wire.calls) == 1 and fake_time.sleeps == []
    assert "not retried" in str(caught.value) and "upsert" in str(caught.value)


def test_R31_post_create_not_retried_after_a_dropped_connection(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.post(f"{RECORDS}/customer", body=requests.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))))
    with pytest.raises(NetSuiteConnectionError) as caught:
        client.create("customer", {"companyName": "Acme"})
    assert not isinstance(caught.value, NetSuiteConnectFailed)
    assert len(wire.calls) == 1


@pytest.mark.parametrize("never_sent", [
    requests.exceptions.ConnectTimeout("connect timed out"),
    requests.ConnectionError(NewConnectionError(None, "Connection refused")),  # type: ignore[arg-type]
])
def test_R31_post_create_retried_when_the_connection_never_opened(
    wire: responses.RequestsMock, client: NetSuiteClient, never_sent: Exception
) -> None:
    wire.post(f"{RECORDS}/customer", body=never_sent)
    wire.post(f"{RECORDS}/customer", status=204, headers={"Location": f"{RECORDS}/customer/647"})
    assert client.create("customer", {"companyName": "Acme"}) == "647"
    assert len(wire.calls) == 2


def test_R31_post_create_retried_after_429_refusal(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.post(f"{RECORDS}/customer", status=429, json=_err(429, "CONCURRENCY_LIMIT_EXCEEDED"))
    wire.post(f"{RECORDS}/customer", status=204, headers={"Location": f"{RECORDS}/customer/648"})
    assert client.create("customer", {}) == "648"


def test_R31_post_create_429_not_retried_when_policy_says_so(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    wire.post(f"{RECORDS}/customer", status=429, json=_err(429))
    client = make_client(retry=policy(fake_time, retry_post_on_429=False))
    with pytest.raises(NetSuiteRateLimited):
        client.create("customer", {})
    assert len(wire.calls) == 1


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_R31_idempotent_writes_are_retried(
    wire: responses.RequestsMock, client: NetSuiteClient, method: str
) -> None:
    url = f"{RECORDS}/couponCode/eid:C1" if method == "PUT" else f"{RECORDS}/couponCode/5"
    wire.add(method, url, status=502, body="<html><body>Bad Gateway</body></html>")
    wire.add(method, url, status=204)
    if method == "PUT":
        client.upsert("couponCode", "C1", {"code": "C1"})
    elif method == "PATCH":
        client.patch("couponCode", 5, {"code": "C1"})
    else:
        client.delete("couponCode", 5)
    assert len(wire.calls) == 2


def test_R31_suiteql_post_is_retried(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.post(SUITEQL, status=500, json=_err(500, "UNEXPECTED_ERROR"))
    wire.post(SUITEQL, json={"items": [{"id": "1"}], "hasMore": False, "offset": 0, "count": 1})
    assert list(client.suiteql("SELECT id FROM customer")) == [{"id": "1"}]


def test_R31_401_retried_at_most_once_then_auth_error(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.get(CUSTOMER, status=401, json=_err(401, "INVALID_LOGIN", "Invalid login attempt."))
    with pytest.raises(NetSuiteAuthError) as caught:
        client.get("customer", 9)
    assert len(wire.calls) == 2
    assert caught.value.error_code == "INVALID_LOGIN" and caught.value.status == 401


def test_R31_401_from_over_concurrency_recovers_on_retry(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    wire.get(CUSTOMER, status=401, json=_err(401, "INVALID_LOGIN"))
    wire.get(CUSTOMER, status=401, json=_err(401, "INVALID_LOGIN"))
    wire.get(CUSTOMER, json={"id": "9"})
    client = make_client(retry=policy(fake_time, auth_retries=2))
    assert client.get("customer", 9) == {"id": "9"}
    assert len(wire.calls) == 3


# -- the error table ----------------------------------------------------------------------------

def test_R31_400_invalid_content_carries_code_detail_and_path(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.patch(f"{RECORDS}/promotionCode/42", status=400, json=_err(
        400, "INVALID_CONTENT", "Invalid value for the item.", "items.items[0].item"))
    with pytest.raises(NetSuiteBadRequest) as caught:
        client.patch("promotionCode", 42, {"items": {"items": [{"item": {"id": "x"}}]}})
    error = caught.value
    assert (error.status, error.error_code, error.error_path) == (
        400, "INVALID_CONTENT", "items.items[0].item")
    assert error.detail == "Invalid value for the item."
    assert (error.method, error.url) == ("PATCH", f"{RECORDS}/promotionCode/42")
    assert "INVALID_CONTENT" in str(error) and "items.items[0].item" in str(error)
    assert len(wire.calls) == 1  # a 400 is not retried


@pytest.mark.parametrize(("status", "code", "cls"), [
    (404, None, NetSuiteNotFound),
    (403, "INSUFFICIENT_PERMISSION", NetSuiteForbidden),
    (400, "USER_ERROR", NetSuiteBadRequest),
    (405, None, NetSuiteBadRequest),
])
def test_R31_status_maps_to_typed_error_without_retry(
    wire: responses.RequestsMock, client: NetSuiteClient, status: int, code: str | None,
    cls: type[Exception]
) -> None:
    wire.get(CUSTOMER, status=status, json=_err(status, code))
    with pytest.raises(cls) as caught:
        client.get("customer", 9)
    assert type(caught.value) is cls
    assert caught.value.status == status and caught.value.error_code == code  # type: ignore[attr-defined]
    assert len(wire.calls) == 1


@pytest.mark.parametrize(("status", "code", "cls"), [
    (429, None, NetSuiteRateLimited), (400, "CONCURRENCY_LIMIT_EXCEEDED", NetSuiteRateLimited),
    (500, None, NetSuiteServerError), (503, None, NetSuiteServerError),
    (401, "INVALID_LOGIN", NetSuiteAuthError), (400, "IDEMPOTENCY_ERROR",
                                                 NetSuiteIdempotencyConflict),
    (400, "INVALID_CONTENT", NetSuiteBadRequest), (404, None, NetSuiteNotFound),
])
def test_R31_one_table_decides_the_class(status: int, code: str | None, cls: type) -> None:
    assert error_class(status, code) is cls


@pytest.mark.parametrize(("status", "body"), [
    (200, "<html><head><title>Login</title></head><body>Please sign in</body></html>"),
    (400, "<!DOCTYPE html><html><body>Request rejected by proxy</body></html>"),
])
def test_R31_html_body_is_a_bad_response_with_status_and_snippet(
    wire: responses.RequestsMock, client: NetSuiteClient, status: int, body: str
) -> None:
    wire.get(CUSTOMER, status=status, body=body, content_type="text/html")
    with pytest.raises(NetSuiteBadResponse) as caught:
        client.get("customer", 9)
    assert caught.value.status == status
    assert str(status) in str(caught.value) and "<html>" in str(caught.value).lower()
    assert len(wire.calls) == 1


def test_R31_html_502_from_a_proxy_stays_retryable(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.get(CUSTOMER, status=502, body="<html><body>502 Bad Gateway</body></html>")
    wire.get(CUSTOMER, json={"id": "9"})
    assert client.get("customer", 9) == {"id": "9"}


def test_R31_empty_body_where_json_expected(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.get(CUSTOMER, status=200, body="")
    with pytest.raises(NetSuiteBadResponse, match="empty"):
        client.get("customer", 9)


def test_R31_truncated_json_is_a_bad_response_not_a_decode_error(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.get(CUSTOMER, status=200, body='{"id": "9", "companyName": "Ac')
    with pytest.raises(NetSuiteBadResponse) as caught:
        client.get("customer", 9)
    assert caught.value.status == 200
    assert '{"id": "9"' in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_R31_long_bodies_are_cut_to_a_snippet(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.get(CUSTOMER, status=200, body="<html>" + "x" * 5000)
    with pytest.raises(NetSuiteBadResponse) as caught:
        client.get("customer", 9)
    assert len(str(caught.value)) < 400


def test_R31_retry_after_parsing() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("12", now) == 12.0
    assert parse_retry_after("1.5", now) == 1.5
    assert parse_retry_after(email.utils.formatdate(now + 90, usegmt=True), now) == 90.0
    assert parse_retry_after(email.utils.formatdate(now - 90, usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_R31_errors_are_logged_without_headers(
    wire: responses.RequestsMock, client: NetSuiteClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="promosync.netsuite")
    wire.get(CUSTOMER, status=503, json=_err(503))
    wire.get(CUSTOMER, json={"id": "9"})
    client.get("customer", 9)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("promosync.netsuite")]
    assert "GET /services/rest/record/v1/customer/9 -> 503 attempt=1 elapsed=" in lines[0]
    assert any("-> 200 attempt=2" in line for line in lines)
    assert not any("OAuth" in line or "oauth_" in line for line in lines)
    assert BASE not in " ".join(lines)


def _closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return int(port)


def _dropping_server() -> tuple[socket.socket, int]:
    """A server that reads one request and closes the socket without answering."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return server, int(server.getsockname()[1])


def test_R31_real_sockets_refused_is_never_sent_but_dropped_may_have_landed() -> None:
    session = requests.Session()
    session.trust_env = False  # no proxy between us and 127.0.0.1
    transport = Transport(session=session, auth=token_auth(), timeout=5, concurrency=1)
    with pytest.raises(NetSuiteConnectFailed):
        transport.send("POST", f"http://127.0.0.1:{_closed_port()}/x", json_body={})
    server, port = _dropping_server()
    with pytest.raises(NetSuiteConnectionError) as caught:
        transport.send("POST", f"http://127.0.0.1:{port}/x", json_body={})
    server.close()
    assert not isinstance(caught.value, NetSuiteConnectFailed)
    assert transport.in_flight == 0
