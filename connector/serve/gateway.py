"""The way every API request goes: key, scope, guard, body, Idempotency-Key, work, answer.

Bad input is refused before anything is written: a missing or revoked key (401), a key without
the scope (403), a body over 1 MB (413), not JSON (415), malformed JSON, unknown fields or wrong
types (400). Only then is an Idempotency-Key claimed and the work done; on PostgreSQL a keyed
scan or payment does both, and keeps its answer, in one call of the store (`OneTrip`).

The body is read on the event loop (intake.py). On PostgreSQL a request whose work is one
statement runs on the loop too (fast_lane.py, with the pieces below); everything else runs as
one call on a thread pool (`handle`), whose threads keep their store connections (a `Register`
on PostgreSQL keeps one per thread). Registers' calls have pools of their own, so that they
never queue behind a long request (a message run, a sync plan), each sized to its calls: a
transaction's write waits for the store (a keyed one other than a scan or payment three
times: claim, work, answer) and needs threads to cover the waits; validate, when it is left to
a thread, is one short read, for which a few threads keep the CPU busy.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from connector.errors import ConnectorError, StoreOffline
from connector.serve import idempotency as idem
from connector.serve.bodies import parse
from connector.serve.context import Context
from connector.serve.keys import ApiKey
from connector.serve.refusals import REDEMPTION, ApiError, from_connector
from connector.text import shown
from connector.values import jsonable

if TYPE_CHECKING:
    from connector.redeem.server_functions import KeyClaim
    from connector.store.loop_connections import LoopConnections

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
    on_loop: Callable[[Context, Call, KeyClaim, LoopConnections], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    scopes: frozenset[str]
    work: Callable[[Context, Call], tuple[int, Any]]
    body: type[Any] | None = None  # a bodies model; None: the request has no body
    write: bool = True
    guarded: bool = False  # refused codes count against the client (guard.py)
    lane: str = "rest"  # the threads it runs on: "till" (transactions), "check" (validate)
    one_trip: OneTrip | None = None  # under an Idempotency-Key on PostgreSQL
    # the work on the event loop (PostgreSQL): (status, payload), or None: do `work` instead
    on_loop: Callable[[Context, Call, LoopConnections], Awaitable[tuple[int, Any] | None]] \
        | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    """What a request says besides its body, read on the event loop."""

    method: str
    path: str
    params: dict[str, str]
    authorization: str
    idempotency_key: str | None
    client: str

    def clients(self, key: ApiKey) -> tuple[str, str]:
        """Whom the guard counts a refused code against: the API key and the address."""
        return (f"API key {shown(key.name)}", f"address {self.client}")


def handle(ctx: Context, facts: Facts, endpoint: Endpoint, raw: bytes) -> Answer:
    """The request's way after its body was read, on a thread of the server's pools."""
    try:
        key = authorised(ctx, facts.authorization, endpoint.scopes)
        clients = facts.clients(key)
        if endpoint.guarded:
            check_guard(ctx, clients)
        body = parse(endpoint.body, raw) if endpoint.body is not None else None
        call = Call(key, body, facts.params, facts.client)
        if endpoint.write and facts.idempotency_key is not None:
            answer = _once(ctx, facts, endpoint, call)
        else:
            answer = work_answer(ctx, endpoint, call)
    except ApiError as exc:
        return Answer(exc.status, exc.body(), exc.headers)
    if endpoint.guarded and is_guess(answer):
        ctx.guard.refused(*clients)
    return answer


def check_guard(ctx: Context, clients: tuple[str, str]) -> None:
    """ApiError 429 while the guard refuses either client."""
    wait = ctx.guard.wait_for(*clients)
    if wait > 0:
        raise ApiError(429, "too_many_refused_codes",
                       f"too many refused codes; try again in {int(wait) + 1} s",
                       headers={"Retry-After": str(int(wait) + 1)})


def authorised(ctx: Context, authorization: str, scopes: frozenset[str]) -> ApiKey:
    """The live API key of the request, with one of `scopes`; else ApiError 401 or 403."""
    key = ctx.authenticate(_presented(authorization))
    if key is None:
        raise ApiError(401, "unauthorized", "the API key is unknown or revoked",
                       headers={"WWW-Authenticate": "Bearer"})
    return _scoped(key, scopes)


async def authorised_on(ctx: Context, authorization: str, scopes: frozenset[str],
                        lines: LoopConnections) -> ApiKey | None:
    """`authorised` on the event loop: the key as read lately, else read on the loop's
    connections. None when it is unknown or revoked, or the read failed: the caller leaves the
    request to a thread, which reads the key again and answers 401 or the failure."""
    presented = _presented(authorization)
    key = ctx.known_key(presented)
    if key is None:
        try:
            key = await ctx.read_key_on(lines, presented)
        except Exception:  # noqa: BLE001 - the thread path reads it again and tells
            return None
    return None if key is None else _scoped(key, scopes)


def _presented(authorization: str) -> str:
    scheme, _, presented = authorization.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise ApiError(401, "unauthorized", "send an API key: Authorization: Bearer psk_...",
                       headers={"WWW-Authenticate": "Bearer"})
    return presented.strip()


def _scoped(key: ApiKey, scopes: frozenset[str]) -> ApiKey:
    if not any(key.allows(s) for s in scopes):
        needed = " or ".join(sorted(scopes))
        raise ApiError(403, "forbidden", f"the key {shown(key.name)} lacks the scope {needed}")
    return key


def idempotency_key(facts: Facts) -> str:
    """The request's Idempotency-Key; ApiError 400 for one that cannot be."""
    key = facts.idempotency_key or ""
    if not idem.valid_key(key):
        raise ApiError(400, "invalid_idempotency_key",
                       "an Idempotency-Key is 1 to 255 printable ASCII characters")
    return key


