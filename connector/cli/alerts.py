"""`promosync alerts test`: a test message to every alert target of promosync.toml (R44).

Exit codes: 0 every target took it, 1 some did not (each one's cause is printed), 2 the
`[alerts]` table is malformed or names no target.
"""

from __future__ import annotations

import click

from connector.cli._common import App, emit, pass_app


@click.group("alerts")
def alerts_group() -> None:
    """Alerts sent to webhooks, e-mail and Slack when a sync fails, a promotion keeps failing,
    a coupon list runs low, NetSuite and the store disagree, or the guessing guard locks a
    client out (the [alerts] table of promosync.toml)."""


@alerts_group.command("test")
@pass_app
def test_cmd(app: App) -> None:
    """Send a test alert to each target and say, per target, whether it arrived."""
    from connector.alerts import events, load_alerts, notify
    from connector.alerts.config import config_file
    from connector.errors import ConfigError

    config = load_alerts()
    if not config.targets:
        raise ConfigError(f"{config_file().name} has no alert targets: add [[alerts.targets]] "
                          "with kind webhook, smtp or slack")
    sending = notify(events.test_alert(), config)
    assert sending is not None  # every target takes the test event
    order = [label for label, _ in config.for_event("test")]
    results = sorted(sending.wait(), key=lambda d: order.index(d.target)
                     if d.target in order else len(order))
    rows = [{"target": d.target, "kind": d.kind, "delivered": d.ok,
             "seconds": round(d.seconds, 2), "attempts": d.attempts, "cause": d.cause}
            for d in results]
    if app.as_json:
        emit(app, rows)
    else:
        for r in rows:
            said = (f"ok ({r['seconds']:.1f} s)" if r["delivered"]
                    else f"FAILED: {r['cause']}")
            click.echo(f"{r['target']} ({r['kind']}): {said}")
    if not all(d.ok for d in results):
        raise click.exceptions.Exit(1)


COMMANDS = [alerts_group]
