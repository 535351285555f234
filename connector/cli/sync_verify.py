"""`promosync sync verify [--json] [--fix] [PROMO…]`: the store and NetSuite compared (R43).

Exit 0 when they agree (differences a running sync is moving are listed as pending, and local
redemptions kept here because redemptions.push_local is off are listed as such), 1 with
each difference listed and explained, 2 settings, credentials, the store or an unreachable
NetSuite. Read-only, without a lock and without a ledger row: a monitoring job may run it as
often as it likes. `--fix` writes the repair plan (one store transaction) that `sync plan`
shows and `sync run` carries out; it still sends nothing to NetSuite itself.
"""

from __future__ import annotations

import json
from typing import Any

import click

from connector.alerts import load_alerts, reconciliation_differences
from connector.catalog import promotion_row
from connector.cli._common import App, emit
from connector.cli._metrics import written
from connector.errors import ConfigError
from connector.netsuite import NetSuiteClient, NetSuiteConnectFailed
from connector.store import Store
from connector.sync.mapping import load_mapping
from connector.sync.session import Account
from connector.sync.verify import Verifier
from connector.sync.verify_model import VerifyReport
from connector.sync.verify_repair import repair_steps, save_repairs
from connector.text import plural

CHUNK_COLUMNS = ["promotion", "chunk", "netsuite_id", "store_codes", "netsuite_codes",
                 "store_redeemed", "netsuite_used", "differences"]
DIFF_COLUMNS = ["kind", "promotion", "chunk", "code", "explain"]
TABLE_ROWS = 50  # differences shown in the table; --json lists every one


@click.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the full comparison as JSON.")
@click.option("--fix", is_flag=True,
              help="Record a repair plan for the differences; the next `sync run` carries it "
                   "out and `sync plan` shows it. Nothing is sent to NetSuite by verify.")
@click.option("--inactivate-unknown", is_flag=True,
              help="With --fix: the next `sync run` also inactivates NetSuite promotions that "
                   "carry promosync's external ids but belong to no promotion in this store.")
@click.option("--metrics-file", type=click.Path(dir_okay=False),
              help="Write the figures to this file in the Prometheus text format "
                   "(node_exporter's textfile collector).")
@click.argument("promotions", nargs=-1)
@click.pass_context
def verify_cmd(ctx: click.Context, as_json: bool, fix: bool, inactivate_unknown: bool,
               metrics_file: str | None, promotions: tuple[str, ...]) -> None:
    """Compare the store with NetSuite, promotion by promotion and code by code: code counts
    and code sets per chunk, used / unused parity, promosync records NetSuite holds that the
    store does not know, and promotions NetSuite lacks. Reads only; PROMO names limit it to
    those promotions."""
    app: App = ctx.obj
    app.as_json = app.as_json or as_json
    if inactivate_unknown and not fix:
        raise click.UsageError("--inactivate-unknown goes with --fix")
    with written(app, "verify", metrics_file) as figures:  # R45
        alerts = load_alerts()  # R44: a malformed [alerts] table is exit 2 before any work
        report = _verify(app, fix, inactivate_unknown, promotions)
        figures.update(outcome="ok" if report.exit_code == 0 else "failed",
                       exit_code=report.exit_code, requests=report.requests,
                       differences=len(report.open))
    reconciliation_differences([d.row() for d in report.open], "verify", alerts)
    ctx.exit(report.exit_code)


def _verify(app: App, fix: bool, inactivate_unknown: bool,
            promotions: tuple[str, ...]) -> VerifyReport:
    store = app.store
    names = None
    if promotions:
        with store.read() as conn:  # an unknown name is refused before NetSuite is asked
            names = sorted({promotion_row(conn, n, include_deleted=True).name
                            for n in promotions})
    mapping = load_mapping(app.settings.mapping)
    client = NetSuiteClient.from_settings(app.settings)
    try:
        account = Account(store, client, mapping, timezone=app.settings.netsuite_timezone)
        report = Verifier(store, client, mapping, account).run(names)
    except NetSuiteConnectFailed as exc:
        from connector.cli.sync import unreachable

        raise ConfigError(unreachable(client.base_url, exc)) from None
    finally:
        client.close()
    if fix:
        report.repairs_written = save_repairs(store, report.differences, inactivate_unknown)
    _show(app, report, fix)
    return report


def _show(app: App, report: VerifyReport, fix: bool) -> None:
    data = report.as_dict()
    if app.as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        emit(app, data["chunks"], columns=CHUNK_COLUMNS, title="sync verify: chunks")
        if report.differences:
            rows = data["differences"]
            emit(app, rows[:TABLE_ROWS], columns=DIFF_COLUMNS, title="differences")
            if len(rows) > TABLE_ROWS:
                app.info(f"... and {len(rows) - TABLE_ROWS:,} more (--json lists every one)")
    counts = ", ".join(f"{n:,} {k}" for k, n in sorted(report.counts().items()))
    used = report.used_source or "not readable on this account: used parity not checked"
    verdict = ("in step" if not report.differences else
               f"NOT in step: {plural(len(report.open), 'difference')}" if report.open else
               "in step but for what a running sync is moving"
               if any(d.pending for d in report.differences) else
               "in step (redemptions kept here only, as redemptions.push_local = false asks)")
    app.info(f"sync verify: {verdict}" + (f" ({counts})" if counts else "")
             + f"; used codes from {used}; {plural(report.requests, 'request')} "
             f"({plural(report.pages, 'SuiteQL page')}) in {report.seconds:.1f} s")
    if fix:
        app.info(f"sync verify --fix: {plural(report.repairs_written or 0, 'repair step')} "
                 "recorded for `promosync sync run` (`promosync sync plan` lists them); the "
                 "other differences need none: the run's own plan repairs them, or they are "
                 "reported only")


def repair_rows(store: Store) -> list[dict[str, Any]]:
    """The recorded repair steps as rows of `sync plan` (action "repair: <step>")."""
    return [{"promotion": st.get("promotion") or "", "chunk": st.get("chunk"),
             "action": f"repair: {st['step']}", "external_id": st.get("external_id"),
             "code": st.get("code"), "generate": 0, "push": 0, "read_back": 0,
             "reason": st.get("reason")} for st in repair_steps(store)]
