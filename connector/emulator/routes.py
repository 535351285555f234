"""The route table and the one dispatch both transports use; faults and limits apply here.

Every path the emulator answers is a row of `ROUTE_TABLE`: NetSuite's REST API (a `Handlers`
method; OAuth checked unless the row is OPEN) and the control API under /__emulator__/ (a
`Control` method, no OAuth, no faults, not counted). Order per NetSuite request: concurrency
limit (429 CONCURRENCY_LIMIT_EXCEEDED) -> fault rule (latency, drop, 429, 5xx; a rule marked
`after` strikes once the handler ran) -> route match (404/405) -> authentication (401) ->
handler. An unexpected exception becomes NetSuite's 500 UNEXPECTED_ERROR body (hotglue
tap-netsuite-rest saw it for invalid SuiteQL); the emulator never crashes on a request.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from connector.emulator.apierror import ApiError
from connector.emulator.auth import Authenticator
from connector.emulator.control import Control, endpoint, unknown_action
from connector.emulator.faults import Faults
from connector.emulator.handlers import Handlers
from connector.emulator.options import EmulatorOptions
from connector.emulator.traffic import Traffic
from connector.emulator.wire import Drop, Request, Response

log = logging.getLogger(__name__)
Handler = Callable[[Request, dict[str, str]], Response]
R = "/services/rest"
_REC = R + r"/record/v1/(?P<type>[A-Za-z]+)"
_JOB = R + r"/async/v1/job/(?P<job>[^/]+)"
CONTROL_PREFIX = "/__emulator__/"
_C = "/__emulator__/+"  # control paths: /__emulator__/{name}, extra slashes allowed
AUTH, OPEN, CONTROL = "auth", "open", "control"  # Handlers method with / without OAuth; Control

# (name, methods, path regex, method of Handlers or Control, access)
ROUTE_TABLE: tuple[tuple[str, str, str, str, str], ...] = (
    ("metadata.list", "GET", R + "/record/v1/metadata-catalog/?", "catalog", AUTH),
    ("metadata.record", "GET", R + r"/record/v1/metadata-catalog/(?P<mtype>[A-Za-z]+)/?",
     "catalog", AUTH),
    ("record.list", "GET", _REC + "/?", "list_records", AUTH),
    ("record.create", "POST", _REC + "/?", "create", AUTH),
    ("record.batch", "PUT PATCH DELETE", _REC + "/?", "batch", AUTH),
    ("record.get", "GET", _REC + "/(?P<id>[^/]+)", "get_record", AUTH),
    ("record.patch", "PATCH", _REC + "/(?P<id>[^/]+)", "patch", AUTH),
    ("record.put", "PUT", _REC + "/(?P<id>[^/]+)", "put", AUTH),
    ("record.delete", "DELETE", _REC + "/(?P<id>[^/]+)", "delete", AUTH),
    ("record.sublist", "GET", _REC + "/(?P<id>[^/]+)/(?P<sub>[A-Za-z]+)", "get_sublist", AUTH),
    ("suiteql", "POST", R + "/query/v1/suiteql", "suiteql", AUTH),
    ("async.job", "GET", _JOB, "job", AUTH),
    ("async.tasks", "GET", _JOB + "/task/?", "tasks", AUTH),
    ("async.task", "GET", _JOB + "/task/(?P<task>[^/]+)", "task", AUTH),
    ("async.result", "GET", _JOB + "/task/(?P<task>[^/]+)/result", "task_result", AUTH),
    ("governance", "GET", R + "/system/v1/governanceLimits", "governance", AUTH),
    ("oauth2.token", "POST", R + "/auth/oauth2/v1/token", "token", OPEN),
    ("control.reset", "POST", _C + "reset/*", "reset", CONTROL),
    ("control.seed", "POST", _C + "seed/*", "seed", CONTROL),
    ("control.dump", "GET", _C + "dump/*", "dump", CONTROL),
    ("control.stats", "GET", _C + "stats/*", "stats", CONTROL),
    ("control.faults", "POST", _C + "faults/*", "set_faults", CONTROL),
    ("control.redeem", "POST", _C + "redeem/*", "redeem", CONTROL),
    ("control.order", "POST", _C + "order/*", "order", CONTROL),
    ("control.add_coupon", "POST", _C + "add_coupon/*", "add_coupon", CONTROL),
    ("control.cancel", "POST", _C + "cancel/*", "cancel", CONTROL),
    ("control.discount", "GET", _C + "discount/*", "discount", CONTROL),
    ("control.refresh", "POST", _C + "refresh/*", "refresh", CONTROL),
)


@dataclass(frozen=True)
class Route:
    name: str
    methods: frozenset[str]
    regex: re.Pattern[str]
    handler: Handler
    access: str


def build_routes(handlers: Handlers, control: Control) -> list[Route]:
    """The rows of ROUTE_TABLE bound to their handlers (control actions wrapped by `endpoint`)."""
    routes = []
    for name, methods, rx, attr, access in ROUTE_TABLE:
        handler = endpoint(getattr(control, attr)) if access == CONTROL else getattr(handlers, attr)
        routes.append(Route(name, frozenset(methods.split()), re.compile(rx + "$"), handler,
                            access))
    return routes


def _match(routes: list[Route], req: Request) -> tuple[Route | None, dict[str, str]]:
    for route in routes:
        m = route.regex.match(req.path)
        if m and req.method in route.methods:
            return route, {k: unquote(v) for k, v in m.groupdict().items()}
    return None, {}


class Router:
    """Matches requests to handlers, applies faults and the concurrency limit, counts."""

    def __init__(self, routes: list[Route], handlers: Handlers, auth: Authenticator,
                 faults: Faults, traffic: Traffic, options: EmulatorOptions) -> None:
        self.routes = [r for r in routes if r.access != CONTROL]
        self.control_routes = [r for r in routes if r.access == CONTROL]
        self.handlers = handlers
        self.auth = auth
        self.faults = faults
        self.traffic = traffic
        self.options = options

    def dispatch(self, req: Request) -> Response:
        """Answer one request (raises Drop when a fault drops the connection)."""
        if req.path.startswith(CONTROL_PREFIX):
            return self._control(req)
        over = self.traffic.enter(self.faults.concurrency_limit)
        status = 0
        name = "unmatched"
        try:
            route, params = self.match(req)
            name = route.name if route else name
            resp = self._limited(req) if over else self._serve(req, route, params)
            status = resp.status
            return resp
        finally:
            self.traffic.leave(name, status)  # status 0 = dropped

    def _control(self, req: Request) -> Response:
        route, params = _match(self.control_routes, req)
        try:
            if route is None:
                raise unknown_action(req, req.path.removeprefix(CONTROL_PREFIX).strip("/"))
            return route.handler(req, params)
        except ApiError as err:
            return self.handlers.error(err)

    def _limited(self, req: Request) -> Response:
        self.traffic.fault("concurrency")
        return self._too_many("CONCURRENCY_LIMIT_EXCEEDED",
                              "Concurrent request limit exceeded. Request blocked.")

    def _too_many(self, code: str, detail: str) -> Response:
        # 429 + CONCURRENCY_LIMIT_EXCEEDED (body UNCONFIRMED); Retry-After UNCONFIRMED.
        headers = {}
        if self.options.send_retry_after:
            headers["Retry-After"] = str(self.options.retry_after_seconds)
        return self.handlers.error(ApiError(429, code, detail, headers=headers))

    def _serve(self, req: Request, route: Route | None, params: dict[str, str]) -> Response:
        decision = self.faults.decide(req.method, req.path)
        served = self._handle(req, route, params) if decision.after else None
        if decision.delay:
            time.sleep(decision.delay)
        if decision.action is not None:
            self.traffic.fault(decision.action)
            if decision.action == "drop":
                raise Drop()
            if decision.action == "429":
                return self._too_many("CONCURRENCY_LIMIT_EXCEEDED",
                                      "Concurrent request limit exceeded. Request blocked.")
            return self.handlers.error(ApiError(
                decision.status, "UNEXPECTED_ERROR",
                "An unexpected error occurred. Error ID: emulator-fault"))
        return served if served is not None else self._handle(req, route, params)

    def match(self, req: Request) -> tuple[Route | None, dict[str, str]]:
        return _match(self.routes, req)

    def _handle(self, req: Request, route: Route | None, params: dict[str, str]) -> Response:
        try:
            if route is None:
                raise self._no_route(req)
            if route.access == AUTH:
                self.auth.check(req.method, req.url, req.headers, req.body)
            return route.handler(req, params)
        except ApiError as err:
            return self.handlers.error(err)
        except Exception:  # noqa: BLE001 - never crash: answer like NetSuite's 500
            log.exception("emulator error on %s %s", req.method, req.path)
            return self.handlers.error(ApiError(
                500, "UNEXPECTED_ERROR", "An unexpected error occurred in the emulator."))

    def _no_route(self, req: Request) -> ApiError:
        if any(r.regex.match(req.path) for r in self.routes):
            return ApiError(405, "INVALID_METHOD",
                            f"The method {req.method} is not allowed on {req.path}.")
        # UNCONFIRMED: NetSuite's body for an unknown URL.
        return ApiError(404, "NONEXISTENT_ID", f"There is no resource at {req.path}.")
