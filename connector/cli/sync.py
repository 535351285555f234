"""`promosync sync plan | run | retry | mirror | rebaseline`: the NetSuite sync commands
(history, show and errors, which read the run ledger, are in sync_ledger.py).

Exit codes: 0 in step, 1 some promotions refused or failed, 2 settings, credentials, the store,
an unreachable NetSuite or a refreshed sandbox (`sync rebaseline`), 3 another run holds the
lock, 130 / 143 interrupted / stopped by SIGTERM. `--report FILE` writes the JSON report (never
a secret) on every one of those endings, with the outcome and the reason (R38); its folder is
checked before any work. On a terminal a progress bar shows codes moving, otherwise one plain
line per promotion (cron, systemd, Kubernetes logs).
"""

from __future__ import annotations

import json
import logging
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from connector.alerts import AlertsConfig, after_job, load_alerts
from connector.cli._common import App, emit, pass_app, progress
from connector.cli._exits import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    ending,
    raise_terminated,
    store_failure,
)
from connector.cli._metrics import checked as checked_metrics
from connector.cli._metrics import write as write_metrics
from connector.cli._report import checked
from connector.cli._report import write as write_report
from connector.cli.sync_ledger import LEDGER_COMMANDS
from connector.cli.sync_verify import repair_rows, verify_cmd
from connector.errors import ConfigError, InputError, StoreError
from connector.netsuite import NetSuiteClient, NetSuiteConnectFailed
from connector.store import Store
from connector.sync.engine import SyncEngine, SyncReport
from connector.sync.ledger import errors, record_refused
from connector.sync.mapping import load_mapping
from connector.sync.rebaseline import Rebaseline
from connector.text import plural

log = logging.getLogger("promosync.sync")
PLAN_COLUMNS = ["promotion", "chunk", "action", "generate", "push", "read_back", "reason"]


