"""Fault injection: latency, 429s, 5xx and dropped connections, per route, deterministic.

Rules match a request by regexes on method and path; every decision draws from one seeded
`random.Random` (option `seed`), so a test sees the same faults on every run. A rule with
`after=True` strikes once the request has been served (its write applied): the latency delays
the answer, a drop loses it, a 429/5xx replaces it - the client cannot tell that NetSuite did
the work. The concurrency limit lives here too; `routes.py` applies both (429
CONCURRENCY_LIMIT_EXCEEDED: clients must back off and retry, Oracle section_1504769959).
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field


@dataclass
class FaultRule:
    """Faults for requests whose method and path match the regexes (searched, not anchored)."""

    path: str = ""
    method: str = ""
    latency_ms: float = 0.0
    jitter_ms: float = 0.0  # extra uniform random latency 0..jitter_ms
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_drop: float = 0.0
    status_5xx: int = 503
    after: bool = False  # strike after the request was served (its write applied)
    _path_re: re.Pattern[str] = field(init=False, repr=False)
    _method_re: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._path_re = re.compile(self.path)
        self._method_re = re.compile(self.method, re.IGNORECASE)

    def matches(self, method: str, path: str) -> bool:
        return bool(self._path_re.search(path) and self._method_re.search(method))


@dataclass(frozen=True)
class Decision:
    """What to do with one request: sleep `delay` seconds, then `action` (None = serve)."""

    delay: float = 0.0
    action: str | None = None  # "429", "5xx" or "drop"
    status: int = 0
    after: bool = False  # serve first, then sleep and act


SERVE = Decision()


class Faults:
    """The active fault rules and the concurrency limit. Thread-safe."""

    def __init__(self, seed: int = 0, concurrency_limit: int | None = None) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.rules: list[FaultRule] = []
        self.concurrency_limit = concurrency_limit

    def set(self, *, latency_ms: float = 0.0, jitter_ms: float = 0.0, rate_429: float = 0.0,
            rate_5xx: float = 0.0, rate_drop: float = 0.0, path: str = "", method: str = "",
            status_5xx: int = 503, after: bool = False) -> FaultRule:
        """Add a rule (all routes when `path` and `method` are empty) and return it; `after`
        strikes once the request has been served."""
        for rate in (rate_429, rate_5xx, rate_drop):
            if not 0.0 <= rate <= 1.0:
                raise ValueError("fault rates are between 0 and 1")
        rule = FaultRule(path, method, latency_ms, jitter_ms, rate_429, rate_5xx, rate_drop,
                         status_5xx, after)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self, *, seed: int | None = None) -> None:
        """Remove every rule and the concurrency limit; optionally re-seed."""
        with self._lock:
            self.rules.clear()
            self.concurrency_limit = None
            if seed is not None:
                self._random.seed(seed)

    @property
    def active(self) -> bool:
        return bool(self.rules)

    def decide(self, method: str, path: str) -> Decision:
        """Draw this request's fate from the first matching rule (one draw per rate)."""
        if not self.rules:
            return SERVE
        with self._lock:
            rule = next((r for r in self.rules if r.matches(method, path)), None)
            if rule is None:
                return SERVE
            delay = rule.latency_ms / 1000.0
            if rule.jitter_ms:
                delay += self._random.uniform(0.0, rule.jitter_ms) / 1000.0
            draw = self._random.random()
        after = rule.after
        if draw < rule.rate_drop:
            return Decision(delay, "drop", 0, after)
        if draw < rule.rate_drop + rule.rate_429:
            return Decision(delay, "429", 429, after)
        if draw < rule.rate_drop + rule.rate_429 + rule.rate_5xx:
            return Decision(delay, "5xx", rule.status_5xx, after)
        return Decision(delay, None, 0, after)
