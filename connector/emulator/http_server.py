"""HTTP transport: EmulatorServer, a ThreadingHTTPServer serving the emulator on 127.0.0.1.

HTTP/1.1 keep-alive with exact Content-Length, daemon threads, TCP_NODELAY, one write per
response: the per-request path is kept short so four keep-alive clients get well over 1,000
small GETs a second on two cores (benchmarks/bench_emulator.py). Request bodies come with a
Content-Length or `Transfer-Encoding: chunked` (read to the last chunk, so the next request on
the connection starts where it should); a body over 104 MB (Oracle's REST request limit) is
answered 413 and the connection closed. A drop fault closes the socket without a response.
"""

from __future__ import annotations

import logging
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from connector.emulator.backend import NetSuiteBackend
from connector.emulator.core import Emulator
from connector.emulator.faults import Faults
from connector.emulator.options import Credentials, EmulatorOptions
from connector.emulator.wire import CaseInsensitiveHeaders, Drop, Request

log = logging.getLogger(__name__)
_REASONS = {s.value: s.phrase for s in HTTPStatus}
MAX_BODY = 104 * 1024 * 1024  # Oracle chapter_161251386312: REST requests are limited to 104 MB


class _TooLarge(Exception):
    """The request body is larger than MAX_BODY."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        """A lean HTTP/1.1 request reader (the stdlib's runs the e-mail header parser on
        every request, which is most of its cost for small GETs)."""
        try:
            line = self.rfile.readline(65537)
            parts = line.decode("latin-1").split()
            if len(parts) != 3:
                self.close_connection = True
                return
            self.command, self.path, version = parts
            headers = CaseInsensitiveHeaders()
            for _ in range(200):
                raw = self.rfile.readline(65537)
                if raw in (b"\r\n", b"\n", b""):
                    break
                name, _, value = raw.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            conn = headers.get("connection", "").lower()
            self.close_connection = conn == "close" or (version == "HTTP/1.0"
                                                        and conn != "keep-alive")
            self._serve(headers)
            self.wfile.flush()
        except (ConnectionError, TimeoutError, ValueError) as exc:
            log.debug("connection ended: %s", exc)
            self.close_connection = True

    def _body(self, headers: CaseInsensitiveHeaders) -> bytes:
        """The request body: chunked (RFC 9112 section 7.1) or of Content-Length bytes."""
        if "chunked" in str(headers.get("Transfer-Encoding", "")).lower():
            parts: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline(1024).split(b";", 1)[0].strip() or b"x", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailer fields, ignored
                    return b"".join(parts)
                total += size
                if total > MAX_BODY:
                    raise _TooLarge()
                parts.append(self.rfile.read(size))
                self.rfile.readline(1024)  # the CRLF after the chunk
        length = int(headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise _TooLarge()
        return self.rfile.read(length) if length else b""

    def _serve(self, headers: CaseInsensitiveHeaders) -> None:
        try:
            body = self._body(headers)
        except _TooLarge:
            self.close_connection = True
            self.wfile.write(b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
            return
        host = headers.get("Host") or self.server.authority
        req = Request(self.command, f"http://{host}{self.path}", headers, body)
        try:
            resp = self.server.emulator.dispatch(req)
        except Drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError as exc:
                log.debug("drop fault: %s", exc)
            return
        head = [f"HTTP/1.1 {resp.status} {_REASONS.get(resp.status, 'Unknown')}"]
        head.extend(f"{k}: {v}" for k, v in resp.headers.items())
        head.append(f"Content-Length: {len(resp.body)}")
        if self.close_connection:
            head.append("Connection: close")
        payload = b"" if self.command == "HEAD" else resp.body
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s - %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)
        host, port = self.server_address[:2]
        self.authority = f"{host!s}:{port}"


class EmulatorServer:
    """`with EmulatorServer() as srv:` -> srv.url (http://127.0.0.1:<free port>)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 options: EmulatorOptions | None = None, emulator: Emulator | None = None
                 ) -> None:
        self.host = host
        self.port = port
        self.emulator = emulator or Emulator(options)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator server is not started")
        host, port = self._server.server_address[:2]
        text = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{text}]" if ":" in text else text
        return f"http://{shown}:{port}"

    @property
    def backend(self) -> NetSuiteBackend:
        return self.emulator.backend

    @property
    def faults(self) -> Faults:
        return self.emulator.faults

    @property
    def credentials(self) -> Credentials:
        return self.emulator.credentials

    def stats(self) -> dict[str, Any]:
        return self.emulator.stats()

    def start(self) -> EmulatorServer:
        if self._server is None:
            self._server = _Server((self.host, self.port), self.emulator)
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.1},
                                            name="netsuite-emulator", daemon=True)
            self._thread.start()
        return self

    def wait(self) -> None:
        """Block until the server thread ends (KeyboardInterrupt reaches the caller)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.emulator.backend.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
