"""`--metrics-file FILE` of the sync commands (R45): the job's figures in the Prometheus text
format, for node_exporter's textfile collector (or anything that reads that format).

Every line is a gauge with the `promosync_` prefix and a `command` label (run, retry, mirror,
verify): the time of the last success (this job's end when it succeeded, else the last
successful job of the same command in the ledger; verify keeps no ledger row, so a failed verify
leaves it out), the job's end, duration, outcome and exit code, codes generated, read back,
pushed and mirrored, NetSuite requests and 429 answers, promotions that failed, open errors
(`sync errors`), how long ago the mirror's watermark last moved, per source, and for verify the
differences it found. A figure that cannot be known (the store could not be opened) is left
out, its HELP and TYPE kept. The folder is checked before any work, and the file is written like
--report: to a temporary file beside it, then renamed over it, on every ending the process
survives.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from connector.cli._exits import EXIT_INTERRUPTED, EXIT_TERMINATED, ending, store_failure
from connector.cli._report import checked as report_checked
from connector.cli._report import write_atomically
from connector.errors import StoreError

if TYPE_CHECKING:
    from connector.cli._common import App
    from connector.store import Store

OUTCOMES = ("ok", "partial", "failed", "refused", "aborted")
_GAUGES: dict[str, str] = {
    "last_success_timestamp_seconds": "Unix time the last successful job of this command ended.",
    "last_run_timestamp_seconds": "Unix time this command last ended, however it ended.",
    "run_duration_seconds": "Seconds the last job of this command took.",
    "run_outcome": "1 for how the last job ended (ok, partial, failed, refused, aborted), "
                   "0 for the others.",
    "run_exit_code": "Exit code of the last job of this command.",
    "codes_generated": "Codes NetSuite generated in the last job.",
    "codes_read_back": "Codes read back from NetSuite into the store in the last job.",
    "codes_pushed": "Codes written to NetSuite in the last job.",
    "codes_mirrored": "Codes newly marked redeemed from NetSuite in the last job.",
    "requests": "HTTP requests made to NetSuite in the last job.",
    "rate_limited_responses": "NetSuite answers 429 (rate limited) in the last job.",
    "promotions_failed": "Promotions that failed or were refused in the last job.",
    "open_errors": "Errors still open after the last job (promosync sync errors).",
    "mirror_watermark_lag_seconds": "Seconds since the mirror's watermark last moved, per "
                                    "source of redemptions.",
    "verify_differences": "Differences sync verify found between NetSuite and the store "
                          "(those a running sync is moving left out).",
}
_ONLY_WITH_SAMPLES = {"verify_differences"}  # a family that is not every command's


def checked(path: str) -> Path:
    """FILE, once its folder is known to exist and take a new file (exit 2 otherwise)."""
    return report_checked(path, "the metrics file")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) and not value.is_integer() \
        else str(int(value))


def render(command: str, data: dict[str, Any], seconds: float, ended: float,
           ledger: dict[str, Any]) -> str:
    """The exposition text for job `data` (its report) that took `seconds` and ended at
    `ended` (Unix time); `ledger`: last_success, open_errors and watermarks from the store."""
    samples: dict[str, list[tuple[dict[str, str], float]]] = {name: [] for name in _GAUGES}
    own = {"command": command}
    outcome = str(data.get("outcome") or "")

    def put(name: str, value: Any, **labels: str) -> None:
        if value is not None:
            samples[name].append(({**own, **labels}, float(value)))

    put("last_success_timestamp_seconds", ended if outcome == "ok" else ledger.get("last_success"))
    put("last_run_timestamp_seconds", ended)
    put("run_duration_seconds", round(seconds, 3))
    for name in OUTCOMES:
        put("run_outcome", 1 if name == outcome else 0, outcome=name)
    put("run_exit_code", data.get("exit_code", 0))
    codes = data.get("codes") or {}
    put("codes_generated", codes.get("generated", 0))
    put("codes_read_back", codes.get("read_back", 0))
    put("codes_pushed", codes.get("pushed", 0))
    put("codes_mirrored", sum(int(m.get("redeemed") or 0) for m in data.get("mirror") or []))
    put("requests", data.get("requests") or 0)
    put("rate_limited_responses", data.get("rate_limited") or 0)
    put("promotions_failed", len(data.get("failed") or []) + len(data.get("refused") or []))
    put("open_errors", ledger.get("open_errors"))
    for source, lag in sorted((ledger.get("watermarks") or {}).items()):
        put("mirror_watermark_lag_seconds", round(lag, 3), source=source)
    put("verify_differences", data.get("differences"))
    lines: list[str] = []
    for name, help_text in _GAUGES.items():
        if name in _ONLY_WITH_SAMPLES and not samples[name]:
            continue
        full = f"promosync_{name}"
        lines += [f"# HELP {full} {help_text}", f"# TYPE {full} gauge"]
        for labels, value in samples[name]:
            inside = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            lines.append(f"{full}{{{inside}}} {_number(value)}")
    return "\n".join(lines) + "\n"


def from_ledger(store: Store, command: str, now: float) -> dict[str, Any]:
    """The figures the store keeps: the command's last success, open errors, watermark ages."""
    from sqlalchemy import func, select

    from connector.store import schema as s
    from connector.sync.ledger import errors

    runs, marks = s.sync_runs, s.sync_watermarks
    with store.read() as conn:
        last = conn.scalar(select(func.max(runs.c.finished_at))
                           .where(runs.c.command == command, runs.c.status == "ok"))
        moved = list(conn.execute(select(marks.c.name, marks.c.updated_at)
                                  .where(marks.c.name.like("mirror.%"))))
    return {"last_success": last.timestamp() if last is not None else None,
            "open_errors": len(errors(store)),
            "watermarks": {name.removeprefix("mirror."): max(0.0, now - at.timestamp())
                           for name, at in moved}}


@contextmanager
def written(app: App, command: str, path: str | None) -> Iterator[dict[str, Any]]:
    """--metrics-file of a command that keeps no ledger row (sync verify): FILE's folder checked
    first; the file written however the command ends, from the figures the command puts in the
    dict it is given (outcome, exit_code, requests, differences), or from the error that ended
    it. `path` None: nothing to write."""
    target = checked(path) if path else None
    started = time.monotonic()
    data: dict[str, Any] = {"command": command}
    try:
        yield data
    except BaseException as exc:
        if target is not None and not isinstance(exc, click.exceptions.Exit):
            code, _line = ending(exc)
            data.update(outcome="aborted" if code in (EXIT_INTERRUPTED, EXIT_TERMINATED)
                        else "refused" if code in (2, 3) else "failed", exit_code=code)
            down = app.opened_store is None or isinstance(exc, StoreError) or store_failure(exc)
            write(target, command, data, time.monotonic() - started,
                  None if down else app.opened_store)
        raise
    if target is not None:
        write(target, command, data, time.monotonic() - started, app.opened_store)


def write(target: Path, command: str, data: dict[str, Any], seconds: float,
          store: Store | None) -> None:
    """Write the metrics of a job that ended with report `data`; `store` None: not usable."""
    ended = time.time()
    ledger = from_ledger(store, command, ended) if store is not None else {}
    write_atomically(target, render(command, data, seconds, ended, ledger), "the metrics file")
