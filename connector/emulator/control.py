"""The control API under /__emulator__/: what happens in the account outside promosync.

    POST /__emulator__/reset                          forget everything
    POST /__emulator__/seed        {"customers", "items", "discountItems"} or {"samples": true}
    GET  /__emulator__/dump        counts and a summary per promotion
    GET  /__emulator__/stats       requests, statuses, faults, in flight
    POST /__emulator__/faults      {"latency_ms", "rate_drop", ..., "after": true, "clear"}
    POST /__emulator__/redeem      {"code", "customer"?, "at"?} -> {"transaction"}
    POST /__emulator__/order       {"customer"?, "at"?} -> {"transaction"} (no code)
    POST /__emulator__/add_coupon  {"transaction", "code"}: an existing order now uses a code
    POST /__emulator__/cancel      {"transaction"}
    GET  /__emulator__/discount    ?promotion=ID -> {"meaning": "percent" | "amount" | null}
    POST /__emulator__/refresh     {"mode": "save" | "wipe" | "older" | "tokens"}: a sandbox
                                   refresh (refresh.py)

Not part of NetSuite and not subject to OAuth or faults: tests and demos drive the emulator
with it over HTTP (the same methods on `NetSuiteBackend` / `Emulator` work in-process). `at` is
'YYYY-MM-DD HH:MM:SS' in the account's time zone, or ISO 8601 with Z or an offset. The paths are
rows of the route table (`routes.py`); each names one `Control` method, which takes the request's
JSON object (query parameters added) and returns the answer's. `endpoint` turns such a method
into a route handler.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from connector.emulator.apierror import ApiError
from connector.emulator.backend import NetSuiteBackend
from connector.emulator.faults import Faults
from connector.emulator.refresh import Refresher
from connector.emulator.traffic import Traffic
from connector.emulator.wire import Request, Response

Body = dict[str, Any]
Action = Callable[[Body], Body]

_FAULT_KEYS = ("latency_ms", "jitter_ms", "rate_429", "rate_5xx", "rate_drop", "path", "method",
               "status_5xx", "after")


def endpoint(action: Action) -> Callable[[Request, dict[str, str]], Response]:
    """A route handler running `action` on the request's JSON object; a malformed request is
    ApiError 400 INVALID_CONTENT."""
    def handle(req: Request, params: dict[str, str]) -> Response:
        body = _body(req)
        try:
            result = action(body)
        except KeyError as exc:
            raise ApiError(400, "INVALID_CONTENT",
                           f"Missing {exc.args[0]!r} in the request.") from None
        except (TypeError, ValueError) as exc:
            raise ApiError(400, "INVALID_CONTENT", str(exc)) from None
        return Response.of_json(200, result)
    return handle


def _body(req: Request) -> Body:
    try:
        body = json.loads(req.body) if req.body else {}
    except ValueError:
        raise ApiError(400, "INVALID_CONTENT", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_CONTENT", "The body must be a JSON object.")
    body.update({k: v for k, v in req.query.items() if k not in body})
    return body


def unknown_action(req: Request, name: str) -> ApiError:
    return ApiError(404, "NONEXISTENT_ID", f"No control action {req.method} {name}.")


class Control:
    """The control actions, on the parts of the emulator they touch."""

    def __init__(self, backend: NetSuiteBackend, faults: Faults, traffic: Traffic) -> None:
        self.backend = backend
        self.faults = faults
        self.traffic = traffic
        self.refresher = Refresher(backend)

    def reset(self, body: Body | None = None) -> Body:
        """Empty the database, clear faults and counters."""
        self.backend.reset()
        self.faults.clear(seed=self.backend.options.seed)
        self.traffic.reset()
        self.refresher.close()
        return {"reset": True}

    def seed(self, body: Body) -> Body:
        if body.get("samples"):
            samples = self.backend.seed_samples()
            return {k: [str(i) for i in v] for k, v in samples.items()}
        ids = self.backend.seed(customers=int(body.get("customers", 0)),
                                items=int(body.get("items", 0)),
                                discount_items=int(body.get("discountItems", 0)))
        return {k: [str(i) for i in v] for k, v in ids.items()}

    def dump(self, body: Body) -> Body:
        return self.backend.dump()

    def stats(self, body: Body) -> Body:
        return self.traffic.stats()

    def set_faults(self, body: Body) -> Body:
        faults = self.faults
        if body.get("clear"):
            faults.clear(seed=body.get("seed"))
        if "concurrency_limit" in body:
            limit = body["concurrency_limit"]
            faults.concurrency_limit = None if limit is None else int(limit)
        rule = {k: body[k] for k in _FAULT_KEYS if k in body}
        if rule:
            faults.set(**rule)
        return {"rules": len(faults.rules), "concurrency_limit": faults.concurrency_limit}

    def redeem(self, body: Body) -> Body:
        customer = body.get("customer")
        tid = self.backend.simulate_redemption(
            str(body["code"]), None if customer is None else int(customer), body.get("at"))
        return {"transaction": str(tid)}

    def order(self, body: Body) -> Body:
        customer = body.get("customer")
        tid = self.backend.simulate_order(None if customer is None else int(customer),
                                          body.get("at"))
        return {"transaction": str(tid)}

    def add_coupon(self, body: Body) -> Body:
        tid = int(body["transaction"])
        self.backend.add_coupon_to_transaction(tid, str(body["code"]))
        return {"transaction": str(tid)}

    def discount(self, body: Body) -> Body:
        return {"meaning": self.backend.discount_meaning(int(body["promotion"]))}

    def cancel(self, body: Body) -> Body:
        self.backend.cancel_transaction(int(body["transaction"]))
        return {"cancelled": str(body["transaction"])}

    def refresh(self, body: Body) -> Body:
        return self.refresher.refresh(str(body["mode"]), body)
