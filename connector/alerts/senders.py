"""Delivering one alert to one target before a deadline (R44): webhook, Slack, SMTP.

Webhook: POST of the alert's JSON document (UTF-8, compact, keys sorted) with

    X-Promosync-Event: run_failed
    X-Promosync-Timestamp: 1767225600                  (Unix seconds, when this attempt was sent)
    X-Promosync-Signature: sha256=<hex>

where <hex> is HMAC-SHA256, keyed with the bytes of the variable `secret_env` names, over
`<timestamp>.<raw body>` (the timestamp's ASCII digits, a full stop, the body bytes exactly as
received). A receiver recomputes it over the raw body, compares in constant time, and refuses a
timestamp more than five minutes from its clock: a captured request cannot be replayed later.

Slack (or any compatible incoming webhook): POST `{"text": "..."}` to the URL the variable
`url_env` holds. SMTP: one plain-text message; the connection is always upgraded with STARTTLS
(certificate and host name checked, against `ca_file` if given) before anything else is said,
and a server that does not offer STARTTLS is refused: no password and no alert goes in clear.

HTTP targets are retried on connection errors, timeouts, 429 and 5xx, SMTP on connection errors
and 4xx replies, with backoff (0.5 s, 1 s, 2 s, ...) until the target's deadline; other answers
fail at once. Causes name the target by scheme, host and port only (a Slack URL is a
credential) and never hold a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from connector.alerts.config import SlackTarget, SmtpTarget, WebhookTarget
from connector.alerts.events import Alert

CONNECT_SECONDS = 2.0  # a target that does not answer a connect in this long is down
READ_SECONDS = 5.0
FIRST_BACKOFF = 0.5
SIGNATURE_HEADER = "X-Promosync-Signature"
TIMESTAMP_HEADER = "X-Promosync-Timestamp"


class Undeliverable(Exception):  # noqa: N818 - an outcome, said as a cause
    """The alert did not reach the target; the message is the cause, free of secrets."""


class _Transient(Exception):  # noqa: N818
    """Worth another attempt while the deadline allows."""


def sign(key: bytes, timestamp: str, body: bytes) -> str:
    """The X-Promosync-Signature value for `body` sent at `timestamp`."""
    digest = hmac.new(key, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def where(url: str) -> str:
    """scheme://host:port of a URL: what a message may show of it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def _from_env(name: str, what: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise Undeliverable(f"the environment variable {name} ({what}) is not set")
    return value


def deliver(target: WebhookTarget | SlackTarget | SmtpTarget, alert: Alert,
            deadline: float) -> int:
    """Send `alert` to `target` by `deadline` (time.monotonic()); the attempts it took.
    Raises Undeliverable with the cause."""
    if isinstance(target, WebhookTarget):
        return _webhook(target, alert, deadline)
    if isinstance(target, SlackTarget):
        return _slack(target, alert, deadline)
    return _smtp(target, alert, deadline)


def body_bytes(alert: Alert) -> bytes:
    return json.dumps(alert.body(), separators=(",", ":"), sort_keys=True,
                      ensure_ascii=False, default=str).encode("utf-8")


def _webhook(target: WebhookTarget, alert: Alert, deadline: float) -> int:
    key = _from_env(target.secret_env, "the webhook's HMAC key").encode("utf-8")
    body = body_bytes(alert)

    def headers() -> dict[str, str]:
        stamp = str(int(time.time()))
        return {"Content-Type": "application/json", "User-Agent": "promosync-alerts",
                "X-Promosync-Event": alert.event, TIMESTAMP_HEADER: stamp,
                SIGNATURE_HEADER: sign(key, stamp, body)}

    return _retrying(lambda left: _post(target.url, body, headers(), left), deadline)


def _slack(target: SlackTarget, alert: Alert, deadline: float) -> int:
    url = _from_env(target.url_env, "the incoming webhook's URL")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise Undeliverable(f"the environment variable {target.url_env} is not an http(s) URL")
    body = json.dumps({"text": alert.text()}, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "promosync-alerts"}
    return _retrying(lambda left: _post(url, body, headers, left), deadline)


