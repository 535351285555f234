"""`promosync sync history | show | errors`: the run ledger read back (R39, R40); nothing here
talks to NetSuite. `sync retry`, which runs the open errors' promotions again, is in sync.py."""

from __future__ import annotations

from typing import Any

import click

from connector.cli._common import App, emit, pass_app
from connector.sync.ledger import ERROR_COLUMNS, HISTORY_COLUMNS, errors, history, run_report


@click.command("history")
@click.option("--limit", type=click.IntRange(min=1), help="Only the N most recent runs.")
@pass_app
def history_cmd(app: App, limit: int | None) -> None:
    """Every run, retry and mirror kept (PROMOSYNC_SYNC_HISTORY_DAYS, 90 by default), newest
    first: when, how long, the outcome, what it did, NetSuite requests and 429s."""
    rows = history(app.store, limit)
    if app.as_json:
        emit(app, rows)
        return
    emit(app, [_short(r) for r in rows], columns=[*HISTORY_COLUMNS, "reason"],
         title="sync history")


def _short(row: dict[str, Any]) -> dict[str, Any]:
    """Times to the second, for a table."""
    return {**row, **{k: f"{row[k]:%Y-%m-%d %H:%M:%S}" for k in ("started", "finished")
                      if row.get(k) is not None}}


@click.command("show")
@click.argument("run", type=int)
@pass_app
def show_cmd(app: App, run: int) -> None:
    """The full report of sync run RUN (a number from `sync history`)."""
    found = run_report(app.store, run)
    if found is None:
        raise click.UsageError(f"there is no sync run {run} (`promosync sync history` lists "
                               "the runs kept)")
    if app.as_json:
        emit(app, found)
        return
    from connector.cli.sync import summary_lines

    report = found.pop("report")
    emit(app, _short(found), title=f"sync run {run}")
    if report.get("promotions") is not None and report.get("mirror") is not None:
        for line in summary_lines({"failed": [], "refused": [], "requests": 0, "seconds": 0.0,
                                   **report}):
            app.info(line)


@click.command("errors")
@click.option("--all", "include_resolved", is_flag=True,
              help="Resolved errors too, with the run that resolved each.")
@pass_app
def errors_cmd(app: App, include_resolved: bool) -> None:
    """What failed, per promotion, chunk or code batch, with NetSuite's error code, detail and
    path, when it first and last failed and how many times; open until a run succeeds on the
    same item (`promosync sync retry` runs just those promotions again)."""
    rows = errors(app.store, include_resolved)
    if app.as_json:
        emit(app, rows)
        return
    columns = ERROR_COLUMNS + (["resolved_by"] if include_resolved else [])
    emit(app, [{**r, "first_failed": f"{r['first_failed']:%Y-%m-%d %H:%M}",
                "last_failed": f"{r['last_failed']:%Y-%m-%d %H:%M}",
                "detail": r["detail"] or r["message"]} for r in rows],
         columns=columns, title="sync errors" + (" (all)" if include_resolved else " (open)"))


LEDGER_COMMANDS = [history_cmd, show_cmd, errors_cmd]
