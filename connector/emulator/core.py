"""Emulator: one backend plus its templates, authenticator, async jobs, handlers, faults,
traffic counters, control actions and router.

Both transports (`inprocess.mock_netsuite`, `http_server.EmulatorServer`) wrap one `Emulator` and
call `dispatch`; everything they share is made and wired here, and each part gets only the
parts it uses (nothing below holds the emulator).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connector.emulator.asyncjobs import AsyncJobs
from connector.emulator.auth import Authenticator
from connector.emulator.backend import NetSuiteBackend
from connector.emulator.control import Control
from connector.emulator.faults import Faults
from connector.emulator.handlers import Handlers
from connector.emulator.options import Credentials, EmulatorOptions
from connector.emulator.routes import Router, build_routes
from connector.emulator.templates import Templates
from connector.emulator.traffic import Traffic
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
        self.jobs = AsyncJobs(self.backend, self.templates)
        self.handlers = Handlers(self.backend, self.templates, self.auth, self.jobs)
        self.faults = Faults(seed=o.seed, concurrency_limit=o.concurrency_limit)
        if o.latency_ms or o.latency_jitter_ms or o.rate_429 or o.rate_5xx or o.rate_drop:
            self.faults.set(latency_ms=o.latency_ms, jitter_ms=o.latency_jitter_ms,
                            rate_429=o.rate_429, rate_5xx=o.rate_5xx, rate_drop=o.rate_drop)
        self.traffic = Traffic()
        self.control = Control(self.backend, self.faults, self.traffic)
        self.router = Router(build_routes(self.handlers, self.control), self.handlers, self.auth,
                             self.faults, self.traffic, o)

    @property
    def credentials(self) -> Credentials:
        return self.options.credentials

    def dispatch(self, req: Request) -> Response:
        return self.router.dispatch(req)

    def stats(self) -> dict[str, Any]:
        """Requests per route, statuses, injected faults, in-flight now and at most."""
        return self.traffic.stats()

    def reset(self) -> None:
        """Empty the database, clear faults and counters."""
        self.control.reset()

    # Conveniences mirroring the control API.
    def simulate_redemption(self, code: str, customer_id: int | None = None,
                            at: str | datetime | None = None) -> int:
        return self.backend.simulate_redemption(code, customer_id, at)

    def add_coupon_to_transaction(self, transaction_id: int, code: str) -> None:
        self.backend.add_coupon_to_transaction(transaction_id, code)

    def cancel_transaction(self, transaction_id: int) -> None:
        self.backend.cancel_transaction(transaction_id)
