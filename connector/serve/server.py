"""Running the application under uvicorn: on a socket bound before it starts (so a port in use
is one clear error), loopback unless told otherwise, in the foreground or on a thread (tests).

uvicorn is the ASGI server; with httptools installed (a dependency) it parses HTTP in C, and
with uvloop (a dependency but on Windows) its event loop is libuv's. The event loop does the
API's one-statement work itself (fast_lane.py), and with uvloop it answered 17% more keyed
scans and payments and 45% more validates, on the same machine, than with asyncio's own loop.
The client address the guard counts is the socket's peer: forwarded-for headers are not trusted.
"""

from __future__ import annotations

import gc
import ipaddress
import socket
import sys
import threading
import time
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from connector.errors import ConfigError

try:
    import httptools  # noqa: F401 - its presence is what lets uvicorn parse HTTP in C

    HTTP = "httptools"
except ImportError:  # pragma: no cover - httptools is a dependency; h11 is uvicorn's own
    HTTP = "h11"
try:
    import uvloop  # noqa: F401 - its presence is what lets uvicorn run on libuv's loop

    LOOP = "uvloop"
except ImportError:  # pragma: no cover - Windows, where uvloop is not made
    LOOP = "asyncio"


SWITCH_INTERVAL = 0.001  # seconds


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (0: a free port); ConfigError when it cannot be."""
    address = "127.0.0.1" if host == "localhost" else host
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET  # a host name: resolved by bind
    # IPPROTO_TCP said outright: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    # connections whose protocol is TCP by name; with 0 every answer waited ~40 ms for an ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(2048)  # connections made once the URL is printed wait for the server
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def config(app: Starlette, log_level: str = "warning") -> uvicorn.Config:
    return uvicorn.Config(app, http=HTTP, loop=LOOP, lifespan="on", log_config=None,
                          log_level=log_level, access_log=False, proxy_headers=False,
                          server_header=False, timeout_keep_alive=30, timeout_graceful_shutdown=10)


def run(app: Starlette, sock: socket.socket, log_level: str = "warning") -> None:
    """Serve until Ctrl-C or SIGTERM (uvicorn finishes the requests in flight)."""
    # The event loop hands each request to a pool thread and its answer back: with Python's
    # 5 ms switch interval it waited up to that long for the interpreter lock each time.
    sys.setswitchinterval(SWITCH_INTERVAL)
    # What is loaded by now (modules, the app, the store's metadata) lives as long as the
    # process: kept out of the collector's full sweeps, each of which had paused every
    # request in flight for as long as it took to walk them all.
    gc.collect()
    gc.freeze()
    uvicorn.Server(config(app, log_level)).run(sockets=[sock])


class ServerThread:
    """The server on a thread of this process: `with ServerThread(app, sock) as url: ...`."""

    def __init__(self, app: Starlette, sock: socket.socket) -> None:
        self.sock = sock
        self.server = uvicorn.Server(config(app))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       name="promosync-serve", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return url_of(self.sock)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()
