"""The way every API request goes: key, scope, guard, body, Idempotency-Key, work, answer.

Bad input is refused before anything is written: a missing or revoked key (401), a key without
the scope (403), a body over 1 MB (413), not JSON (415), malformed JSON, unknown fields or wrong
types (400). Only then is an Idempotency-Key claimed and the work done; on PostgreSQL a keyed
scan or payment does both, and keeps its answer, in one call of the store (`OneTrip`). The body
is read on the event loop; everything after it runs as one call on a thread pool, whose threads
keep their store connections (a `Register` on PostgreSQL keeps one per thread). Registers'
calls have pools of their own, so that they never queue behind a long request (a message run,
a sync plan), each sized to its calls: a transaction's write waits for the store (a keyed one
other than a scan or payment three times: claim, work, answer) and needs threads to cover the
waits; validate is one short read, for which a few threads keep the CPU busy, and fewer
threads pass the interpreter lock around less (its p99 under 16 clients was about twice as
long with 16 threads as with 4).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from connector.errors import ConnectorError, StoreOffline
from connector.serve import idempotency as idem
from connector.serve.bodies import MAX_BODY, parse
from connector.serve.context import Context
from connector.serve.keys import ApiKey
from connector.serve.refusals import REDEMPTION, ApiError, from_connector
from connector.text import shown
from connector.values import jsonable

if TYPE_CHECKING:
    from connector.redeem.server_functions import KeyClaim

log = logging.getLogger("connector.serve")
GUESSES = frozenset(t for _s, _r, t in REDEMPTION.values()) - {"store_offline"}


@dataclass(frozen=True)
class Call:
    """What the work of an endpoint gets: the key, the parsed body, the path's values."""

    key: ApiKey
    body: Any
    params: Mapping[str, str]
    client: str


@dataclass(frozen=True)
class OneTrip:
    """A keyed write whose claim, work and kept answer are one call of a PostgreSQL store
    (idempotency.py): `call` makes that call with the claim (the function's reply, or None:
    nothing claimed nor written, or no server functions), `render` the answer's payload from
    the reply it keeps, `status` the answer's status."""

    status: int
    call: Callable[[Context, Call, KeyClaim], Any]
    render: Callable[[Any], Any]


@dataclass(frozen=True)
class Endpoint:
    scopes: frozenset[str]
    work: Callable[[Context, Call], tuple[int, Any]]
    body: type[Any] | None = None  # a bodies model; None: the request has no body
    write: bool = True
    guarded: bool = False  # refused codes count against the client (guard.py)
    lane: str = "rest"  # the threads it runs on: "till" (transactions), "check" (validate)
    one_trip: OneTrip | None = None  # under an Idempotency-Key on PostgreSQL


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


async def run(ctx: Context, request: Request, endpoint: Endpoint) -> Answer:
    """One request through the whole way; never raises."""
    try:
        raw = await read_body(request) if endpoint.body is not None else b""
        loop = asyncio.get_running_loop()
        facts = _facts(request)
        pool = ctx.tills if endpoint.lane == "till" else \
            ctx.checks if endpoint.lane == "check" else ctx.pool
        return await loop.run_in_executor(pool, partial(_handle, ctx, facts, endpoint, raw))
    except ApiError as exc:
        return Answer(exc.status, exc.body(), exc.headers)