def _json_flag(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(fn)


def _report_flag(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--report", "report_file", type=click.Path(dir_okay=False),
                        help="Write the JSON report to this file.")(fn)


def _metrics_flag(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--metrics-file", type=click.Path(dir_okay=False),
                        help="Write the run's figures to this file in the Prometheus text "
                             "format (node_exporter's textfile collector).")(fn)


def _recheck_flag(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--recheck", is_flag=True,
                        help="Probe what the NetSuite account offers again instead of using "
                             "what the last check found.")(fn)


@dataclass
class _Job:
    """A run, retry or mirror as the command line sees it: its engine once there is one."""

    command: str
    engine: SyncEngine | None = None


@contextmanager
def _engine(app: App, recheck: bool = False, job: _Job | None = None) -> Iterator[SyncEngine]:
    store = app.store  # a missing store is said before anything about NetSuite
    mapping = load_mapping(app.settings.mapping)
    client = NetSuiteClient.from_settings(app.settings)
    try:
        with _moving(app) as advance:
            engine = SyncEngine(store, client, mapping, progress=advance,
                                on_outcome=None if app.as_json else
                                lambda o: _promotion_line(app, o.__dict__),
                                recheck=recheck, timezone=app.settings.netsuite_timezone,
                                generate_timeout=app.settings.netsuite_generate_timeout,
                                keep_days=app.settings.sync_history_days)
            if job is not None:
                job.engine = engine
            yield engine
    except NetSuiteConnectFailed as exc:
        raise ConfigError(unreachable(client.base_url, exc)) from None
    finally:
        client.close()


def unreachable(base_url: str, exc: NetSuiteConnectFailed) -> str:
    """One line for a NetSuite (or token endpoint) that cannot be reached: the cause first."""
    where = exc.url if exc.url and "/token" in exc.url else base_url
    tried = re.search(r"gave up after \d+ attempts? over [\d.]+s", str(exc))
    return (f"cannot reach NetSuite at {where}: {exc.detail or exc}"
            + (f" ({tried.group(0)})" if tried else "")
            + "; check NETSUITE_ACCOUNT_ID / NETSUITE_BASE_URL and the network")


PROGRESS_EVERY = 30.0  # seconds between plain progress lines


@contextmanager
def _moving(app: App) -> Iterator[Callable[[int], None]]:
    """Codes moved: a bar on a terminal; elsewhere (cron, systemd, Kubernetes) a plain line on
    stderr at most every PROGRESS_EVERY seconds while codes move, so a long run is never silent."""
    if sys.stdout.isatty() and not app.as_json:
        with progress(app, 0, "codes") as bar:
            yield bar
        return
    lock = threading.Lock()
    started = last = time.monotonic()
    moved = 0

    def advance(n: int) -> None:
        nonlocal moved, last
        with lock:
            moved += n
            now = time.monotonic()
            if now - last < PROGRESS_EVERY:
                return
            last = now
            line = f"sync: {moved:,} codes moved so far ({now - started:,.0f} s)"
        click.echo(line, err=True)

    yield advance


@click.group("sync")
def sync_group() -> None:
    """Keep NetSuite's promotions and coupon codes in step with the store."""


@sync_group.command("plan")
@_json_flag
@_recheck_flag
@pass_app
def plan_cmd(app: App, as_json: bool, recheck: bool) -> None:
    """Show what `sync run` would do, per promotion and chunk, writing nothing."""
    app.as_json = app.as_json or as_json
    with _engine(app, recheck) as engine:
        plan = engine.plan()
    repairs = repair_rows(app.store)  # recorded by `sync verify --fix`; run does them first
    if app.as_json:
        emit(app, {"actions": [a.row() for a in plan.actions], "counts": plan.counts(),
                   "repairs": repairs, "in_step": plan.in_step and not repairs})
        return
    emit(app, [a.row() for a in plan.actions] + repairs, columns=PLAN_COLUMNS, title="sync plan")
    counts = ", ".join(f"{n} {k}" for k, n in plan.counts().items() if n)
    app.info(f"{counts or 'no promotions'}")


@sync_group.command("run")
@_json_flag
@_report_flag
@_metrics_flag
@_recheck_flag
@click.pass_context
def run_cmd(ctx: click.Context, as_json: bool, report_file: str | None,
            metrics_file: str | None, recheck: bool) -> None:
    """Apply the plan, then mirror redemptions back. Safe to repeat and to kill."""
    app: App = ctx.obj
    app.as_json = app.as_json or as_json
    with _job(app, "run", report_file, metrics_file) as job, _engine(app, recheck, job) as engine:
        job.done(engine.run())
    ctx.exit(job.exit_code)


@sync_group.command("retry")
@_json_flag
@_report_flag
@_metrics_flag
@click.pass_context
def retry_cmd(ctx: click.Context, as_json: bool, report_file: str | None,
              metrics_file: str | None) -> None:
    """Run again only the promotions that `sync errors` lists as open; nothing else is read
    or written in NetSuite, and no mirror runs."""
    app: App = ctx.obj
    app.as_json = app.as_json or as_json
    with _job(app, "retry", report_file, metrics_file) as job:
        names = sorted({e["promotion"] for e in errors(app.store) if e["promotion"]})
        if not names:
            app.info("sync retry: no promotion has an open error; nothing to retry")
            job.skip()
        else:
            app.info(f"sync retry: {', '.join(names)}")
            with _engine(app, job=job) as engine:
                job.done(engine.run(only=names))
    ctx.exit(job.exit_code)


@sync_group.command("mirror")
@_json_flag
@_report_flag
@_metrics_flag
@click.pass_context
def mirror_cmd(ctx: click.Context, as_json: bool, report_file: str | None,
               metrics_file: str | None) -> None:
    """Mark codes used in NetSuite redeemed here; push local redemptions if allowed."""
    app: App = ctx.obj
    app.as_json = app.as_json or as_json
    with _job(app, "mirror", report_file, metrics_file) as job, _engine(app, job=job) as engine:
        job.done(engine.mirror())
    ctx.exit(job.exit_code)


@sync_group.command("rebaseline")
@_json_flag
@click.option("--yes", is_flag=True,
              help="Do not ask for confirmation (required when not run from a terminal).")
@pass_app
def rebaseline_cmd(app: App, as_json: bool, yes: bool) -> None:
    """After a sandbox refresh: re-read NetSuite and relink the store to what it holds now.

    Checks the account again, rebuilds each promotion's and code's link to NetSuite, queues
    local redemptions NetSuite lacks to be pushed again and makes the next mirror read
    NetSuite's redemptions from the start. No local redemption is lost or undone, and nothing
    is written to NetSuite: run `promosync sync run` afterwards."""
    app.as_json = app.as_json or as_json
    store = app.store  # a missing store is said before anything else
    mapping = load_mapping(app.settings.mapping)
    if not yes and not sys.stdin.isatty():
        raise InputError("sync rebaseline rewrites the store's links to NetSuite; when not "
                         "run from a terminal it needs --yes")
    client = NetSuiteClient.from_settings(app.settings)
    try:
        if not yes and not click.confirm(f"Relink the store to what NetSuite account "
                                         f"{client.account_id} holds now?", default=False,
                                         err=True):
            raise click.Abort()
        report = Rebaseline(store, client, mapping, timezone=app.settings.netsuite_timezone,
                            keep_days=app.settings.sync_history_days).run()
    except NetSuiteConnectFailed as exc:
        raise ConfigError(unreachable(client.base_url, exc)) from None
    finally:
        client.close()
    if app.as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        for line in report.lines():
            app.info(line)


class _Running(_Job):
    """A job under way: `done` prints and writes the report of a run that came to its end,
    `stopped` writes (and records) the report of one that an error or a signal ended."""

    def __init__(self, app: App, command: str, target: Path | None,
                 metrics: Path | None = None) -> None:
        super().__init__(command)
        self.app = app
        self.target = target
        self.metrics = metrics
        self.alerts: AlertsConfig | None = None  # read once the job starts (R44)
        self.started = time.monotonic()
        self.exit_code = 0

    def done(self, report: SyncReport) -> None:
        assert self.engine is not None
        data = self.engine.report_dict(report)
        if self.target is not None:
            write_report(self.target, data)
        _say(self.app, data)
        self.exit_code = report.exit_code
        self._ended(data, self.app.store)

    def skip(self) -> None:
        data: dict[str, Any] = {"command": self.command, "run": None, "outcome": "ok",
                                "exit_code": 0, "reason": "no open error to retry",
                                "promotions": []}
        if self.target is not None:
            write_report(self.target, data)
        self._ended(data, self.app.store)

    def stopped(self, exc: BaseException) -> None:
        code, line = ending(exc)
        report = self.engine.report if self.engine is not None else None
        data: dict[str, Any] = ({"command": self.command, "run": None} if report is None
                                else self.engine.report_dict(report))  # type: ignore[union-attr]
        if report is None or report.outcome is None:
            data["outcome"] = ("aborted" if code in (EXIT_INTERRUPTED, EXIT_TERMINATED)
                               else "refused")
        data["exit_code"] = code
        data["reason"] = line.removeprefix("error: ") or data.get("reason")
        if data.get("run") is None and not _store_down(self.app, exc):
            try:
                data["run"] = record_refused(self.app.store, self.command, data,
                                             self.app.settings.sync_history_days,
                                             outcome=data["outcome"])
            except Exception as failed:  # noqa: BLE001 - the job's own error is what is said
                log.warning("could not record the %s in sync_runs: %s", self.command, failed)
        if self.target is not None:
            write_report(self.target, data)
        self._ended(data, None if _store_down(self.app, exc) else self.app.store)

    def _ended(self, data: dict[str, Any], store: Store | None) -> None:
        """--metrics-file (R45) and the alerts (R44) for the job's ending; a target that fails
        is a warning, never the job's exit code."""
        if self.metrics is not None:
            write_metrics(self.metrics, self.command, data, time.monotonic() - self.started,
                          store)
        try:
            after_job(data, store, self.alerts)
        except Exception as failed:  # noqa: BLE001 - an alert never changes how the job ends
            log.warning("alerts for the %s not sent: %s", self.command, failed)


def _store_down(app: App, exc: BaseException) -> bool:
    """Nothing can be recorded: the store is not open, or it is what failed."""
    return app.opened_store is None or isinstance(exc, StoreError) or store_failure(exc)


@contextmanager
def _job(app: App, command: str, report_file: str | None,
         metrics_file: str | None = None) -> Iterator[_Running]:
    """Check the folders of --report and --metrics-file first; write them however the job ends
    and send its alerts; SIGTERM unwinds like Ctrl-C (the lock is released, the run recorded as
    aborted, the report written)."""
    job = _Running(app, command, checked(report_file) if report_file else None,
                   checked_metrics(metrics_file) if metrics_file else None)
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, raise_terminated) if main else None
    try:
        job.alerts = load_alerts()  # a malformed [alerts] table: exit 2 before any work
        yield job
    except click.exceptions.Exit:
        raise
    except BaseException as exc:
        job.stopped(exc)
        raise
    finally:
        if main and previous is not None:  # None: a handler not set from Python
            signal.signal(signal.SIGTERM, previous)


