"""Why a connection to NetSuite failed, in the words of the failure (connection refused, timed
out, DNS name not found, TLS handshake failed, reset), and whether the request can have reached
NetSuite at all.

`requests` wraps the socket's own error two or three levels down (urllib3's MaxRetryError,
NewConnectionError, then ConnectionRefusedError or socket.gaierror): both functions walk the
whole chain (causes, contexts, `reason`, exception arguments).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

import requests

_NEVER_SENT = ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None)])
        stack.extend(arg for arg in item.args if isinstance(arg, BaseException))


def never_sent(exc: BaseException) -> bool:
    """True when the connection was never established (connect timeout, refused, DNS, a TLS
    handshake that failed: the request is sent only once the handshake is done)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError):
        return True
    return any(isinstance(item, ConnectionRefusedError) or type(item).__name__ in _NEVER_SENT
               for item in _chain(exc))


def cause(exc: BaseException) -> str:
    """The failure in a few plain words ("connection refused", "DNS name not found (host)",
    "TLS: certificate verify failed", "timed out", ...); the class name when none fits."""
    items = list(_chain(exc))
    if any(isinstance(i, ConnectionRefusedError) for i in items):
        return "connection refused"
    for item in items:
        if isinstance(item, socket.gaierror) or type(item).__name__ == "NameResolutionError":
            return "DNS name not found"
    for item in items:
        if isinstance(item, ssl.SSLCertVerificationError):
            return f"TLS certificate refused: {item.verify_message or 'verify failed'}"
    for item in items:
        if isinstance(item, ssl.SSLError):
            return f"TLS handshake failed: {item.reason or item.strerror or 'no reason given'}"
    if isinstance(exc, requests.exceptions.ConnectTimeout) or any(
            type(i).__name__ == "ConnectTimeoutError" for i in items):
        return "timed out connecting"
    if any(isinstance(i, requests.exceptions.Timeout | TimeoutError) for i in items):
        return "timed out waiting for the answer"
    if any(isinstance(i, ConnectionResetError) for i in items):
        return "connection reset"
    if any(type(i).__name__ in ("RemoteDisconnected", "ProtocolError") for i in items):
        return "connection closed by the server"
    return type(exc).__name__
