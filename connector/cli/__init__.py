"""The `promosync` command: global flags, the command groups, and errors to exit codes.

Exit codes (cli._exits): 0 success; 1 a rule refused the work (bad input, some promotions
failed); 2 settings, credentials, usage, the store or an unreachable host; 3 another sync run
holds the lock; 130 / 143 SIGINT / SIGTERM; 70 an internal error (a bug: its traceback is shown
only with PROMOSYNC_DEBUG=1).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any

import click

from connector.cli import _logs
from connector.cli._common import App
from connector.cli._exits import EXIT_INTERNAL, click_message, ending

__all__ = ["EXIT_INTERNAL", "cli", "click_message", "main"]


# Each command group's module is imported only when that group is used: `promosync codes ...`
# does not pay for importing the emulator, the NetSuite client or the sync engine.
AREAS: dict[str, str] = {
    "init": "connector.cli.catalog",
    "promo": "connector.cli.promo",
    "group": "connector.cli.catalog",
    "settings": "connector.cli.catalog",
    "codes": "connector.cli.codes",
    "customers": "connector.cli.files",
    "redeem": "connector.cli.redeem",
    "lists": "connector.cli.lists",
    "sync": "connector.cli.sync",
    "netsuite": "connector.cli.netsuite",
    "emulator": "connector.cli.emulator",
    "demo": "connector.cli.demo",
    "samples": "connector.cli.samples",
    "serve": "connector.cli.serve",
    "keys": "connector.cli.serve",
    "alerts": "connector.cli.alerts",
}


class LazyGroup(click.Group):
    """A root group that imports an area's module when one of its commands is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(AREAS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = AREAS.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(module_name)
        command = next((c for c in module.COMMANDS if c.name == cmd_name), None)
        if command is not None:
            _json_everywhere(command)
        return command


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--database-url", envvar=None, help="Store URL (default from PROMOSYNC_DATABASE_URL)."
)
@click.option("--timezone", help="Store time zone for expiry dates (PROMOSYNC_TIMEZONE).")
@click.option(
    "--mapping", help="Mapping file overriding mappings/default.toml (PROMOSYNC_MAPPING)."
)
@click.option("--json", "as_json", is_flag=True, help="Print data as JSON.")
@click.option("-v", "--verbose", count=True, help="More log lines on stderr (-vv for debug).")
@click.option("--log-format", type=click.Choice(_logs.FORMATS, case_sensitive=False),
              envvar=_logs.FORMAT_ENV, default="text", show_default=True,
              help="Lines on stderr as text, or one JSON object per line "
                   "(PROMOSYNC_LOG_FORMAT).")
@click.version_option(package_name="promosync")
@click.pass_context
def cli(
    ctx: click.Context,
    database_url: str | None,
    timezone: str | None,
    mapping: str | None,
    as_json: bool,
    verbose: int,
    log_format: str,
) -> None:
    """promosync: promotions and single-use coupon codes, in step with NetSuite."""
    level = logging.WARNING - 10 * min(verbose, 2)
    _logs.setup(level, log_format.lower())
    ctx.call_on_close(_logs.restore)
    # oauthlib and requests-oauthlib log each request's signature base string and signed headers
    # at DEBUG: noise, and not ours to print
    for signer in ("oauthlib", "requests_oauthlib"):
        logging.getLogger(signer).setLevel(max(level, logging.INFO))
    app = App(
        overrides={"database_url": database_url, "timezone": timezone, "mapping": mapping},
        as_json=as_json,
    )
    ctx.obj = app
    ctx.call_on_close(app.close)


def _json_everywhere(command: click.Command) -> None:
    """Every command takes --json after its own arguments too (`promosync promo list --json`)."""

    def turn_on(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(App).as_json = True

    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _json_everywhere(sub)
    elif not any("--json" in getattr(p, "opts", ()) for p in command.params):
        command.params.append(
            click.Option(
                ["--json"],
                is_flag=True,
                expose_value=False,
                callback=turn_on,
                help="Print data as JSON.",
            )
        )


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI, map errors to one line and an exit code (cli._exits)."""
    try:
        return cli.main(args=argv, prog_name="promosync", standalone_mode=False)
    except BaseException as exc:  # noqa: BLE001 - the last line of defence: never a traceback
        code, line = ending(exc)
        if code == EXIT_INTERNAL and os.environ.get("PROMOSYNC_DEBUG"):
            raise
        if line:
            click.echo(_logs.said(line, sys.argv[1:] if argv is None else argv), err=True)
        sys.exit(code)
    finally:
        _logs.forget()