def _say(app: App, data: dict[str, Any]) -> None:
    if app.as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        for line in summary_lines(data, promotions=False):
            app.info(line)
    sys.stdout.flush()


def _promotion_line(app: App, p: dict[str, Any]) -> None:
    """One plain line as each promotion is done (cron and Kubernetes logs show progress)."""
    if p["status"] == "nothing":
        return
    kinds = sorted({a["action"] for a in p["actions"]} - {"nothing"})
    extra = f": {p['error']}" if p.get("error") else ""
    app.info(f"promotion {p['promotion']}: {p['status']} ({', '.join(kinds)}; generated "
             f"{p['generated']:,}, read back {p['read_back']:,}, pushed {p['pushed']:,}){extra}")


def summary_lines(data: dict[str, Any], promotions: bool = True) -> list[str]:
    """Plain lines, each fact once and labelled: the mirrors and the totals (and, if asked, one
    line per promotion)."""
    lines: list[str] = []
    if promotions:
        for p in data["promotions"]:
            if p["status"] != "nothing":
                lines.append(f"promotion {p['promotion']}: {p['status']}"
                             + (f": {p['error']}" if p.get("error") else ""))
    labels = (["mirror before the run", "mirror after the run"] if data["command"] == "run"
              else ["mirror"])
    for label, m in zip(labels, data["mirror"], strict=False):
        if m["rows_read"] or m["pushed"] or m["not_pushed"]:
            lines.append(f"{label} ({m['source']}): {plural(m['redeemed'], 'code')} newly "
                         f"redeemed from {plural(m['rows_read'], 'row')}; local redemptions "
                         f"pushed {m['pushed']:,}, not in NetSuite {m['not_pushed']:,}")
        for why in m.get("push_errors", [])[:3]:
            lines.append(f"{label}: {why}")
    in_step = not data["failed"] and not data["refused"]
    lines.append(f"sync {data['command']}: {'in step' if in_step else 'NOT in step'}; "
                 f"{plural(int(data['requests'] or 0), 'request')} in {data['seconds']:.1f} s"
                 + (f"; failed: {', '.join(data['failed'])}" if data["failed"] else "")
                 + (f"; refused: {', '.join(data['refused'])}" if data["refused"] else ""))
    return lines


for _command in [*LEDGER_COMMANDS, verify_cmd]:
    sync_group.add_command(_command)
COMMANDS = [sync_group]
