"""`promosync netsuite check`: what this NetSuite account offers the sync, read-only.

Prints one line per capability (✓ there, ✗ missing, ? not known) with what it means for the sync;
caches what it found in the store for `sync plan` / `sync run`, and with `--write-profile FILE`
writes it (no secret in it) for `promosync emulator serve --profile FILE`. Exit 0 when everything
the mapping and the promotions use is there, 1 when something is missing, 2 for settings,
credentials or an unreachable host.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from connector.cli._common import App, pass_app
from connector.cli.sync import unreachable
from connector.errors import ConfigError
from connector.netsuite import NetSuiteClient, NetSuiteConnectFailed
from connector.sync.check_report import check_lines, exit_code
from connector.sync.mapping import load_mapping
from connector.sync.session import Account


@click.group("netsuite")
def netsuite_group() -> None:
    """Look at the NetSuite account promosync talks to."""


@netsuite_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--write-profile", "profile_file", type=click.Path(dir_okay=False),
              help="Also write what was found to this file (no secrets), for "
                   "`promosync emulator serve --profile`.")
@pass_app
def check_cmd(app: App, as_json: bool, profile_file: str | None) -> None:
    """Find out what the account offers, writing nothing to NetSuite."""
    app.as_json = app.as_json or as_json
    if profile_file:
        folder = Path(profile_file).resolve().parent
        if not folder.is_dir():
            raise ConfigError(f"cannot write the profile {profile_file}: no folder {folder}")
    mapping = load_mapping(app.settings.mapping)
    client = NetSuiteClient.from_settings(app.settings)
    try:
        account = Account(app.store, client, mapping, timezone=app.settings.netsuite_timezone)
        profile, probe = account.check()
        items = set(account.promotion_items())
    except NetSuiteConnectFailed as exc:
        raise ConfigError(unreachable(client.base_url, exc)) from None
    finally:
        client.close()
    lines = check_lines(profile, probe, mapping, client.concurrency, items)
    if profile_file:
        try:
            Path(profile_file).write_text(profile.dumps(), encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write the profile {profile_file}: {exc.strerror}") from None
    if app.as_json:
        click.echo(json.dumps({"account": profile.account, "requests": probe.requests,
                               "capabilities": [line.as_json() for line in lines],
                               "profile": profile.as_json()}, indent=2))
    else:
        for line in lines:
            click.echo(line.text())
        click.echo(f"{probe.requests} requests; nothing was written to NetSuite")
    code = exit_code(lines)
    if code:
        raise click.exceptions.Exit(code)


COMMANDS = [netsuite_group]