def _post(url: str, body: bytes, headers: dict[str, str], left: float) -> None:
    import requests

    place = where(url)
    try:
        answer = requests.post(url, data=body, headers=headers, allow_redirects=False,
                               timeout=(min(CONNECT_SECONDS, left), min(READ_SECONDS, left)))
    except requests.exceptions.ConnectTimeout:
        raise _Transient(f"{place}: no answer to connect within "
                         f"{min(CONNECT_SECONDS, left):.1f} s") from None
    except requests.exceptions.ReadTimeout:
        raise _Transient(f"{place}: no response within {min(READ_SECONDS, left):.1f} s") from None
    except requests.exceptions.SSLError:
        raise Undeliverable(f"{place}: TLS failed (certificate not trusted?)") from None
    except requests.exceptions.ConnectionError as exc:
        refused = "refused" in str(exc).lower()
        raise _Transient(f"{place}: {'connection refused' if refused else 'connection failed'}"
                         ) from None
    status = answer.status_code
    answer.close()
    if 200 <= status < 300:
        return
    if status == 429 or status >= 500:
        raise _Transient(f"{place} answered HTTP {status}")
    raise Undeliverable(f"{place} refused the alert: HTTP {status}")


def _smtp(target: SmtpTarget, alert: Alert, deadline: float) -> int:
    login = None
    if target.user_env and target.password_env:
        login = (_from_env(target.user_env, "the SMTP user"),
                 _from_env(target.password_env, "the SMTP password"))
    message = EmailMessage()
    message["Subject"] = f"[promosync] {alert.summary}"[:200]
    message["From"] = target.sender
    message["To"] = ", ".join(target.to)
    message["X-Promosync-Event"] = alert.event
    message.set_content(alert.text() + "\n\n" + json.dumps(alert.body(), indent=2,
                                                           ensure_ascii=False, default=str))
    context = ssl.create_default_context(
        cafile=os.path.expanduser(target.ca_file) if target.ca_file else None)
    place = f"smtp://{target.host}:{target.port}"

    def attempt(left: float) -> None:
        try:
            with smtplib.SMTP(target.host, target.port, timeout=min(READ_SECONDS, left)) as s:
                s.ehlo()
                if not s.has_extn("starttls"):
                    raise Undeliverable(f"{place} does not offer STARTTLS; promosync never "
                                        "sends mail in clear")
                s.starttls(context=context)
                s.ehlo()
                if login is not None:
                    s.login(*login)
                s.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise Undeliverable(f"{place} refused the login ({exc.smtp_code})") from None
        except smtplib.SMTPResponseException as exc:
            cause = f"{place} answered {exc.smtp_code}"
            raise (_Transient(cause) if 400 <= exc.smtp_code < 500 else Undeliverable(cause)
                   ) from None
        except smtplib.SMTPRecipientsRefused:
            raise Undeliverable(f"{place} refused every recipient") from None
        except ssl.SSLError as exc:
            raise Undeliverable(f"{place}: TLS failed ({exc.reason or 'handshake'})") from None
        except TimeoutError:
            raise _Transient(f"{place}: no answer within {min(READ_SECONDS, left):.1f} s"
                             ) from None
        except ConnectionRefusedError:
            raise _Transient(f"{place}: connection refused") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise _Transient(f"{place}: {type(exc).__name__}") from None

    return _retrying(attempt, deadline)


def _retrying(attempt: Callable[[float], Any], deadline: float) -> int:
    """Call `attempt(seconds left)` until it succeeds, fails for good, or the deadline passes."""
    tries = 0
    backoff = FIRST_BACKOFF
    last = ""
    while True:
        left = deadline - time.monotonic()
        if left <= 0.05:
            raise Undeliverable(f"{last} (gave up after {tries} attempts)" if tries
                                else "no time left to try")
        tries += 1
        try:
            attempt(left)
            return tries
        except _Transient as exc:
            last = str(exc)
        pause = min(backoff, deadline - time.monotonic())
        if pause > 0:
            time.sleep(pause)
        backoff *= 2
