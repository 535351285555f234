"""Alerts (R44): events worth a person's attention, sent to the targets of promosync.toml.

    from connector.alerts import load_alerts, after_job
    config = load_alerts()              # ConfigError (one line) for a malformed [alerts] table
    after_job(report_dict, store, config)

Modules: config (the `[alerts]` table), events (what each alert says), senders (webhook with
an HMAC-SHA256 signature, Slack, SMTP with STARTTLS; retries within a deadline), dispatch
(`notify`: every target in its own thread; the process waits for them at exit, never past
their deadline). The entry points below are what the rest of promosync calls: a sync job's end,
a coupon list reaching its warning limit, a reconciliation difference, a guessing-guard lockout.
None of them raises for a target that fails, and none changes an exit code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from connector.alerts import events
from connector.alerts.config import EVENTS, AlertsConfig, load_alerts
from connector.alerts.dispatch import Delivery, Sending, notify
from connector.alerts.events import Alert

if TYPE_CHECKING:
    from connector.store import Store

__all__ = ["EVENTS", "Alert", "AlertsConfig", "Delivery", "Sending", "after_job",
           "guard_locked_out", "list_reached_warning", "load_alerts", "notify",
           "reconciliation_differences"]


def after_job(data: Mapping[str, Any], store: Store | None,
              config: AlertsConfig | None) -> list[Sending]:
    """Alerts for a sync run, retry or mirror that ended with report `data`: its outcome, and
    the promotions whose failures in a row reached `failing_runs` on this run (read from the
    ledger when `store` is open). `config` None: the table could not be read, nothing is sent."""
    if config is None or not config.targets:
        return []
    found: list[Alert | None] = [events.run_ended(data)]
    if (store is not None and data.get("run") is not None and data.get("command") != "mirror"
            and config.for_event("promotion_failing")):
        from connector.sync.ledger import errors

        found += events.promotions_failing(errors(store), config.failing_runs, data["run"])
    return [s for a in found if (s := notify(a, config)) is not None]


def list_reached_warning(name: str, remaining: int, limit: int) -> Sending | None:
    """A coupon list came down to its warning limit (called once per crossing)."""
    return notify(events.list_warning(name, remaining, limit))


def reconciliation_differences(differences: Sequence[Mapping[str, Any]],
                               command: str = "verify",
                               config: AlertsConfig | None = None) -> Sending | None:
    """`sync verify` (or any reconciliation) found `differences` between NetSuite and the
    store: one alert naming how many and which promotions; nothing when the list is empty."""
    return notify(events.reconciliation_difference(differences, command), config)


def guard_locked_out(text: str) -> Sending | None:
    """The guessing guard refused a client for a while; `text` is its log line."""
    return notify(events.guard_lockout(text))
