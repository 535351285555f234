"""`promosync sync plan | run | mirror`: the NetSuite sync commands.

Exit codes: 0 in step, 1 some promotions refused or failed, 2 settings,
credentials or an unreachable NetSuite, 3 another run holds the lock. `--report FILE` writes
the JSON report (never a secret); on a terminal a progress bar shows codes moving, otherwise
one plain line per promotion (cron, systemd, Kubernetes logs).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from connector.cli._common import App, emit, pass_app, progress
from connector.errors import ConfigError
from connector.netsuite import NetSuiteClient, NetSuiteConnectFailed
from connector.sync.engine import SyncEngine, SyncReport
from connector.sync.mapping import load_mapping
from connector.text import plural

PLAN_COLUMNS = ["promotion", "chunk", "action", "generate", "push", "read_back", "reason"]


def _json_flag(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(fn)


def _report_flag(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--report", "report_file", type=click.Path(dir_okay=False),
                        help="Write the JSON report to this file.")(fn)


def _recheck_flag(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--recheck", is_flag=True,
                        help="Probe what the NetSuite account offers again instead of using "
                             "what the last check found.")(fn)


@contextmanager
def _engine(app: App, recheck: bool = False) -> Iterator[SyncEngine]:
    mapping = load_mapping(app.settings.mapping)
    client = NetSuiteClient.from_settings(app.settings)
    try:
        with _moving(app) as advance:
            yield SyncEngine(app.store, client, mapping, progress=advance,
                             on_outcome=None if app.as_json else
                             lambda o: _promotion_line(app, o.__dict__),
                             recheck=recheck, timezone=app.settings.netsuite_timezone,
                             generate_timeout=app.settings.netsuite_generate_timeout)
    except NetSuiteConnectFailed as exc:
        raise ConfigError(f"cannot reach NetSuite at {client.base_url} ({exc}); check "
                          "NETSUITE_ACCOUNT_ID / NETSUITE_BASE_URL") from None
    finally:
        client.close()


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
    if app.as_json:
        emit(app, {"actions": [a.row() for a in plan.actions], "counts": plan.counts(),
                   "in_step": plan.in_step})
        return
    emit(app, [a.row() for a in plan.actions], columns=PLAN_COLUMNS, title="sync plan")
    counts = ", ".join(f"{n} {k}" for k, n in plan.counts().items() if n)
    app.info(f"{counts or 'no promotions'}")


@sync_group.command("run")
@_json_flag
@_report_flag
@_recheck_flag
@click.pass_context
def run_cmd(ctx: click.Context, as_json: bool, report_file: str | None, recheck: bool) -> None:
    """Apply the plan, then mirror redemptions back. Safe to repeat and to kill."""
    app: App = ctx.obj
    app.as_json = app.as_json or as_json
    with _engine(app, recheck) as engine:
        report = engine.run()
        _finish(ctx, app, report, report_file, engine.requests.count)


@sync_group.command("mirror")
@_json_flag
@_report_flag
@click.pass_context
def mirror_cmd(ctx: click.Context, as_json: bool, report_file: str | None) -> None:
    """Mark codes used in NetSuite redeemed here; push local redemptions if allowed."""
    app: App = ctx.obj
    app.as_json = app.as_json or as_json
    with _engine(app) as engine:
        report = engine.mirror()
        _finish(ctx, app, report, report_file, engine.requests.count)


def _finish(ctx: click.Context, app: App, report: SyncReport, report_file: str | None,
            requests_made: int) -> None:
    data = report.as_dict(requests_made)
    if report_file:
        try:
            Path(report_file).write_text(json.dumps(data, indent=2, default=str) + "\n")
        except OSError as exc:
            raise ConfigError(f"cannot write the report {report_file}: {exc.strerror}") from None
    if app.as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        for line in summary_lines(data, promotions=False):
            app.info(line)
    sys.stdout.flush()
    if report.exit_code:
        ctx.exit(report.exit_code)


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


COMMANDS = [sync_group]
