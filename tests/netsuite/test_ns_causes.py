"""R38: a NetSuite that cannot be reached is said in the words of the failure (connection
refused, DNS name not found, TLS handshake, timed out), a connection never made is retried for
a few seconds only, and each retry's log line names the cause."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from connector.emulator import TEST_CREDENTIALS
from connector.netsuite import NetSuiteClient, NetSuiteConnectFailed, RetryPolicy, TokenAuth
from connector.netsuite._causes import cause, never_sent


def _client(url: str, retry: RetryPolicy | None = None) -> NetSuiteClient:
    c = TEST_CREDENTIALS
    auth = TokenAuth(account_id=c.account_id, consumer_key=c.consumer_key,
                     consumer_secret=c.consumer_secret, token_id=c.token_id,
                     token_secret=c.token_secret)
    return NetSuiteClient(account_id=c.account_id, auth=auth, base_url=url, retry=retry)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield int(s.getsockname()[1])


def _answer_plainly(server: socket.socket) -> None:
    conn, _ = server.accept()
    with conn:
        conn.recv(1024)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def _failure(url: str, **kwargs: float) -> requests.RequestException:
    try:
        requests.get(url, **kwargs)  # type: ignore[arg-type]
    except requests.RequestException as exc:
        return exc
    raise AssertionError(f"{url} answered")


def test_R38_causes_in_the_words_of_the_failure(silent_listener: int) -> None:
    refused = _failure(f"http://127.0.0.1:{_closed_port()}/", timeout=2)
    assert cause(refused) == "connection refused" and never_sent(refused)
    dns = _failure("http://no-such-host.invalid/", timeout=5)
    assert cause(dns) == "DNS name not found" and never_sent(dns)
    slow = _failure(f"http://127.0.0.1:{silent_listener}/", timeout=0.2)
    assert cause(slow) == "timed out waiting for the answer" and not never_sent(slow)
    with socket.socket() as plain:  # answers a TLS hello in plain HTTP
        plain.bind(("127.0.0.1", 0))
        plain.listen(1)
        answer = threading.Thread(target=_answer_plainly, args=(plain,), daemon=True)
        answer.start()
        tls = _failure(f"https://127.0.0.1:{plain.getsockname()[1]}/", timeout=5)
        answer.join(5)
    assert cause(tls).startswith("TLS handshake failed") and never_sent(tls)


def test_R38_a_refused_connection_is_retried_for_seconds_and_logged_with_its_cause(
        caplog: pytest.LogCaptureFixture) -> None:
    client = _client(f"http://127.0.0.1:{_closed_port()}", RetryPolicy())
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, "promosync.netsuite.retry"), \
            pytest.raises(NetSuiteConnectFailed) as caught:
        client.get("promotionCode", 1)
    elapsed = time.monotonic() - started
    client.close()
    assert elapsed < 5.0, elapsed  # was up to 41 s of backoff
    assert caught.value.detail == "connection refused"
    assert "connection refused" in str(caught.value)
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert retries and all("NetSuiteConnectFailed connection refused" in m for m in retries)


def test_R38_retry_log_names_status_and_code_of_an_http_error(
        caplog: pytest.LogCaptureFixture) -> None:
    from connector.errors import NetSuiteRateLimited
    from connector.netsuite._retry import reason

    assert reason(NetSuiteRateLimited("x", status=429, error_code="CONCURRENCY_LIMIT_EXCEEDED")
                  ) == "429 CONCURRENCY_LIMIT_EXCEEDED"
    assert reason(NetSuiteConnectFailed("x", detail="DNS name not found")) == "DNS name not found"
