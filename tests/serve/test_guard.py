"""R41: after N refused codes from one key or address within M seconds, further scans from it
are refused with 429 for a while, and the event is logged (naming the key, never the key)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.serve.guard import GuessGuard
from tests.serve.conftest import Served, start

CART = {"lines": [{"item": "SHIRT", "amount": "40.00"}]}


@pytest.fixture
def guarded(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
            ) -> Iterator[Served]:
    yield from start(sqlite_url, tmp_path, monkeypatch, guard_refusals=3, guard_window=30,
                     guard_block=1.5)


def test_R41_refused_codes_lead_to_429_then_lift(guarded: Served,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="connector.serve.guard")
    good = guarded.codes(count=1)[0]
    sale = guarded.call("POST", "/v1/transactions", json=CART).json()["id"]
    for n in range(3):
        refused = guarded.call("POST", f"/v1/transactions/{sale}/codes",
                               json={"code": f"SU-GUESS{n:08d}"})
        assert refused.status_code == 422
    blocked = guarded.call("POST", f"/v1/transactions/{sale}/codes", json={"code": good})
    assert blocked.status_code == 429
    assert blocked.json()["error"]["type"] == "too_many_refused_codes"
    assert int(blocked.headers["Retry-After"]) >= 1
    # validate is a scan too; the other endpoints are not guarded
    assert guarded.call("POST", "/v1/validate", json={"code": good}).status_code == 429
    assert guarded.call("GET", f"/v1/transactions/{sale}").status_code == 200
    # the address is blocked too: another key from it waits as well
    assert guarded.call("POST", "/v1/validate", key="webstore",
                        json={"code": good}).status_code == 429
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("test-register" in w and "refused for" in w for w in warnings), warnings
    assert all(k not in "\n".join(warnings) for k in guarded.keys.values())
    time.sleep(1.7)
    assert guarded.call("POST", f"/v1/transactions/{sale}/codes",
                        json={"code": good}).status_code == 201


def test_R41_guard_counts_only_within_the_window() -> None:
    now = [0.0]
    blocked: list[str] = []
    guard = GuessGuard(3, window=10, block=60, clock=lambda: now[0], on_block=blocked.append)
    for step in (0, 6, 12, 18):  # never 3 within 10 seconds
        now[0] = step
        guard.refused("key a")
    assert guard.wait_for("key a") == 0 and blocked == []
    for step in (20, 21):
        now[0] = step
        guard.refused("key a")
    assert guard.wait_for("key a") == pytest.approx(59) and len(blocked) == 1
    assert guard.wait_for("key b") == 0
    now[0] = 82
    assert guard.wait_for("key a") == 0