async def read_body(request: Request) -> bytes:
    """The body, at most 1 MB of JSON; refused as soon as it is known to be more."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise ApiError(413, "body_too_large", "the body is over 1 MB")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, "body_too_large", "the body is over 1 MB")
        chunks.append(chunk)
    raw = b"".join(chunks)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if raw and kind != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    return raw


@dataclass(frozen=True)
class _Facts:
    method: str
    path: str
    params: dict[str, str]
    authorization: str
    idempotency_key: str | None
    client: str


def _facts(request: Request) -> _Facts:
    # request.url.path, without building the whole URL (its host, port and query) for it
    path = request.scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    return _Facts(request.method, path, dict(request.path_params),
                  request.headers.get("authorization", ""),
                  request.headers.get("idempotency-key"),
                  request.client.host if request.client else "unknown")


def _handle(ctx: Context, facts: _Facts, endpoint: Endpoint, raw: bytes) -> Answer:
    try:
        key = _authorised(ctx, facts.authorization, endpoint.scopes)
        clients = (f"API key {shown(key.name)}", f"address {facts.client}")
        if endpoint.guarded:
            wait = ctx.guard.wait_for(*clients)
            if wait > 0:
                raise ApiError(429, "too_many_refused_codes",
                               f"too many refused codes; try again in {int(wait) + 1} s",
                               headers={"Retry-After": str(int(wait) + 1)})
        body = parse(endpoint.body, raw) if endpoint.body is not None else None
        call = Call(key, body, facts.params, facts.client)
        if endpoint.write and facts.idempotency_key is not None:
            return _once(ctx, facts, endpoint, call)
        answer = _work(ctx, endpoint, call)
    except ApiError as exc:
        return Answer(exc.status, exc.body(), exc.headers)
    if endpoint.guarded and _is_guess(answer):
        ctx.guard.refused(*clients)
    return answer


def _authorised(ctx: Context, authorization: str, scopes: frozenset[str]) -> ApiKey:
    scheme, _, presented = authorization.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise ApiError(401, "unauthorized", "send an API key: Authorization: Bearer psk_...",
                       headers={"WWW-Authenticate": "Bearer"})
    key = ctx.authenticate(presented.strip())
    if key is None:
        raise ApiError(401, "unauthorized", "the API key is unknown or revoked",
                       headers={"WWW-Authenticate": "Bearer"})
    if not any(key.allows(s) for s in scopes):
        needed = " or ".join(sorted(scopes))
        raise ApiError(403, "forbidden", f"the key {shown(key.name)} lacks the scope {needed}")
    return key


def _once(ctx: Context, facts: _Facts, endpoint: Endpoint, call: Call) -> Answer:
    """The work under an Idempotency-Key: done once, answered the same way every time."""
    key = facts.idempotency_key or ""
    if not idem.valid_key(key):
        raise ApiError(400, "invalid_idempotency_key",
                       "an Idempotency-Key is 1 to 255 printable ASCII characters")
    body = call.body.model_dump(mode="json") if call.body is not None else None
    print_ = idem.fingerprint(facts.method, facts.path, body)
    trip = endpoint.one_trip
    attempt: idem.Attempt | None = None
    if trip is not None and ctx.idempotency.lines is not None:
        def attempt(created: datetime) -> Any:
            # imported here: it needs psycopg, which only a PostgreSQL store installs
            from connector.redeem.server_functions import KeyClaim

            return trip.call(ctx, call, KeyClaim(call.key.id, key, print_, created, trip.status))
    try:
        got = ctx.idempotency.claim(call.key.id, key, print_, attempt)
    except idem.KeyReused:
        raise ApiError(409, "idempotency_key_reused",
                       "this Idempotency-Key was used with another request") from None
    except idem.StillRunning:
        raise ApiError(409, "idempotency_key_in_use", "a request with this Idempotency-Key is "
                       "still running; retry later") from None
    if isinstance(got, idem.Stored):
        body = got.body if got.reply is None else _rendered(endpoint, got.reply)
        return Answer(got.status, body, {"Idempotent-Replayed": "true"})
    if got.status is not None:  # claimed, done and kept in one call
        return Answer(got.status, _rendered(endpoint, got.reply))
    try:
        answer = _work(ctx, endpoint, call)
    except BaseException:
        ctx.idempotency.drop(call.key.id, key)
        raise
    if answer.status >= 500:
        ctx.idempotency.drop(call.key.id, key)  # nothing happened: a retry may run again
    else:
        ctx.idempotency.finish(call.key.id, key, answer.status, answer.body)
    return answer


def _rendered(endpoint: Endpoint, reply: Any) -> Any:
    """The body of an answer kept as a server function's reply: made the same way every time,
    so that a replay is the first answer, byte for byte."""
    if endpoint.one_trip is None:  # only a one-trip endpoint keeps replies
        raise ApiError(500, "internal_error", "the server could not do this; see its log")
    return plain(endpoint.one_trip.render(reply))


def _work(ctx: Context, endpoint: Endpoint, call: Call) -> Answer:
    try:
        status, payload = endpoint.work(ctx, call)
        return Answer(status, plain(payload))
    except ApiError as exc:
        return Answer(exc.status, exc.body(), exc.headers)
    except StoreOffline as exc:
        log.warning("store unreachable: %s", exc.detail or exc)
        refused = from_connector(exc)
        return Answer(refused.status, refused.body())
    except ConnectorError as exc:
        refused = from_connector(exc)
        return Answer(refused.status, refused.body())
    except Exception:  # noqa: BLE001 - the answer is a 500 in JSON, the traceback goes to the log
        log.exception("%s failed", endpoint.work.__name__)
        failed = ApiError(500, "internal_error", "the server could not do this; see its log")
        return Answer(500, failed.body())


_AS_IS = frozenset({str, int, float, bool, type(None)})
_FIELDS: dict[type, tuple[str, ...]] = {}


def plain(value: Any) -> Any:
    """`jsonable(value)`, the same JSON values, found by the value's exact type first: what
    an answer holds (dicts, lists, dataclasses of strings, numbers, decimals and dates) costs
    a third of jsonable's generic tests. Any other type goes to jsonable."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is Decimal:
        return str(value)
    if kind is dict:
        return {str(k): plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [plain(v) for v in value]
    if kind is date or kind is datetime:
        return value.isoformat()
    names = _FIELDS.get(kind)
    if names is None:
        if not is_dataclass(kind):
            return jsonable(value)
        names = _FIELDS[kind] = tuple(f.name for f in fields(kind))
    return {name: plain(getattr(value, name)) for name in names}


def _is_guess(answer: Answer) -> bool:
    error = answer.body.get("error") if isinstance(answer.body, dict) else None
    return isinstance(error, dict) and error.get("type") in GUESSES


def response(answer: Answer) -> Response:
    data = json.dumps(answer.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", **answer.headers}
    return Response(data, status_code=answer.status, media_type="application/json",
                    headers=headers)
