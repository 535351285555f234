"""The route table and the one dispatch both transports use; faults and limits apply here.

Order per request: control routes (/__emulator__/, no OAuth, no faults) -> concurrency limit
(429 CONCURRENCY_LIMIT_EXCEEDED) -> fault rule (latency, drop, 429, 5xx; a rule marked `after`
strikes once the handler ran) -> route match (404/405) -> authentication (401) -> handler. An
unexpected exception becomes NetSuite's 500 UNEXPECTED_ERROR body (hotglue tap-netsuite-rest
saw it for invalid SuiteQL); the emulator never crashes on a request.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from connector.emulator.apierror import ApiError
from connector.emulator.wire import Drop, Request, Response

if TYPE_CHECKING:
    from connector.emulator.core import Emulator

log = logging.getLogger(__name__)
Handler = Callable[[Request, dict[str, str]], Response]
R = "/services/rest"
_REC = R + r"/record/v1/(?P<type>[A-Za-z]+)"
_JOB = R + r"/async/v1/job/(?P<job>[^/]+)"

# (name, methods, path regex, handler attribute, needs auth)
ROUTE_TABLE: tuple[tuple[str, str, str, str, bool], ...] = (
    ("metadata.list", "GET", R + "/record/v1/metadata-catalog/?", "catalog", True),
    ("metadata.record", "GET", R + r"/record/v1/metadata-catalog/(?P<mtype>[A-Za-z]+)/?",
     "catalog", True),
    ("record.list", "GET", _REC + "/?", "list_records", True),
    ("record.create", "POST", _REC + "/?", "create", True),
    ("record.batch", "PUT PATCH DELETE", _REC + "/?", "batch", True),
    ("record.get", "GET", _REC + "/(?P<id>[^/]+)", "get_record", True),
    ("record.patch", "PATCH", _REC + "/(?P<id>[^/]+)", "patch", True),
    ("record.put", "PUT", _REC + "/(?P<id>[^/]+)", "put", True),
    ("record.delete", "DELETE", _REC + "/(?P<id>[^/]+)", "delete", True),
    ("record.sublist", "GET", _REC + "/(?P<id>[^/]+)/(?P<sub>[A-Za-z]+)", "get_sublist", True),
    ("suiteql", "POST", R + "/query/v1/suiteql", "suiteql", True),
    ("async.job", "GET", _JOB, "job", True),
    ("async.tasks", "GET", _JOB + "/task/?", "tasks", True),
    ("async.task", "GET", _JOB + "/task/(?P<task>[^/]+)", "task", True),
    ("async.result", "GET", _JOB + "/task/(?P<task>[^/]+)/result", "task_result", True),
    ("governance", "GET", R + "/system/v1/governanceLimits", "governance", True),
    ("oauth2.token", "POST", R + "/auth/oauth2/v1/token", "token", False),
)
CONTROL_PREFIX = "/__emulator__/"


@dataclass(frozen=True)
class Route:
    name: str
    methods: frozenset[str]
    regex: re.Pattern[str]
    handler: Handler
    auth: bool


class Router:
    """Matches requests to handlers, applies faults and the concurrency limit, counts."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator
        h = emulator.handlers
        self.routes = [Route(name, frozenset(methods.split()), re.compile(rx + "$"),
                             getattr(h, attr), auth)
                       for name, methods, rx, attr, auth in ROUTE_TABLE]
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.faults_injected: Counter[str] = Counter()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": dict(self.requests), "statuses": {str(k): v for k, v in
                                                                 self.statuses.items()},
                    "faults": dict(self.faults_injected), "in_flight": self.in_flight,
                    "max_in_flight": self.max_in_flight}

    def reset_stats(self) -> None:
        with self._lock:
            self.requests.clear()
            self.statuses.clear()
            self.faults_injected.clear()
            self.max_in_flight = self.in_flight

    def dispatch(self, req: Request) -> Response:
        """Answer one request (raises Drop when a fault drops the connection)."""
        if req.path.startswith(CONTROL_PREFIX):
            return self.emu.control.dispatch(req)
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            over = self._over_limit()
        status = 0
        name = "unmatched"
        try:
            route, params = self.match(req)
            name = route.name if route else name
            resp = self._limited(req) if over else self._serve(req, route, params)
            status = resp.status
            return resp
        finally:
            with self._lock:
                self.in_flight -= 1
                self.requests[name] += 1
                self.statuses[status] += 1  # 0 = dropped

    def _over_limit(self) -> bool:
        limit = self.emu.faults.concurrency_limit
        return limit is not None and self.in_flight > limit

    def _limited(self, req: Request) -> Response:
        with self._lock:
            self.faults_injected["concurrency"] += 1
        return self._too_many("CONCURRENCY_LIMIT_EXCEEDED",
                              "Concurrent request limit exceeded. Request blocked.")

    def _too_many(self, code: str, detail: str) -> Response:
        # 429 + CONCURRENCY_LIMIT_EXCEEDED (body UNCONFIRMED); Retry-After UNCONFIRMED.
        headers = {}
        if self.emu.options.send_retry_after:
            headers["Retry-After"] = str(self.emu.options.retry_after_seconds)
        return self.emu.handlers.error(ApiError(429, code, detail, headers=headers))

    def _serve(self, req: Request, route: Route | None, params: dict[str, str]) -> Response:
        decision = self.emu.faults.decide(req.method, req.path)
        served = self._handle(req, route, params) if decision.after else None
        if decision.delay:
            time.sleep(decision.delay)
        if decision.action is not None:
            with self._lock:
                self.faults_injected[decision.action] += 1
            if decision.action == "drop":
                raise Drop()
            if decision.action == "429":
                return self._too_many("CONCURRENCY_LIMIT_EXCEEDED",
                                      "Concurrent request limit exceeded. Request blocked.")
            return self.emu.handlers.error(ApiError(
                decision.status, "UNEXPECTED_ERROR",
                "An unexpected error occurred. Error ID: emulator-fault"))
        return served if served is not None else self._handle(req, route, params)

    def match(self, req: Request) -> tuple[Route | None, dict[str, str]]:
        for route in self.routes:
            m = route.regex.match(req.path)
            if m and req.method in route.methods:
                return route, {k: unquote(v) for k, v in m.groupdict().items()}
        return None, {}

    def _handle(self, req: Request, route: Route | None, params: dict[str, str]) -> Response:
        try:
            if route is None:
                raise self._no_route(req)
            if route.auth:
                self.emu.auth.check(req.method, req.url, req.headers, req.body)
            return route.handler(req, params)
        except ApiError as err:
            return self.emu.handlers.error(err)
        except Exception:  # noqa: BLE001 - never crash: answer like NetSuite's 500
            log.exception("emulator error on %s %s", req.method, req.path)
            return self.emu.handlers.error(ApiError(
                500, "UNEXPECTED_ERROR", "An unexpected error occurred in the emulator."))

    def _no_route(self, req: Request) -> ApiError:
        if any(r.regex.match(req.path) for r in self.routes):
            return ApiError(405, "INVALID_METHOD",
                            f"The method {req.method} is not allowed on {req.path}.")
        # UNCONFIRMED: NetSuite's body for an unknown URL.
        return ApiError(404, "NONEXISTENT_ID", f"There is no resource at {req.path}.")
