"""R41: the server serves an OpenAPI document, and every endpoint it answers is in it (and
every operation in it is answered)."""

from __future__ import annotations

import re

from starlette.routing import Route

from tests.serve.conftest import Served


def test_R41_openapi_lists_every_endpoint_the_server_answers(served_sqlite: Served) -> None:
    served = served_sqlite
    answer = served.call("GET", "/openapi.json", key=None)
    assert answer.status_code == 200
    spec = answer.json()
    assert spec["openapi"].startswith("3.") and spec["components"]["securitySchemes"]
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    app = served.app
    served_routes = {(m, re.sub(r"\{(\w+):path\}", r"{\1}", r.path))
                     for r in app.routes if isinstance(r, Route) and r.path.startswith("/v1")
                     for m in (r.methods or ()) if m != "HEAD"}
    assert documented == served_routes
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op["summary"] and "422" in op["responses"] and "401" in op["responses"]
            if method != "get":
                names = [p["name"] for p in op["parameters"]]
                assert "Idempotency-Key" in names, (method, path)
            real = path.replace("{sale}", "TXN-000000000000").replace("{code}", "SU-X")
            real = real.replace("{name}", "Nope")
            got = served.call(method.upper(), real, key="admin",
                              json={} if method != "get" else None)
            assert got.status_code not in (404, 405) or got.json()["error"]["type"] not in (
                "not_found", "method_not_allowed"), (method, path)
    bodies = spec["components"]["schemas"]
    assert {"ValidateBody", "OpenBody", "ScanBody", "AssignBody", "MessagesBody",
            "Error"} <= set(bodies)
    assert bodies["OpenBody"]["additionalProperties"] is False
