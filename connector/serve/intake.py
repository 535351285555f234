"""How an API request enters, from its ASGI scope: the few headers the API reads, its body read
on the event loop (at most 1 MB of JSON), then its work on the loop itself (fast_lane.py:
PostgreSQL, one statement) or on a thread of the server's pools (gateway.handle). Every
outcome is an answer. The way in is api_router.py, or a Starlette route (app.py).
"""

from __future__ import annotations

import asyncio
from functools import partial

from starlette.types import Receive, Scope

from connector.serve import fast_lane
from connector.serve.bodies import MAX_BODY
from connector.serve.context import Context
from connector.serve.gateway import Answer, Endpoint, Facts, handle
from connector.serve.refusals import ApiError


async def run(ctx: Context, scope: Scope, receive: Receive, endpoint: Endpoint,
              params: dict[str, str]) -> Answer:
    """One request through the whole way, from its ASGI scope and `params` (the path's)."""
    try:
        headers = _headers(scope)
        raw = await read_body(headers, receive) if endpoint.body is not None else b""
        facts = facts_of(scope, headers, params)
        lines = ctx.loop_lines
        if lines is not None and (endpoint.on_loop is not None or (
                endpoint.one_trip is not None and facts.idempotency_key is not None)):
            done = await fast_lane.handle(ctx, facts, endpoint, raw, lines)
            if done is not None:
                return done
        pool = ctx.tills if endpoint.lane == "till" else \
            ctx.checks if endpoint.lane == "check" else ctx.pool
        return await asyncio.get_running_loop().run_in_executor(
            pool, partial(handle, ctx, facts, endpoint, raw))
    except ApiError as exc:
        return Answer(exc.status, exc.body(), exc.headers)


_WANTED = frozenset({b"authorization", b"idempotency-key", b"content-length", b"content-type"})


def _headers(scope: Scope) -> dict[str, str]:
    """The request headers the API reads (the first of each), as Starlette decodes them."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name in _WANTED:
            found.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return found


async def read_body(headers: dict[str, str], receive: Receive) -> bytes:
    """The body, at most 1 MB of JSON; refused as soon as it is known to be more."""
    length = headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise ApiError(413, "body_too_large", "the body is over 1 MB")
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: no one reads an answer
            raise ApiError(400, "incomplete_request", "the request ended before its body")
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, "body_too_large", "the body is over 1 MB")
        chunks.append(chunk)
    raw = b"".join(chunks)
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if raw and kind != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    return raw


def facts_of(scope: Scope, headers: dict[str, str], params: dict[str, str]) -> Facts:
    # the path as Starlette's request.url.path gives it, without building the whole URL
    path = scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    client = scope.get("client")
    return Facts(scope["method"], path, params, headers.get("authorization", ""),
                 headers.get("idempotency-key"), client[0] if client else "unknown")
