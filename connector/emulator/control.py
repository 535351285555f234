"""The control API under /__emulator__/: reset, seed, dump, faults, redeem, cancel, stats.

Not part of NetSuite and not subject to OAuth or faults: tests and demos drive the emulator
with it over HTTP (the Python methods on `Emulator`/`NetSuiteBackend` do the same in-process).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from connector.emulator.apierror import ApiError
from connector.emulator.wire import Request, Response

if TYPE_CHECKING:
    from connector.emulator.core import Emulator

_FAULT_KEYS = ("latency_ms", "jitter_ms", "rate_429", "rate_5xx", "rate_drop", "path", "method",
               "status_5xx")


class Control:
    """Dispatch for /__emulator__/{name}."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    def dispatch(self, req: Request) -> Response:
        name = req.path.removeprefix("/__emulator__/").strip("/")
        action = getattr(self, f"{req.method.lower()}_{name}", None)
        try:
            if action is None:
                raise ApiError(404, "NONEXISTENT_ID", f"No control action {req.method} {name}.")
            try:
                body = json.loads(req.body) if req.body else {}
            except ValueError:
                raise ApiError(400, "INVALID_CONTENT", "The body is not valid JSON.") from None
            if not isinstance(body, dict):
                raise ApiError(400, "INVALID_CONTENT", "The body must be a JSON object.")
            result = action(body)
        except ApiError as err:
            return self.emu.handlers.error(err)
        except (TypeError, ValueError) as exc:
            return self.emu.handlers.error(ApiError(400, "INVALID_CONTENT", str(exc)))
        return Response.of_json(200, result)

    def post_reset(self, body: dict[str, Any]) -> dict[str, Any]:
        self.emu.reset()
        return {"reset": True}

    def post_seed(self, body: dict[str, Any]) -> dict[str, Any]:
        ids = self.emu.backend.seed(customers=int(body.get("customers", 0)),
                                    items=int(body.get("items", 0)),
                                    discount_items=int(body.get("discountItems", 0)))
        return {k: [str(i) for i in v] for k, v in ids.items()}

    def get_dump(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.emu.backend.dump()

    def get_stats(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.emu.stats()

    def post_faults(self, body: dict[str, Any]) -> dict[str, Any]:
        faults = self.emu.faults
        if body.get("clear"):
            faults.clear(seed=body.get("seed"))
        if "concurrency_limit" in body:
            limit = body["concurrency_limit"]
            faults.concurrency_limit = None if limit is None else int(limit)
        rule = {k: body[k] for k in _FAULT_KEYS if k in body}
        if rule:
            faults.set(**rule)
        return {"rules": len(faults.rules), "concurrency_limit": faults.concurrency_limit}

    def post_redeem(self, body: dict[str, Any]) -> dict[str, Any]:
        customer = body.get("customer")
        tid = self.emu.backend.simulate_redemption(
            str(body["code"]), None if customer is None else int(customer))
        return {"transaction": str(tid)}

    def post_cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        self.emu.backend.cancel_transaction(int(body["transaction"]))
        return {"cancelled": str(body["transaction"])}
