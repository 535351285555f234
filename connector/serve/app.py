"""The ASGI application of `promosync serve`: the API's routes, the admin pages, the OpenAPI
document, and answers for whatever else comes (404, 405, 500) in JSON under /v1, never with a
traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from connector.serve import admin, api, gateway, intake
from connector.serve.api import ENDPOINTS
from connector.serve.api_router import ApiRouter
from connector.serve.context import Context
from connector.serve.gateway import Answer, Endpoint
from connector.serve.messages import Message, write_messages
from connector.serve.openapi import document
from connector.serve.pages import fill, layout
from connector.serve.refusals import ApiError

log = logging.getLogger("connector.serve")
PURGE_EVERY = 600.0  # seconds between sweeps of idempotency keys older than 24 hours


def _starlette_path(path: str) -> str:
    """A list's name may hold a slash: it takes the rest of the path up to the last part."""
    return path.replace("{name}", "{name:path}")


def _api_route(ctx: Context, method: str, path: str, endpoint: Endpoint) -> Route:
    async def handle(request: Request) -> Response:
        answer = await intake.run(ctx, request.scope, request.receive, endpoint,
                                  dict(request.path_params))
        if endpoint.work.__name__ == "messages" and answer.status == 200 and \
                "text/csv" in request.headers.get("accept", ""):
            return _csv(answer)
        return gateway.response(answer)
    return Route(_starlette_path(path), handle, methods=[method], name=endpoint.work.__name__)


def _csv(answer: Answer) -> Response:
    out = io.StringIO()
    rows = [Message(m["user"], m["external_id"], m["campaign"], m["code"],
                    date.fromisoformat(m["expires_on"]) if m["expires_on"] else None,
                    m["message"], m["encoding"], m["length"]) for m in answer.body["messages"]]
    write_messages(out, rows)
    headers = {"Cache-Control": "no-store", **answer.headers}
    if answer.body.get("stopped"):
        headers["Promosync-Stopped"] = str(answer.body["stopped"]).encode("ascii", "replace")\
            .decode("ascii")
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def build_app(ctx: Context) -> Starlette:
    spec = document()

    async def openapi(request: Request) -> Response:
        return JSONResponse(spec)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "started": ctx.started})

    async def home(request: Request) -> Response:
        return RedirectResponse("/admin", status_code=303)

    routes = [_api_route(ctx, m, p, e) for m, p, e in ENDPOINTS]
    routes += [Route("/openapi.json", openapi), Route("/healthz", health), Route("/", home)]
    routes += admin.routes(ctx)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if ctx.loop_lines is not None:
            made, failed = await ctx.loop_lines.fill()
            if failed is not None:
                log.warning("opened %d of %d store connections for the event loop (%s); the "
                            "rest open when needed", made, ctx.loop_lines.size, failed)
        sweeper = asyncio.create_task(_sweep(ctx))
        try:
            yield
        finally:
            sweeper.cancel()
            ctx.close()

    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        HTTPException: _http_error, Exception: _crash}
    # the API's own routes first, past Starlette's router (api_router.py); messages, which
    # may be asked for as CSV, through it
    direct = [(m, p, e) for m, p, e in ENDPOINTS if e.work is not api.messages]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers,
                    middleware=[Middleware(ApiRouter, ctx=ctx, endpoints=direct)])
    app.state.ctx = ctx
    return app


async def _sweep(ctx: Context) -> None:
    loop = asyncio.get_running_loop()
    while True:
        try:
            gone = await loop.run_in_executor(ctx.pool, ctx.idempotency.purge)
            if gone:
                log.info("forgot %d idempotency keys older than 24 hours", gone)
        except Exception:  # noqa: BLE001 - a failed sweep is retried at the next one
            log.warning("could not forget old idempotency keys; will try again", exc_info=True)
        await asyncio.sleep(PURGE_EVERY)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if request.url.path.startswith("/v1"):
        error = ApiError(status, "not_found" if status == 404 else "method_not_allowed",
                         "no such endpoint; see /openapi.json" if status == 404
                         else "this endpoint does not take this method; see /openapi.json")
        return gateway.response(Answer(status, error.body()))
    title = "Not found" if status == 404 else "Not allowed"
    return admin.html(layout(title, fill('<p><a href="/admin">Back to the admin pages</a></p>')),
                      status)


async def _crash(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    error = ApiError(500, "internal_error", "the server could not do this; see its log")
    return gateway.response(Answer(500, error.body()))
