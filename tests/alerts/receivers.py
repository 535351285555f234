"""Real alert targets on 127.0.0.1 for the tests and benchmarks/bench_alerts.py: a webhook
receiver that checks the HMAC signature the way the README tells a receiver to, an SMTP server
(aiosmtpd) that offers STARTTLS with a certificate made here and wants a login, and a black
hole (a port whose connects are never answered)."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MAX_SKEW = 300  # seconds a signed timestamp may be away from the receiver's clock


def signature_ok(key: bytes, headers: Any, body: bytes, now: float | None = None) -> bool:
    """A receiver's check: `sha256=` HMAC over "<timestamp>.<raw body>", timestamp fresh."""
    stamp = headers.get("X-Promosync-Timestamp") or ""
    given = headers.get("X-Promosync-Signature") or ""
    if not stamp.isdigit() or abs((now or time.time()) - int(stamp)) > MAX_SKEW:
        return False
    want = "sha256=" + hmac.new(key, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, given)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signed: bool  # the signature checked out with the receiver's key
    at: float = field(default_factory=time.monotonic)
    wall: float = field(default_factory=time.time)

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """`with WebhookReceiver(key) as r:` r.url; r.received; `answers`: statuses to give first
    (then 200)."""

    def __init__(self, key: bytes = b"", answers: list[int] | None = None) -> None:
        self.key = key
        self.answers = list(answers or [])
        self.received: list[Received] = []
        self.statuses: list[int] = []
        self.arrived = threading.Condition()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with owner.arrived:
                    status = owner.answers.pop(0) if owner.answers else 200
                    owner.statuses.append(status)
                    if status == 200:
                        owner.received.append(Received(
                            self.path, dict(self.headers.items()), body,
                            signature_ok(owner.key, self.headers, body)))
                    owner.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class BlackHole:
    """A port on 127.0.0.1 whose connects are never answered: its one-place backlog is full,
    so the kernel drops further SYNs, as a firewall that drops packets would."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._fill: list[socket.socket] = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self._fill.append(c)
        time.sleep(0.05)

    def __enter__(self) -> BlackHole:
        return self

    def __exit__(self, *exc: object) -> None:
        for c in self._fill:
            c.close()
        self.sock.close()


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (connects are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) PEM files for localhost / 127.0.0.1, made now."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    data: bytes
    tls: bool  # the message came over an encrypted session
    login: str | None


class SmtpServer:
    """aiosmtpd on 127.0.0.1 with STARTTLS (`starttls=False`: a server without it) and, when
    `user` is given, AUTH wanting that user and password (only inside TLS, as aiosmtpd does)."""

    def __init__(self, folder: Path, user: str | None = None, password: str | None = None,
                 starttls: bool = True) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.cert, key = self_signed(folder)
        self.mails: list[Mail] = []
        self.logins: list[tuple[str, bool]] = []  # (user, whether over TLS)
        self.arrived = threading.Condition()
        owner = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                with owner.arrived:
                    owner.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos),
                                            envelope.original_content or envelope.content,
                                            session.ssl is not None,
                                            session.auth_data.login.decode()
                                            if session.auth_data else None))
                    owner.arrived.notify_all()
                return "250 OK"

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                          auth_data: Any) -> Any:
            ok = (isinstance(auth_data, LoginPassword) and user is not None
                  and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            if isinstance(auth_data, LoginPassword):
                owner.logins.append((auth_data.login.decode(), session.ssl is not None))
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.port = closed_port()
        self.controller = Controller(
            Handler(), hostname="127.0.0.1", port=self.port,
            tls_context=context if starttls else None, require_starttls=starttls,
            authenticator=authenticator if user else None, auth_require_tls=True,
            auth_required=bool(user))

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[Mail]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.mails) >= count, timeout)
            return list(self.mails)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