def fingerprint(facts: Facts, call: Call) -> str:
    body = call.body.model_dump(mode="json") if call.body is not None else None
    return idem.fingerprint(facts.method, facts.path, body)


def _once(ctx: Context, facts: Facts, endpoint: Endpoint, call: Call) -> Answer:
    """The work under an Idempotency-Key: done once, answered the same way every time."""
    key = idempotency_key(facts)
    print_ = fingerprint(facts, call)
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
        raise reused() from None
    except idem.StillRunning:
        raise ApiError(409, "idempotency_key_in_use", "a request with this Idempotency-Key is "
                       "still running; retry later") from None
    return settled(endpoint, got) or work_once(ctx, endpoint, call, key)


def reused() -> ApiError:
    return ApiError(409, "idempotency_key_reused",
                    "this Idempotency-Key was used with another request")


def settled(endpoint: Endpoint, got: idem.Stored | idem.Claimed) -> Answer | None:
    """The answer to a keyed request when its key holds one (kept before, or kept by the call
    that claimed it); None when the key was claimed for this request and the work is to do."""
    if isinstance(got, idem.Stored):
        body = got.body if got.reply is None else rendered(endpoint, got.reply)
        return Answer(got.status, body, {"Idempotent-Replayed": "true"})
    if got.status is not None:  # claimed, done and kept in one call
        return Answer(got.status, rendered(endpoint, got.reply))
    return None


def work_once(ctx: Context, endpoint: Endpoint, call: Call, key: str) -> Answer:
    """The work of a request whose Idempotency-Key it has claimed; the answer kept under it."""
    try:
        answer = work_answer(ctx, endpoint, call)
    except BaseException:
        ctx.idempotency.drop(call.key.id, key)
        raise
    if answer.status >= 500:
        ctx.idempotency.drop(call.key.id, key)  # nothing happened: a retry may run again
    else:
        ctx.idempotency.finish(call.key.id, key, answer.status, answer.body)
    return answer


def rendered(endpoint: Endpoint, reply: Any) -> Any:
    """The body of an answer kept as a server function's reply: made the same way every time,
    so that a replay is the first answer, byte for byte."""
    if endpoint.one_trip is None:  # only a one-trip endpoint keeps replies
        raise ApiError(500, "internal_error", "the server could not do this; see its log")
    return plain(endpoint.one_trip.render(reply))


def work_answer(ctx: Context, endpoint: Endpoint, call: Call) -> Answer:
    """The endpoint's work and its answer; a refusal or a failure is an answer too."""
    try:
        status, payload = endpoint.work(ctx, call)
        return Answer(status, plain(payload))
    except Exception as exc:  # noqa: BLE001 - every failure becomes an answer (failed)
        return failed(endpoint, exc)


def failed(endpoint: Endpoint, exc: Exception) -> Answer:
    """The answer to work that raised: a refusal in JSON with its rule, or a 500 whose
    traceback goes to the log, never into the answer."""
    if isinstance(exc, ApiError):
        return Answer(exc.status, exc.body(), exc.headers)
    if isinstance(exc, StoreOffline):
        log.warning("store unreachable: %s", exc.detail or exc)
    if isinstance(exc, ConnectorError):
        refused = from_connector(exc)
        return Answer(refused.status, refused.body())
    log.error("%s failed", endpoint.work.__name__, exc_info=exc)
    error = ApiError(500, "internal_error", "the server could not do this; see its log")
    return Answer(500, error.body())


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


def is_guess(answer: Answer) -> bool:
    error = answer.body.get("error") if isinstance(answer.body, dict) else None
    return isinstance(error, dict) and error.get("type") in GUESSES


def answer_parts(answer: Answer) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """An answer as the ASGI server sends it: status, headers, JSON body."""
    body = json.dumps(answer.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    named = {"content-type": "application/json", "content-length": str(len(body)),
             "cache-control": "no-store", "x-content-type-options": "nosniff"}
    named.update((k.lower(), v) for k, v in answer.headers.items())
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in named.items()]
    return answer.status, raw, body


def response(answer: Answer) -> Response:
    """The answer as a Starlette response (the routes Starlette routes itself)."""
    status, headers, body = answer_parts(answer)
    made = Response(body, status_code=status)
    made.raw_headers = headers
    return made
