"""One HTTP attempt against NetSuite: session, signer, timeout, concurrency slot, error table.

`Transport.send` does exactly one attempt and either returns a 2xx `requests.Response` or raises
a typed `NetSuiteError` (via `_errors_table`). Retrying is `_retry`'s job; because the auth
object runs inside `session.request`, every attempt is signed afresh (an OAuth 1.0 request
replayed with the same nonce and timestamp is refused with a 401).

A semaphore shared by every thread using the transport keeps in-flight requests <= concurrency
(NetSuite has one concurrency limit for the whole account,
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1500275531.html).
Each attempt is logged on "promosync.netsuite.http" with method, path, status, attempt and
elapsed time (DEBUG for 2xx, INFO otherwise); never headers, bodies or secrets.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from connector.errors import NetSuiteConnectionError, NetSuiteError
from connector.netsuite._causes import cause, never_sent
from connector.netsuite._errors_table import NetSuiteConnectFailed, error_from_response

log = logging.getLogger("promosync.netsuite.http")
USER_AGENT = "promosync-netsuite/0.1"


class Transport:
    """Sends one signed attempt through a shared `requests.Session` under a global semaphore."""

    def __init__(
        self,
        *,
        session: requests.Session,
        auth: AuthBase,
        timeout: float,
        concurrency: int,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.session = session
        self.auth = auth
        self.timeout = timeout
        self.concurrency = concurrency
        self._slots = threading.BoundedSemaphore(concurrency)
        self._count_lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.attempts = 0

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: str | None = None,
        headers: Mapping[str, str] | None = None,
        attempt: int = 1,
        timeout: float | None = None,
    ) -> requests.Response:
        """One attempt: a 2xx response, or a typed NetSuiteError (never a requests exception)."""
        all_headers = {"User-Agent": USER_AGENT}
        all_headers.update(headers or {})
        path = urlsplit(url).path
        offline = getattr(self.auth, "signs_offline", False) is True
        try:
            # Build (and, for TBA, sign afresh) before taking a slot: the slots are busy on the
            # wire only. An auth that may itself call the network (OAuth 2.0 token) signs inside.
            prepared = self.session.prepare_request(requests.Request(
                method, url, params=params, json=json_body, data=data, headers=all_headers))
            if offline:
                prepared = self.auth(prepared)
        except requests.RequestException as exc:
            raise self._connection_error(exc, method, url, path, attempt,
                                         time.monotonic()) from None
        with self._slots:
            self._enter()
            started = time.monotonic()
            try:
                if not offline:
                    prepared = self.auth(prepared)
                resp = self.session.send(prepared, timeout=timeout or self.timeout,
                                         allow_redirects=False)
            except NetSuiteError:
                raise
            except requests.RequestException as exc:
                raise self._connection_error(exc, method, url, path, attempt, started) from None
            finally:
                self._leave()
        elapsed = time.monotonic() - started
        ok = 200 <= resp.status_code < 300
        log.log(logging.DEBUG if ok else logging.INFO, "%s %s -> %s attempt=%d elapsed=%.3fs",
                method, path, resp.status_code, attempt, elapsed)
        if ok:
            return resp
        raise error_from_response(resp.status_code, resp.headers, resp.text,
                                  method=method, url=resp.url or url)

    def _connection_error(self, exc: requests.RequestException, method: str, url: str,
                          path: str, attempt: int, started: float) -> NetSuiteConnectionError:
        elapsed = time.monotonic() - started
        why = cause(exc)
        log.info("%s %s -> %s attempt=%d elapsed=%.3fs", method, path, why, attempt, elapsed)
        cls = NetSuiteConnectFailed if never_sent(exc) else NetSuiteConnectionError
        what = "could not connect" if cls is NetSuiteConnectFailed else "connection failed"
        # `detail` carries the cause: the retry log and the sync run's error list show it
        return cls(f"NetSuite {what} ({method} {path}): {why}", method=method, url=url,
                   detail=why)

    def _enter(self) -> None:
        with self._count_lock:
            self.in_flight += 1
            self.attempts += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._count_lock:
            self.in_flight -= 1
