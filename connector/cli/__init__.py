"""The `promosync` command: global flags, the command groups, and errors to exit codes.

Exit codes: 0 success; 1 a rule refused the work (bad input, some promotions failed); 2 settings,
credentials or usage; 3 another sync run holds the lock; 70 an internal error (a bug: its
traceback is shown only with PROMOSYNC_DEBUG=1).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import click

from connector.cli._common import App
from connector.errors import ConnectorError

EXIT_INTERNAL = 70


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--database-url", envvar=None, help="Store URL (default from PROMOSYNC_DATABASE_URL).")
@click.option("--timezone", help="Store time zone for expiry dates (PROMOSYNC_TIMEZONE).")
@click.option("--mapping", help="Mapping file overriding mappings/default.toml (PROMOSYNC_MAPPING).")
@click.option("--json", "as_json", is_flag=True, help="Print data as JSON.")
@click.option("-v", "--verbose", count=True, help="More log lines on stderr (-vv for debug).")
@click.version_option(package_name="promosync")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, timezone: str | None, mapping: str | None,
        as_json: bool, verbose: int) -> None:
    """promosync: promotions and single-use coupon codes, in step with NetSuite."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    app = App(overrides={"database_url": database_url, "timezone": timezone, "mapping": mapping},
              as_json=as_json)
    ctx.obj = app
    ctx.call_on_close(app.close)


def _register() -> None:
    """Attach each area's commands; an area whose module is absent is simply not offered."""
    from connector.cli import catalog as catalog_cli
    from connector.cli import codes as codes_cli

    for command in (*catalog_cli.COMMANDS, *codes_cli.COMMANDS):
        cli.add_command(command)
    optional = (
        ("connector.cli.redeem", "COMMANDS"),
        ("connector.cli.lists", "COMMANDS"),
        ("connector.cli.sync", "COMMANDS"),
        ("connector.cli.emulator", "COMMANDS"),
        ("connector.cli.demo", "COMMANDS"),
        ("connector.cli.files", "COMMANDS"),
    )
    import importlib

    for module_name, attr in optional:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        for command in getattr(module, attr):
            cli.add_command(command)


def _json_everywhere(group: click.Group) -> None:
    """Every command takes --json after its own arguments too (`promosync promo list --json`)."""

    def turn_on(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(App).as_json = True

    for command in group.commands.values():
        if isinstance(command, click.Group):
            _json_everywhere(command)
        elif not any("--json" in getattr(p, "opts", ()) for p in command.params):
            command.params.append(click.Option(["--json"], is_flag=True, expose_value=False,
                                               callback=turn_on, help="Print data as JSON."))


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI, map errors to one line and an exit code."""
    _register()
    _json_everywhere(cli)
    try:
        return cli.main(args=argv, prog_name="promosync", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ConnectorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: never a bare traceback
        if os.environ.get("PROMOSYNC_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (PROMOSYNC_DEBUG=1 shows details)",
                   err=True)
        sys.exit(EXIT_INTERNAL)
