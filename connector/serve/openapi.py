"""The OpenAPI 3.1 document of the HTTP API, served at /openapi.json.

Built from the route table (api.ENDPOINTS) and the body models (bodies.py), so that every
endpoint the server answers is in it, with the body it takes; the words are written here.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from connector import __version__
from connector.serve.api import ENDPOINTS
from connector.serve.gateway import Endpoint

SUMMARIES: dict[tuple[str, str], str] = {
    ("POST", "/v1/validate"): "Would this code apply to this cart, and what would it give (R13)",
    ("POST", "/v1/transactions"): "Open a transaction with a cart and maybe a customer",
    ("GET", "/v1/transactions/{sale}"): "A transaction: its lines, codes and discount",
    ("POST", "/v1/transactions/{sale}/codes"): "Scan a code: checked (R13) and held",
    ("DELETE", "/v1/transactions/{sale}/codes/{code}"): "Take a code off the transaction",
    ("POST", "/v1/transactions/{sale}/customer"):
        "Attach, change or remove (null) the customer (R15, R17)",
    ("POST", "/v1/transactions/{sale}/pay"): "Pay: every code checked again and committed (R14)",
    ("POST", "/v1/transactions/{sale}/cancel"): "Cancel: a redeemed code stays used (R18)",
    ("GET", "/v1/lists"): "Coupon lists: remaining codes, warning state, campaigns (R22)",
    ("POST", "/v1/lists/{name}/assign"):
        "A code for a user and campaign, the same within 24 hours (R21); with a template, "
        "its message (R42)",
    ("POST", "/v1/lists/{name}/messages"):
        "A code and a rendered message for each user (R42); CSV with Accept: text/csv",
    ("GET", "/v1/codes/{code}"): "A code: state, limits and history (R3)",
    ("GET", "/v1/promotions"): "Promotions with NetSuite records and code counts",
}

ERRORS = {
    "400": "Malformed JSON, an unknown field, a wrong type, or a value the rules refuse",
    "401": "No API key, or an unknown or revoked one",
    "403": "The key lacks the scope",
    "409": "R14 (no longer valid), a code scanned twice, a finished campaign, or an "
           "Idempotency-Key used with another request or still running",
    "413": "The body is over 1 MB",
    "415": "The body is not application/json",
    "422": "R13 refusal: the rule id and its exact message",
    "429": "Too many refused codes from this key or address: wait Retry-After seconds",
    "503": "The store cannot be reached",
}

ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["type", "message"],
        "properties": {
            "type": {"type": "string", "examples": ["code_expired"]},
            "message": {"type": "string", "examples": ["This coupon code has expired"]},
            "rule": {"type": "string", "examples": ["R13"]},
            "code": {"type": "string"},
        }}},
}


def document() -> dict[str, Any]:
    bodies = {e.body for _m, _p, e in ENDPOINTS if e.body is not None}
    refs, defs = models_json_schema([(b, "validation") for b in sorted(bodies, key=str)],
                                    ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for method, path, endpoint in ENDPOINTS:
        ref = refs[(endpoint.body, "validation")] if endpoint.body is not None else None
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, endpoint, ref)
    return {
        "openapi": "3.1.0",
        "info": {"title": "promosync", "version": __version__,
                 "description": "Redeem codes (R13-R19), hand out coupon-list codes (R21, "
                                "R42). Every write honours Idempotency-Key (kept 24 hours)."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                           "description": "psk_... from `promosync keys create`"}},
        },
        "security": [{"apiKey": []}],
    }


def _operation(method: str, path: str, endpoint: Endpoint, ref: Any) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_names(path)]
    if endpoint.write:
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "schema": {"type": "string", "maxLength": 255},
                       "description": "Same key and body: the first answer again; another "
                                      "body: 409. Kept 24 hours."})
    op: dict[str, Any] = {
        "summary": SUMMARIES[(method, path)],
        "operationId": endpoint.work.__name__,
        "x-scopes": sorted(endpoint.scopes | {"admin"}),
        "parameters": params,
        "responses": {
            "201" if endpoint.work.__name__ in ("open_sale", "scan") else "200":
                {"description": "Done", "content": {"application/json": {"schema": {
                    "type": "object"}}}},
            **{status: {"description": why, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}}
               for status, why in ERRORS.items()},
        },
    }
    if ref is not None:
        op["requestBody"] = {"required": False,
                             "content": {"application/json": {"schema": ref}}}
    return op


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]
