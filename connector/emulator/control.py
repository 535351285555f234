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

Not part of NetSuite and not subject to OAuth or faults: tests and demos drive the emulator
with it over HTTP (the same methods on `NetSuiteBackend` / `Emulator` work in-process). `at` is
'YYYY-MM-DD HH:MM:SS' in the account's time zone, or ISO 8601 with Z or an offset.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from connector.emulator.apierror import ApiError
from connector.emulator.wire import Request, Response

if TYPE_CHECKING:
    from connector.emulator.core import Emulator

_FAULT_KEYS = ("latency_ms", "jitter_ms", "rate_429", "rate_5xx", "rate_drop", "path", "method",
               "status_5xx", "after")


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
            body.update({k: v for k, v in req.query.items() if k not in body})
            result = action(body)
        except ApiError as err:
            return self.emu.handlers.error(err)
        except KeyError as exc:
            return self.emu.handlers.error(ApiError(400, "INVALID_CONTENT",
                                                    f"Missing {exc.args[0]!r} in the request."))
        except (TypeError, ValueError) as exc:
            return self.emu.handlers.error(ApiError(400, "INVALID_CONTENT", str(exc)))
        return Response.of_json(200, result)

    def post_reset(self, body: dict[str, Any]) -> dict[str, Any]:
        self.emu.reset()
        return {"reset": True}

    def post_seed(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("samples"):
            samples = self.emu.backend.seed_samples()
            return {k: [str(i) for i in v] for k, v in samples.items()}
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
            str(body["code"]), None if customer is None else int(customer), body.get("at"))
        return {"transaction": str(tid)}

    def post_order(self, body: dict[str, Any]) -> dict[str, Any]:
        customer = body.get("customer")
        tid = self.emu.backend.simulate_order(None if customer is None else int(customer),
                                              body.get("at"))
        return {"transaction": str(tid)}

    def post_add_coupon(self, body: dict[str, Any]) -> dict[str, Any]:
        tid = int(body["transaction"])
        self.emu.backend.add_coupon_to_transaction(tid, str(body["code"]))
        return {"transaction": str(tid)}

    def get_discount(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"meaning": self.emu.backend.discount_meaning(int(body["promotion"]))}

    def post_cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        self.emu.backend.cancel_transaction(int(body["transaction"]))
        return {"cancelled": str(body["transaction"])}
