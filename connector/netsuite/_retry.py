"""The one retry policy for NetSuite calls, built on tenacity (R31).

What is retried: errors whose class is `retryable` (429 and CONCURRENCY_LIMIT_EXCEEDED, 5xx,
dropped connections, timeouts; Oracle asks clients to retry after concurrency errors,
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1504769959.html),
and a 401 at most `auth_retries` times, because over-concurrency can surface as a slow
`401 INVALID_LOGIN` (a user report: julbrs/netsuite-api-client#26). Every attempt is signed
afresh by the transport.

A non-idempotent call (POST create) is retried only when NetSuite cannot have acted on it: the
connection was never established (`NetSuiteConnectFailed`), or, if `retry_post_on_429`, a 429
(RFC 6585: the request was refused, not processed). Never after a 5xx or a dropped connection.

A connection that was never made (refused, DNS name not found, connect timeout, TLS handshake)
is retried for `connect_seconds` only: such a host is down or misnamed, and an unattended run
should say so in seconds, not after minutes of backoff. Waits are capped, fully jittered
exponentials; a Retry-After (seconds or HTTP date) replaces the computed wait. The policy gives up
after `max_attempts` or when the next wait would pass `max_total_seconds`, with an error of the
last error's class saying how many attempts over how long. `sleep`, `clock` and `jitter` are
injectable so tests never sleep.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying

from connector.errors import NetSuiteAuthError, NetSuiteError, NetSuiteRateLimited
from connector.netsuite._errors_table import (
    NetSuiteConnectFailed,
    NetSuiteIdempotencyConflict,
    NetSuiteTokenError,
)

T = TypeVar("T")
log = logging.getLogger("promosync.netsuite.retry")


@dataclass(frozen=True)
class RetryPolicy:
    """Retry settings (base, cap, attempts, total time) plus injectable sleep/clock/jitter."""

    max_attempts: int = 8
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    max_total_seconds: float = 300.0
    auth_retries: int = 1
    connect_seconds: float = 3.0  # a connection never made (refused, DNS): retried this long
    retry_post_on_429: bool = True
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    jitter: Callable[[float, float], float] = field(default=random.uniform, repr=False)
    on_retry: Callable[[NetSuiteError, int, float], None] | None = field(default=None, repr=False)

    def backoff(self, attempt: int) -> float:
        """Full-jitter wait after failed attempt number `attempt` (1-based), capped."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** (attempt - 1)))
        return max(0.0, self.jitter(0.0, ceiling))

    def should_retry(self, error: BaseException, attempt: int, *, idempotent: bool) -> bool:
        """Whether attempt number `attempt` that failed with `error` may be tried again."""
        if not isinstance(error, NetSuiteError) or isinstance(error, NetSuiteIdempotencyConflict):
            return False
        if isinstance(error, NetSuiteAuthError):
            return (not isinstance(error, NetSuiteTokenError) and error.status == 401
                    and attempt <= self.auth_retries)
        if not error.retryable:
            return False
        if idempotent or isinstance(error, NetSuiteConnectFailed):
            return True
        return self.retry_post_on_429 and isinstance(error, NetSuiteRateLimited)

    def wait_for(self, error: BaseException | None, attempt: int) -> float:
        """Retry-After when the error carries one, else the jittered backoff."""
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float):
            return max(0.0, float(retry_after))
        return self.backoff(attempt)

    def call(
        self,
        attempt_fn: Callable[[int], T],
        *,
        idempotent: bool,
        describe: str,
        before_retry: Callable[[NetSuiteError], None] | None = None,
    ) -> T:
        """Run `attempt_fn(attempt_number)` until it returns, fails for good, or time is up."""
        start = self.clock()

        def retry(state: RetryCallState) -> bool:
            error = state.outcome.exception() if state.outcome else None
            return error is not None and self.should_retry(
                error, state.attempt_number, idempotent=idempotent)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            return self.wait_for(error, state.attempt_number)

        def stop(state: RetryCallState) -> bool:
            elapsed = self.clock() - start
            error = state.outcome.exception() if state.outcome else None
            # a host that refuses or does not resolve rarely comes back within the minute:
            # retried briefly, so that an unattended run says so in seconds
            limit = (min(self.connect_seconds, self.max_total_seconds)
                     if isinstance(error, NetSuiteConnectFailed) else self.max_total_seconds)
            return (state.attempt_number >= self.max_attempts
                    or elapsed + state.upcoming_sleep > limit)

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            assert isinstance(error, NetSuiteError)
            log.warning("%s failed (attempt %d: %s %s); retrying in %.2fs", describe,
                        state.attempt_number, type(error).__name__, reason(error),
                        state.upcoming_sleep)
            if before_retry is not None:
                before_retry(error)
            if self.on_retry is not None:
                self.on_retry(error, state.attempt_number, state.upcoming_sleep)

        def give_up(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            assert isinstance(error, NetSuiteError)
            raise _gave_up(error, state.attempt_number, self.clock() - start, describe)

        retrying = Retrying(retry=retry, wait=wait, stop=stop, sleep=self.sleep,
                            before_sleep=before_sleep, retry_error_callback=give_up)
        for attempt in retrying:
            with attempt:
                return attempt_fn(attempt.retry_state.attempt_number)
        raise AssertionError("unreachable: tenacity ended without a result")  # pragma: no cover


def reason(error: NetSuiteError) -> str:
    """What a retry log line says of an error: its status and code, or the connection's cause."""
    parts = [str(p) for p in (error.status, error.error_code) if p]
    if not parts and error.detail:
        parts.append(error.detail)
    return " ".join(parts) or "-"


def _gave_up(error: NetSuiteError, attempts: int, elapsed: float, describe: str) -> NetSuiteError:
    """An error of the same class as the last one, saying how many attempts over how long."""
    return restate(error, f"{describe}: gave up after {attempts} attempts over {elapsed:.1f}s; "
                          f"last error: {error}")


def restate(error: NetSuiteError, message: str) -> NetSuiteError:
    """A copy of `error` (same class and context) with a new message; caused by the original."""
    context: dict[str, Any] = dict(
        status=error.status, error_code=error.error_code, detail=error.detail,
        error_path=error.error_path, method=error.method, url=error.url,
        retry_after=error.retry_after)
    try:
        new = type(error)(message, **context)
    except TypeError:  # a subclass with a different constructor
        new = NetSuiteError(message, **context)
    new.__cause__ = error
    return new
