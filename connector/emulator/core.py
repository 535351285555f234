"""Emulator: one backend plus its templates, authenticator, handlers, faults and router.

Both transports (`inprocess.mock_netsuite`, `http_server.EmulatorServer`) wrap one `Emulator` and
call `dispatch`; everything they share is here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connector.emulator.auth import Authenticator
from connector.emulator.backend import NetSuiteBackend
from connector.emulator.control import Control
from connector.emulator.faults import Faults
from connector.emulator.handlers import Handlers
from connector.emulator.options import Credentials, EmulatorOptions
from connector.emulator.routes import Router
from connector.emulator.templates import Templates
from connector.emulator.wire import Request, Response


class Emulator:
    """The whole emulator behind a transport."""

    def __init__(self, options: EmulatorOptions | None = None,
                 backend: NetSuiteBackend | None = None) -> None:
        self.backend = backend or NetSuiteBackend(options)
        self.options = self.backend.options
        o = self.options
        self.templates = Templates(o.fixtures_dir)
        self.auth = Authenticator(self.backend.db, o)
        self.handlers = Handlers(self.backend, self.templates, self.auth)
        self.faults = Faults(seed=o.seed, concurrency_limit=o.concurrency_limit)
        if o.latency_ms or o.latency_jitter_ms or o.rate_429 or o.rate_5xx or o.rate_drop:
            self.faults.set(latency_ms=o.latency_ms, jitter_ms=o.latency_jitter_ms,
                            rate_429=o.rate_429, rate_5xx=o.rate_5xx, rate_drop=o.rate_drop)
        self.control = Control(self)
        self.router = Router(self)

    @property
    def credentials(self) -> Credentials:
        return self.options.credentials

    def dispatch(self, req: Request) -> Response:
        return self.router.dispatch(req)

    def stats(self) -> dict[str, Any]:
        """Requests per route, statuses, injected faults, in-flight now and at most."""
        return self.router.stats()

    def reset(self) -> None:
        """Empty the database, clear faults and counters."""
        self.backend.reset()
        self.faults.clear(seed=self.options.seed)
        self.router.reset_stats()

    # Conveniences mirroring the control API.
    def simulate_redemption(self, code: str, customer_id: int | None = None,
                            at: str | datetime | None = None) -> int:
        return self.backend.simulate_redemption(code, customer_id, at)

    def add_coupon_to_transaction(self, transaction_id: int, code: str) -> None:
        self.backend.add_coupon_to_transaction(transaction_id, code)

    def cancel_transaction(self, transaction_id: int) -> None:
        self.backend.cancel_transaction(transaction_id)
