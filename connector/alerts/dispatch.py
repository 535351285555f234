"""Sending an alert to its targets without holding the caller up (R44): `notify`.

Each target gets its own daemon thread and a deadline (the target's `timeout`, 6 s by default,
retries included), so targets that are down cost their time side by side, not one after another.
`notify` returns at once; a command that ends waits at exit for deliveries still under way, but
never past their deadline: a webhook that is down delays a sync run's exit by at most ~6 s, and
never changes its exit code. A failed delivery is a WARNING line naming the event, the target
and the cause; never the secret, and never the alert's URL beyond its host.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from connector.alerts.config import (
    AlertsConfig,
    SlackTarget,
    SmtpTarget,
    WebhookTarget,
    load_alerts,
)
from connector.alerts.events import Alert
from connector.alerts.senders import Undeliverable, deliver
from connector.errors import ConfigError

log = logging.getLogger("promosync.alerts")
# secrets promosync itself reads: scrubbed from every alert along with the targets' own
_KNOWN_SECRETS = ("NETSUITE_CONSUMER_SECRET", "NETSUITE_TOKEN_SECRET", "PROMOSYNC_DATABASE_URL")


@dataclass(frozen=True)
class Delivery:
    target: str  # the target's label ("ops" or "webhook#1")
    kind: str
    ok: bool
    cause: str | None = None
    attempts: int = 0
    seconds: float = 0.0


class Sending:
    """One alert on its way to its targets."""

    def __init__(self, alert: Alert, targets: list[tuple[str, Any]]) -> None:
        self.alert = alert
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        self._threads: list[tuple[str, str, threading.Thread]] = []
        self.deadline = time.monotonic()
        for label, target in targets:
            deadline = time.monotonic() + target.timeout
            self.deadline = max(self.deadline, deadline)
            thread = threading.Thread(target=self._one, args=(label, target, deadline),
                                      name=f"promosync-alert-{label}", daemon=True)
            self._threads.append((label, target.kind, thread))
        for _label, _kind, thread in self._threads:
            thread.start()

    def _one(self, label: str, target: WebhookTarget | SlackTarget | SmtpTarget,
             deadline: float) -> None:
        started = time.monotonic()
        try:
            attempts = deliver(target, self.alert, deadline)
            result = Delivery(label, target.kind, True, None, attempts,
                              time.monotonic() - started)
            log.info("alert %s delivered to %s (%s)", self.alert.event, label, target.kind)
        except Undeliverable as exc:
            result = Delivery(label, target.kind, False, str(exc), 0, time.monotonic() - started)
        except Exception as exc:  # noqa: BLE001 - a sender's bug must not end the run
            result = Delivery(label, target.kind, False, f"internal error: {type(exc).__name__}",
                              0, time.monotonic() - started)
        if not result.ok:
            log.warning("alert %s not delivered to %s (%s): %s", self.alert.event, label,
                        target.kind, result.cause)
        with self._lock:
            self.deliveries.append(result)

    def wait(self, timeout: float | None = None) -> list[Delivery]:
        """Wait for every target (at most until the deadlines, or `timeout`); what happened,
        a target still under way counting as not delivered."""
        until = self.deadline if timeout is None else min(self.deadline,
                                                          time.monotonic() + timeout)
        for _label, _kind, thread in self._threads:
            thread.join(max(0.0, until - time.monotonic()) + 0.2)
        with self._lock:
            done = list(self.deliveries)
        named = {d.target for d in done}
        return done + [Delivery(label, kind, False, "still trying when the deadline passed")
                       for label, kind, _thread in self._threads if label not in named]


_pending: list[Sending] = []
_pending_lock = threading.Lock()


def notify(alert: Alert | None, config: AlertsConfig | None = None) -> Sending | None:
    """Send `alert` to the targets that take its event (the `[alerts]` table of promosync.toml
    unless `config` is given). Returns at once; None when there is nothing to send. A table that
    cannot be read is a WARNING here: the caller's work goes on (commands that send alerts check
    the table before they start)."""
    if alert is None:
        return None
    if config is None:
        try:
            config = load_alerts()
        except ConfigError as exc:
            log.warning("alert %s not sent: %s", alert.event, exc)
            return None
    targets = config.for_event(alert.event)
    if not targets:
        return None
    _hide_from_http_logs(config)
    sending = Sending(scrubbed(alert, config), targets)
    with _pending_lock:
        _pending[:] = [s for s in _pending if s.deadline > time.monotonic()]
        _pending.append(sending)
    return sending


class _Hidden(logging.Filter):
    """Takes secrets out of the HTTP library's DEBUG lines (with -vv urllib3 logs each request's
    path: a Slack webhook's path is its credential)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: frozenset[str] = frozenset()  # replaced whole: threads read it freely

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if any(v in text for v in self.values):
            for value in sorted(self.values, key=len, reverse=True):
                text = text.replace(value, "***")
            record.msg, record.args = text, ()
        return True


_HIDDEN = _Hidden()
logging.getLogger("urllib3.connectionpool").addFilter(_HIDDEN)


def _hide_from_http_logs(config: AlertsConfig) -> None:
    for target in config.targets:
        if isinstance(target, SlackTarget) and (url := os.environ.get(target.url_env)):
            parts = urlsplit(url)
            _HIDDEN.values = _HIDDEN.values | {v for v in (url, parts.path, parts.query)
                                               if len(v) >= 6}


def scrubbed(alert: Alert, config: AlertsConfig) -> Alert:
    """`alert` with every secret promosync knows of (the targets' and NetSuite's) replaced by
    `***`: a reason line that quoted one cannot carry it out."""
    names = set(_KNOWN_SECRETS)
    for target in config.targets:
        for attr in ("secret_env", "url_env", "password_env"):
            if getattr(target, attr, None):
                names.add(getattr(target, attr))
    secrets = sorted({v for n in names if len(v := os.environ.get(n, "")) >= 6}, key=len,
                     reverse=True)
    if not secrets:
        return alert
    text = json.dumps({"summary": alert.summary, "details": alert.details}, default=str)
    if not any(s in text or json.dumps(s)[1:-1] in text for s in secrets):
        return alert
    for secret in secrets:
        text = text.replace(json.dumps(secret)[1:-1], "***").replace(secret, "***")
    clean = json.loads(text)
    return replace(alert, summary=clean["summary"], details=clean["details"])


@atexit.register
def _drain() -> None:
    """At exit: let deliveries still under way finish, never past their deadlines."""
    with _pending_lock:
        pending = list(_pending)
    for sending in pending:
        sending.wait()
