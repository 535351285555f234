"""Counting a NetSuite client's HTTP responses while a sync job runs: every attempt (retries
included), the writes, the SuiteQL pages and the answers per status (429s for the reports)."""

from __future__ import annotations

import threading
from typing import Any

import requests

from connector.netsuite import NetSuiteClient


class RequestCounter:
    """Counts the responses of `client`'s session from now until `close()`."""

    def __init__(self, client: NetSuiteClient) -> None:
        self._lock = threading.Lock()
        self._client = client
        self.count = 0
        self.writes = 0  # PUT, PATCH, DELETE and POST other than SuiteQL
        self.pages = 0  # SuiteQL answers
        self.by_status: dict[int, int] = {}
        client.session.hooks.setdefault("response", []).append(self._hook)

    def _hook(self, resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        method = str(resp.request.method)
        query = "/query/" in str(resp.request.url)
        with self._lock:
            self.count += 1
            self.by_status[resp.status_code] = self.by_status.get(resp.status_code, 0) + 1
            if query:
                self.pages += 1
            elif method in ("PUT", "PATCH", "DELETE", "POST"):
                self.writes += 1

    def close(self) -> None:
        """Stop counting (the client goes on being used by others)."""
        hooks = self._client.session.hooks.get("response", [])
        if self._hook in hooks:
            hooks.remove(self._hook)
