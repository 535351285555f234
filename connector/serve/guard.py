"""The guard against guessing (R41): too many refused codes from one client, and it must wait.

Each refused code (a scan or a validate that R13 refuses) counts against the API key and the
client address that sent it. When either has `limit` refusals within `window` seconds, further
scans and validates from it are answered 429 for `block` seconds, and the event is logged once
as a WARNING naming the key (by name, never the key) and the address. Counts live in the
server's memory: a restart forgets them, and each server process counts its own clients.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from connector.alerts import guard_locked_out

log = logging.getLogger(__name__)


@dataclass
class _Track:
    refusals: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0


class GuessGuard:
    """Refusal counts per client (an API key, an address)."""

    def __init__(self, limit: int, window: float, block: float,
                 clock: Callable[[], float] = time.monotonic,
                 on_block: Callable[[str], None] | None = None) -> None:
        self.limit = limit
        self.window = window
        self.block = block
        self.clock = clock
        self.on_block = on_block
        self._tracks: dict[str, _Track] = {}
        self._lock = threading.Lock()

    def wait_for(self, *clients: str) -> float:
        """Seconds until every one of `clients` may scan again (0: now)."""
        now = self.clock()
        with self._lock:
            until = [t.blocked_until for c in clients if (t := self._tracks.get(c)) is not None]
        return max([0.0, *(u - now for u in until)])

    def refused(self, *clients: str) -> None:
        """Count one refused code against each of `clients`; block those over the limit."""
        now = self.clock()
        blocked: list[str] = []
        with self._lock:
            for client in clients:
                track = self._tracks.setdefault(client, _Track())
                track.refusals.append(now)
                while track.refusals and track.refusals[0] <= now - self.window:
                    track.refusals.popleft()
                if len(track.refusals) >= self.limit and track.blocked_until <= now:
                    track.blocked_until = now + self.block
                    track.refusals.clear()
                    blocked.append(client)
            if len(self._tracks) > 100_000:
                self._forget(now)
        for client in blocked:
            text = (f"guessing guard: {client} had {self.limit} codes refused within "
                    f"{self.window:g} s; its scans are refused for {self.block:g} s")
            log.warning("%s", text)
            guard_locked_out(text)  # R44: alerted where promosync.toml has targets for it
            if self.on_block is not None:
                self.on_block(text)

    def _forget(self, now: float) -> None:
        """Drop clients with nothing recent, so that many addresses cannot fill the memory."""
        for client in [c for c, t in self._tracks.items()
                       if t.blocked_until <= now and
                       (not t.refusals or t.refusals[-1] <= now - self.window)]:
            del self._tracks[client]
