"""The one table from HTTP status + `o:errorCode` to the typed errors of connector/errors.py.

Oracle's "Error Handling and Error Codes" page gives the error body (`title`, `status`,
`o:errorDetails[{detail, o:errorCode, o:errorPath}]`) and codes such as `INVALID_LOGIN` and
`INVALID_CONTENT`: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156570709583.html.
The `IDEMPOTENCY_ERROR` conflict (400 + Location of the earlier job) is on Oracle's idempotency
page, https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_164494900632.html;
the OAuth 2.0 token errors (`invalid_client`, ...) come from public clients (OAuth 2.0 client
credentials: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_162755359851.html).
Errors carry status, code, detail, path, method and URL; never request headers, bodies or
credentials.

Bodies that are not NetSuite JSON (an HTML page from a proxy, an empty or truncated body) become
`NetSuiteBadResponse` with a short snippet, except where the status alone says what happened
(401, 403, 404, 429, 5xx): those keep their class, so a proxy's HTML 502 stays retryable.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from connector.errors import (
    NetSuiteAuthError,
    NetSuiteBadRequest,
    NetSuiteBadResponse,
    NetSuiteError,
    NetSuiteForbidden,
    NetSuiteNotFound,
    NetSuiteRateLimited,
    NetSuiteServerError,
)

# Defined in connector/errors.py with the rest of the tree; importable from here too.
from connector.errors import NetSuiteConnectFailed as NetSuiteConnectFailed
from connector.errors import NetSuiteIdempotencyConflict as NetSuiteIdempotencyConflict
from connector.errors import NetSuiteTokenError as NetSuiteTokenError

SNIPPET_CHARS = 160


# o:errorCode decides first (whatever the status), then the status.
ERRORS_BY_CODE: Mapping[str, type[NetSuiteError]] = {
    "CONCURRENCY_LIMIT_EXCEEDED": NetSuiteRateLimited,
    "IDEMPOTENCY_ERROR": NetSuiteIdempotencyConflict,
}
ERRORS_BY_STATUS: Mapping[int, type[NetSuiteError]] = {
    400: NetSuiteBadRequest,
    401: NetSuiteAuthError,
    403: NetSuiteForbidden,
    404: NetSuiteNotFound,
    429: NetSuiteRateLimited,
}
# Statuses whose meaning does not depend on the body being NetSuite JSON.
STATUS_SPEAKS_FOR_ITSELF = frozenset({401, 403, 404, 429})


@dataclass(frozen=True)
class ErrorBody:
    """The parts of a NetSuite (or OAuth token endpoint) error body promosync uses."""

    title: str | None = None
    error_code: str | None = None
    detail: str | None = None
    error_path: str | None = None


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The first `limit` characters of a body on one line, for error messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def parse_error_body(text: str) -> ErrorBody | None:
    """Read a NetSuite error body or an OAuth error body; None when it is not a JSON object."""
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if "error" in data and isinstance(data["error"], str):  # OAuth 2.0 token endpoint
        return ErrorBody(data.get("error"), data["error"], _str(data.get("error_description")))
    details = data.get("o:errorDetails")
    first: dict[str, Any] = details[0] if isinstance(details, list) and details else {}
    if not isinstance(first, dict):
        first = {}
    return ErrorBody(
        title=_str(data.get("title")),
        error_code=_str(first.get("o:errorCode")),
        detail=_str(first.get("detail")),
        error_path=_str(first.get("o:errorPath")),
    )


def _str(value: object) -> str | None:
    return None if value is None else str(value)


_DELTA_SECONDS = re.compile(r"\d+(\.\d+)?")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        return max(0.0, float(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def error_class(status: int, error_code: str | None) -> type[NetSuiteError]:
    """The table lookup: `o:errorCode` first, then status; other 4xx are bad requests."""
    if error_code and error_code in ERRORS_BY_CODE:
        return ERRORS_BY_CODE[error_code]
    if status in ERRORS_BY_STATUS:
        return ERRORS_BY_STATUS[status]
    if status >= 500:
        return NetSuiteServerError
    if 400 <= status < 500:
        return NetSuiteBadRequest
    return NetSuiteBadResponse


def error_from_response(
    status: int, headers: Mapping[str, str], text: str, *, method: str, url: str
) -> NetSuiteError:
    """Build the typed error for one non-2xx response."""
    body = parse_error_body(text)
    retry_after = parse_retry_after(headers.get("Retry-After"))
    where = f"{method} {urlsplit(url).path}"
    if body is None:
        if status not in STATUS_SPEAKS_FOR_ITSELF and status < 500:
            return bad_response(status, text, method=method, url=url, why="is not NetSuite JSON")
        cls = error_class(status, None)
        shown = snippet(text) or "empty body"
        return cls(
            f"NetSuite answered {status} ({where}): {shown}",
            status=status, detail=shown, method=method, url=url, retry_after=retry_after,
        )
    cls = error_class(status, body.error_code)
    label = body.error_code or body.title or "error"
    message = f"NetSuite {status} {label} ({where})"
    if body.detail:
        message += f": {body.detail}"
    if body.error_path:
        message += f" [at {body.error_path}]"
    context: dict[str, Any] = dict(
        status=status, error_code=body.error_code, detail=body.detail,
        error_path=body.error_path, method=method, url=url, retry_after=retry_after,
    )
    if cls is NetSuiteIdempotencyConflict:
        return NetSuiteIdempotencyConflict(message, location=headers.get("Location"), **context)
    return cls(message, **context)


def bad_response(
    status: int, text: str, *, method: str, url: str, why: str
) -> NetSuiteBadResponse:
    """A body that is not what NetSuite sends: status and a short snippet, never the whole."""
    shown = snippet(text) or "(empty)"
    where = f"{method} {urlsplit(url).path}"
    return NetSuiteBadResponse(
        f"NetSuite answered {status} but the body {why} ({where}): {shown}",
        status=status, detail=shown, method=method, url=url,
    )


def json_object(status: int, text: str | bytes, *, method: str, url: str) -> dict[str, Any]:
    """Parse a 2xx body that must be a JSON object; never leaks a JSONDecodeError.

    Bytes are parsed as they came (json detects UTF-8/16/32): `requests`' `.text` would first
    guess the charset of every page NetSuite sends without one (its content type is
    application/vnd.oracle.resource+json), which costs more than the JSON parse itself."""
    if not text.strip():
        raise bad_response(status, _shown(text), method=method, url=url, why="is empty")
    try:
        data = json.loads(text)
    except ValueError:
        raise bad_response(status, _shown(text), method=method, url=url,
                           why="is not JSON") from None
    if not isinstance(data, dict):
        raise bad_response(status, _shown(text), method=method, url=url,
                           why="is not a JSON object")
    return data


def _shown(text: str | bytes) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text
