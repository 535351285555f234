"""What an alert says (R44): one `Alert` per event, built from what the caller already has.

Events: a sync run, retry or mirror that failed (some promotions failed, or the run stopped on an
error), was refused (lock held, settings, credentials, an unreachable NetSuite) or aborted
(SIGINT / SIGTERM); a promotion failing `failing_runs` runs in a row (said once, on the run that
reaches the count; a promotion that then succeeds and fails again counts from 1); a coupon list
reaching its warning limit (once per crossing: the list records it); a reconciliation difference
(`sync verify`); a client locked out by the guessing guard. Alerts carry names, counts and the
one-line reasons the CLI prints, never a credential; connector.alerts.dispatch scrubs the text
of every secret it knows before sending, all the same.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connector.text import plural


@dataclass(frozen=True)
class Alert:
    event: str  # one of config.EVENTS, or "test"
    summary: str  # one line
    severity: str = "error"  # error | warning | info
    details: dict[str, Any] = field(default_factory=dict)
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    host: str = field(default_factory=socket.gethostname)

    def body(self) -> dict[str, Any]:
        """The webhook's JSON document."""
        return {"source": "promosync", "event": self.event, "severity": self.severity,
                "summary": self.summary, "time": self.time, "host": self.host,
                "details": self.details}

    def text(self) -> str:
        """Plain text for a chat message or an e-mail: the summary, then one line per detail."""
        lines = [f"promosync on {self.host}: {self.summary}"]
        for key, value in self.details.items():
            shown = ", ".join(str(v) for v in value) if isinstance(value, list) else value
            lines.append(f"{key}: {shown}")
        lines.append(f"time: {self.time}")
        return "\n".join(lines)


_RUN_EVENTS = {"failed": "run_failed", "partial": "run_failed", "refused": "run_refused",
               "aborted": "run_aborted"}


def run_ended(data: Mapping[str, Any]) -> Alert | None:
    """The alert for a sync job's report (`sync run --report`'s document); None when in step."""
    outcome = str(data.get("outcome") or "")
    event = _RUN_EVENTS.get(outcome)
    if event is None:
        return None
    command = str(data.get("command") or "run")
    failed = list(data.get("failed") or [])
    refused = list(data.get("refused") or [])
    words = {"run_failed": "failed" if outcome != "partial" else "ended with failures",
             "run_refused": "was refused", "run_aborted": "was stopped"}[event]
    summary = f"sync {command} {words}"
    if data.get("reason"):
        summary += f": {data['reason']}"
    elif failed or refused:
        summary += f": {plural(len(failed) + len(refused), 'promotion')} not in step"
    details: dict[str, Any] = {"command": command, "outcome": outcome or None,
                               "exit_code": data.get("exit_code"), "run": data.get("run")}
    if failed:
        details["failed"] = failed
    if refused:
        details["refused"] = refused
    return Alert(event, summary, "warning" if event == "run_aborted" else "error", details)


def promotions_failing(open_errors: Iterable[Mapping[str, Any]], threshold: int,
                       run: int | None) -> list[Alert]:
    """One alert per promotion whose open error reached `threshold` failures in a row on `run`
    (the error's last run): said once per streak, on the run that reaches the count."""
    worst: dict[str, Mapping[str, Any]] = {}
    for e in open_errors:
        name = str(e.get("promotion") or "")
        if name and (name not in worst or e["times"] > worst[name]["times"]):
            worst[name] = e
    found = []
    for name, e in sorted(worst.items()):
        if e["times"] == threshold and (run is None or e.get("last_run") == run):
            found.append(Alert(
                "promotion_failing",
                f"promotion {name} failed {plural(threshold, 'sync run')} in a row: "
                f"{e.get('message') or e.get('detail') or 'see promosync sync errors'}",
                "error",
                {"promotion": name, "item": e.get("item"), "times": e["times"],
                 "error_code": e.get("error_code"), "first_run": e.get("first_run"),
                 "last_run": e.get("last_run")}))
    return found


def list_warning(name: str, remaining: int, limit: int) -> Alert:
    """A coupon list's remaining codes came down to its warning limit."""
    return Alert("list_warning",
                 f"coupon list {name} has {plural(remaining, 'code')} left "
                 f"(warning limit {limit:,})",
                 "warning", {"list": name, "remaining": remaining, "warning_limit": limit})


def reconciliation_difference(differences: Sequence[Mapping[str, Any]],
                              command: str = "verify") -> Alert | None:
    """NetSuite and the store disagree: `differences` as `sync verify` lists them (each a
    mapping; `promotion` and `kind` are shown when present). None when there is none."""
    if not differences:
        return None
    names = sorted({str(d["promotion"]) for d in differences if d.get("promotion")})
    kinds = sorted({str(d["kind"]) for d in differences if d.get("kind")})
    summary = (f"sync {command} found {plural(len(differences), 'difference')} between "
               "NetSuite and the store")
    if names:
        summary += f" ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})"
    return Alert("reconciliation_difference", summary, "error",
                 {"differences": len(differences), "promotions": names[:50], "kinds": kinds})


def guard_lockout(text: str) -> Alert:
    """The guessing guard locked a client out (its text names the key by name, never the key)."""
    return Alert("guard_lockout", text, "warning", {})


def test_alert() -> Alert:
    return Alert("test", "test alert: this target receives promosync's alerts", "info",
                 {"sent_by": "promosync alerts test"})
