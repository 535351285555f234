"""The API's requests routed straight from the ASGI scope to their endpoint.

A register's scan or payment is a small request whose own work is one call of the store; the
layers a Starlette route adds around it (the exception middleware, the router trying each
route in turn, a Request and a Response object) cost the server more of the two cores than
the call. This middleware sits just inside Starlette's error middleware (a failure is still
its JSON 500, traceback in the log only) and matches `/v1` paths against the API's own table;
what it does not route (the admin pages, /openapi.json, a path or method the API lacks, a
coupon list's messages, which may be asked for as CSV) goes on to Starlette's router as before.
The answer is the same either way: intake.run and gateway.answer_parts make both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from connector.serve import intake
from connector.serve.context import Context
from connector.serve.gateway import Endpoint, answer_parts

_PARAM = re.compile(r"\{(\w+)\}")


def pattern(path: str) -> re.Pattern[str]:
    """A path of the API's table as a regular expression: `{name}` (a list's name) takes the
    rest of the path up to the endpoint's last part, any other `{...}` one part."""
    out, at = [], 0
    for found in _PARAM.finditer(path):
        out.append(re.escape(path[at:found.start()]))
        part = ".*" if found.group(1) == "name" else "[^/]+"
        out.append(f"(?P<{found.group(1)}>{part})")
        at = found.end()
    out.append(re.escape(path[at:]))
    return re.compile("".join(out))


class ApiRouter:
    """ASGI middleware: `/v1` requests of `endpoints` to intake.run, the rest to `app`."""

    def __init__(self, app: ASGIApp, ctx: Context,
                 endpoints: Sequence[tuple[str, str, Endpoint]]) -> None:
        self.app = app
        self.ctx = ctx
        self.table: dict[str, list[tuple[re.Pattern[str], Endpoint]]] = {}
        for method, path, endpoint in endpoints:
            self.table.setdefault(method, []).append((pattern(path), endpoint))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            for regex, endpoint in self.table.get(scope["method"], ()):
                found = regex.fullmatch(scope["path"])
                if found is not None:
                    answer = await intake.run(self.ctx, scope, receive, endpoint,
                                              found.groupdict())
                    status, headers, body = answer_parts(answer)
                    await send({"type": "http.response.start", "status": status,
                                "headers": headers})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)
