"""The admin pages' routes (R41): sign-in, sessions, CSRF, and each page.

Every page but the sign-in needs a session (session.py); a request without one is sent to the
sign-in page. Every POST carries the form's CSRF token and, when the browser says where it
comes from (Origin), must come from this server. Failed sign-ins count against the client's
address like refused codes do (guard.py), so a password cannot be guessed at speed either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from connector import code_history
from connector.errors import ConnectorError, InputError
from connector.serve import admin_views as views
from connector.serve import dashboard, keys
from connector.serve import session as sessions
from connector.serve.context import Context
from connector.serve.pages import STYLE, Markup, fill, layout

log = logging.getLogger("connector.serve")
MAX_FORM = 16 * 1024
T = TypeVar("T")
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def html(page: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(page, status_code=status, media_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store",
                             "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
                             "X-Content-Type-Options": "nosniff",
                             **(headers or {})})


async def _off_loop(ctx: Context, fn: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(ctx.pool, fn)


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _session(ctx: Context, request: Request) -> sessions.Session | None:
    found = sessions.verify(request.cookies.get(sessions.SESSION_COOKIE), ctx.session_secret)
    if found is not None and found.who.startswith("key:"):
        key = keys.key_by_id(ctx.store, int(found.who[4:]))
        if key is None or not key.allows("admin"):
            return None
    return found


async def _form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip() != \
            "application/x-www-form-urlencoded":
        return {}
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FORM:
            return {}
    fields = parse_qs(raw.decode("utf-8", "replace"), max_num_fields=20)
    return {k: v[0] for k, v in fields.items()}


def _same_origin(request: Request) -> bool:
    """An Origin, when the browser names one, of this server. ("null" names none: the CSRF
    token, checked as well, is what protects the form.)"""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


Render = Callable[[Request, sessions.Session], tuple[str, Markup]]


def _page(ctx: Context, render: Render) -> Callable[[Request], Any]:
    """A page that needs a session; `render` reads and renders it on the thread pool."""
    async def endpoint(request: Request) -> Response:
        found = await _off_loop(ctx, partial(_session, ctx, request))
        if found is None:
            return RedirectResponse("/admin/sign-in", status_code=303)
        try:
            title, body = await _off_loop(ctx, partial(render, request, found))
        except ConnectorError as exc:
            status = 404 if isinstance(exc, InputError) else 503
            return html(layout("Not found" if status == 404 else "Unavailable",
                               fill('<p class="error">{e}</p>', e=str(exc)), csrf=found.csrf),
                        status=status)
        return html(layout(title, body, csrf=found.csrf))
    return endpoint


def routes(ctx: Context) -> list[Route]:
    def overview(request: Request, s: sessions.Session) -> tuple[str, Markup]:
        return "Promotions", views.overview(dashboard.overview(ctx.store, ctx.zone),
                                            ctx.distributor.lists())

    def promotion(request: Request, s: sessions.Session) -> tuple[str, Markup]:
        name = request.query_params.get("name", "")
        return name, views.promotion(dashboard.promotion(ctx.store, name, ctx.zone), ctx.zone)

    def sync(request: Request, s: sessions.Session) -> tuple[str, Markup]:
        return "Sync", views.sync(dashboard.sync_runs(ctx.store), ctx.plan.last, s.csrf, ctx.zone)

    def codes(request: Request, s: sessions.Session) -> tuple[str, Markup]:
        asked = request.query_params.get("code", "").strip()[:200]
        found, error = None, None
        if asked:
            try:
                found = code_history(ctx.store, asked)
            except InputError as exc:
                error = str(exc)
        return "Code lookup", views.code(found, ctx.zone, asked, error)

    return [
        Route("/admin", _page(ctx, overview)),
        Route("/admin/promotion", _page(ctx, promotion)),
        Route("/admin/sync", _page(ctx, sync)),
        Route("/admin/codes", _page(ctx, codes)),
        Route("/admin/sync/plan", partial(run_plan, ctx), methods=["POST"]),
        Route("/admin/sign-in", partial(sign_in_page, ctx), methods=["GET"]),
        Route("/admin/sign-in", partial(sign_in, ctx), methods=["POST"]),
        Route("/admin/sign-out", partial(sign_out, ctx), methods=["POST"]),
        Route("/admin/style.css", style),
    ]


async def style(request: Request) -> Response:
    return Response(STYLE, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


async def sign_in_page(ctx: Context, request: Request, message: str | None = None,
                       status: int = 200) -> Response:
    token = request.cookies.get(sessions.CSRF_COOKIE) or sessions.new_session("").csrf
    configured = ctx.settings.admin_password_hash is not None
    response = html(layout("Sign in", views.sign_in(token, message, configured)), status)
    response.set_cookie(sessions.CSRF_COOKIE, token, httponly=True, samesite="strict",
                        path="/admin")
    return response


async def sign_in(ctx: Context, request: Request) -> Response:
    form = await _form(request)
    if not _same_origin(request) or not sessions.same_token(
            form.get("csrf"), request.cookies.get(sessions.CSRF_COOKIE)):
        return await sign_in_page(ctx, request, "the form expired; please sign in again", 403)
    address = f"address {request.client.host if request.client else 'unknown'}"
    if ctx.guard.wait_for(address) > 0:
        return await sign_in_page(ctx, request, "too many failed sign-ins; wait and retry", 429)
    who = await _off_loop(ctx, partial(_who, ctx, form.get("secret", "")))
    if who is None:
        ctx.guard.refused(address)
        log.warning("admin sign-in refused from %s", address)
        return await sign_in_page(ctx, request, "wrong password or key", 401)
    made = sessions.new_session(who)
    response = RedirectResponse("/admin", status_code=303)
    response.set_cookie(sessions.SESSION_COOKIE, sessions.sign(made, ctx.session_secret),
                        max_age=sessions.LIFETIME, httponly=True, samesite="strict", path="/")
    return response


def _who(ctx: Context, secret: str) -> str | None:
    """Who this secret signs in as: "password", "key:<id>" (an admin key), or None."""
    if not secret or len(secret) > 1000:
        return None
    if secret.startswith(keys.PREFIX):
        key = keys.authenticate(ctx.store, secret)
        return f"key:{key.id}" if key is not None and key.allows("admin") else None
    stored = ctx.settings.admin_password_hash
    if stored is not None and sessions.check_password(secret, stored.get_secret_value()):
        return "password"
    return None


async def sign_out(ctx: Context, request: Request) -> Response:
    form = await _form(request)
    found = sessions.verify(request.cookies.get(sessions.SESSION_COOKIE), ctx.session_secret)
    if found is None or not _same_origin(request) or \
            not sessions.same_token(form.get("csrf"), found.csrf):
        return html(layout("Refused", Markup('<p class="error">The form expired.</p>')), 403)
    response = RedirectResponse("/admin/sign-in", status_code=303)
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    return response


async def run_plan(ctx: Context, request: Request) -> Response:
    form = await _form(request)
    found = await _off_loop(ctx, partial(_session, ctx, request))
    if found is None:
        return RedirectResponse("/admin/sign-in", status_code=303)
    if not _same_origin(request) or not sessions.same_token(form.get("csrf"), found.csrf):
        return html(layout("Refused", Markup('<p class="error">The form expired.</p>'),
                           csrf=found.csrf), 403)
    await _off_loop(ctx, ctx.plan.run)
    return RedirectResponse("/admin/sync", status_code=303)
