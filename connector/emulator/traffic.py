"""What the emulator has served: requests per route, statuses, injected faults, requests in flight.

One `Traffic` per emulator: the router counts into it, the control API reads and clears it
(GET /__emulator__/stats, POST /__emulator__/reset). Thread-safe: the HTTP transport serves
requests on several threads.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Traffic:
    """Counters of one emulator's requests (status 0 = the connection was dropped)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.faults_injected: Counter[str] = Counter()

    def enter(self, limit: int | None) -> bool:
        """A request starts; whether it is over the concurrency `limit` (None = no limit)."""
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return limit is not None and self.in_flight > limit

    def leave(self, route: str, status: int) -> None:
        """A request on `route` ended with `status` (0 = dropped)."""
        with self._lock:
            self.in_flight -= 1
            self.requests[route] += 1
            self.statuses[status] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults_injected[kind] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": dict(self.requests), "statuses": {str(k): v for k, v in
                                                                 self.statuses.items()},
                    "faults": dict(self.faults_injected), "in_flight": self.in_flight,
                    "max_in_flight": self.max_in_flight}

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.statuses.clear()
            self.faults_injected.clear()
            self.max_in_flight = self.in_flight
