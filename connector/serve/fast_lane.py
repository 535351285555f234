"""The API's fast lane: on a PostgreSQL store, a request whose work is one statement runs on
the event loop itself, with no thread: `POST /v1/validate` (Register.check's one read) and a
scan or payment under an Idempotency-Key (the claim, the work and the kept answer in one call).

With 16 registers on two cores, handing each request to a thread and its answer back cost the
server more than the rest of its work (see store/loop_connections.py). Everything here but
the statement is the gateway's own code, run in the same order: key, scope, guard, body,
Idempotency-Key, fingerprint, claim, answer; an API key not read from the store within the
last second is read here too, on the loop's connections. Whatever this lane cannot finish
without waiting on the store some other way is left to the thread path, which does it in full:
  * an API key the store does not know as live, or could not be asked for (it asks again and
    answers 401, or says what failed);
  * a client the guard refuses (the thread path answers the 429);
  * an Idempotency-Key held by a request still running, or to be forgotten (it waits, or
    forgets it);
  * a reply the functions leave to Python (nothing written, nothing claimed);
  * the store unreachable from the loop's connections (nothing written, or the key holds
    the answer for the retry).
A keyed write whose key the call claimed but whose work it left to Python (a refused code, a
case the functions do not take) goes on on a thread with its key claimed, as on the thread
path. A refused code counts against the guard on a thread: a lockout may send alerts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from connector.errors import StoreError, StoreOffline
from connector.serve import idempotency as idem
from connector.serve.bodies import parse
from connector.serve.context import Context
from connector.serve.gateway import (
    Answer,
    Call,
    Endpoint,
    Facts,
    authorised_on,
    failed,
    fingerprint,
    idempotency_key,
    is_guess,
    plain,
    reused,
    settled,
    work_once,
)
from connector.store.schema import utcnow

if TYPE_CHECKING:
    from connector.store.loop_connections import LoopConnections

T = TypeVar("T")


async def handle(ctx: Context, facts: Facts, endpoint: Endpoint, raw: bytes,
                 lines: LoopConnections) -> Answer | None:
    """The answer, or None: the thread path is to do the whole request."""
    key = await authorised_on(ctx, facts.authorization, endpoint.scopes, lines)
    if key is None:
        return None
    clients = facts.clients(key)
    if endpoint.guarded and ctx.guard.wait_for(*clients) > 0:
        return None
    body = parse(endpoint.body, raw) if endpoint.body is not None else None
    call = Call(key, body, facts.params, facts.client)
    if endpoint.write and facts.idempotency_key is not None:
        answer = await _once(ctx, facts, endpoint, call, lines)
    else:
        answer = await _work(ctx, endpoint, call, lines)
    if answer is not None and endpoint.guarded and is_guess(answer):
        await _on_thread(ctx, lambda: ctx.guard.refused(*clients))
    return answer


async def _work(ctx: Context, endpoint: Endpoint, call: Call,
                lines: LoopConnections) -> Answer | None:
    if endpoint.on_loop is None:
        return None
    try:
        done = await endpoint.on_loop(ctx, call, lines)
    except Exception as exc:  # noqa: BLE001 - every failure becomes an answer, as on a thread
        return failed(endpoint, exc)
    return None if done is None else Answer(done[0], plain(done[1]))


async def _once(ctx: Context, facts: Facts, endpoint: Endpoint, call: Call,
                lines: LoopConnections) -> Answer | None:
    trip = endpoint.one_trip
    if trip is None:
        return None
    key = idempotency_key(facts)
    print_ = fingerprint(facts, call)
    # imported here: it needs psycopg, which only a PostgreSQL store installs
    from connector.redeem.server_functions import KeyClaim

    claim = KeyClaim(call.key.id, key, print_, utcnow(), trip.status)
    try:
        reply = await trip.on_loop(ctx, call, claim, lines)
    except (StoreError, StoreOffline):
        return None  # the thread path claims again: the key says whether it was done
    if reply is None:
        return None
    claimed, row = idem.attempted(reply)
    got: idem.Stored | idem.Claimed | None = claimed
    if claimed is None:
        if row is None or idem.outlived(row):
            return None
        try:
            got = idem.kept_answer(row, print_)
        except idem.KeyReused:
            raise reused() from None
    if got is None:
        return None  # still running: the thread path waits for it
    answer = settled(endpoint, got)
    if answer is not None:
        return answer
    return await _on_thread(ctx, lambda: work_once(ctx, endpoint, call, key))


async def _on_thread(ctx: Context, work: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(ctx.tills, work)
