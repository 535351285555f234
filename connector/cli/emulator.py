"""`promosync emulator serve`: run the NetSuite emulator as an HTTP server until Ctrl-C.

Prints the `export` lines a shell needs to reach it (NETSUITE_BASE_URL, the account id and the
published test keys it accepts: test values, not anyone's secrets) and starts with a sample
account (customers 1001-1003, discount item 10, items 150 and 200) unless `--empty`. Warns when
bound to a non-loopback address: the emulator accepts published test credentials and
must not be reachable from other machines. `--profile FILE` plays the account an account
profile describes (written by `promosync netsuite check --write-profile FILE`); `--variant NAME`
plays one of the named plausible accounts (connector.emulator.profiles.VARIANTS); without
either, the default options (EmulatorOptions(): the account as public evidence shows it).
"""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from connector.emulator.http_server import EmulatorServer
from connector.emulator.options import EmulatorOptions
from connector.emulator.profiles import VARIANTS, load_profile, options_for
from connector.errors import ConfigError
from connector.values import is_loopback


@click.group("emulator")
def emulator_group() -> None:
    """A local NetSuite emulator for tests and demos."""


@emulator_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8765, show_default=True, type=int, help="0 picks a free port.")
@click.option("--latency-ms", default=0.0, type=float, help="Fixed latency per request.")
@click.option("--fault-rate", default=0.0, type=click.FloatRange(0.0, 1.0),
              help="Share of requests answered 503 (NetSuite-style 5xx).")
@click.option("--concurrency-limit", default=None, type=click.IntRange(min=1),
              help="More requests in flight than this get 429 CONCURRENCY_LIMIT_EXCEEDED.")
@click.option("--seed", default=0, type=int, help="Seed of the fault random source.")
@click.option("--profile", "profile", default=None, type=click.Path(dir_okay=False),
              help="Play the account this profile file describes (netsuite check "
                   "--write-profile).")
@click.option("--variant", default=None, type=click.Choice(sorted(VARIANTS)),
              help="Play a named plausible account (evidence = as public evidence shows it).")
@click.option("--empty", is_flag=True,
              help="Start with no records (default: sample customers, items, discount item).")
@click.option("--exports", "exports_file", default=None, type=click.Path(dir_okay=False),
              help="Also write the export lines to this file once listening (for `. FILE`).")
def serve(host: str, port: int, latency_ms: float, fault_rate: float,
          concurrency_limit: int | None, seed: int, profile: str | None,
          variant: str | None, empty: bool, exports_file: str | None) -> None:
    """Serve the emulator until Ctrl-C."""
    options = account_options(profile, variant)
    faults: dict[str, Any] = {"latency_ms": latency_ms, "rate_5xx": fault_rate, "seed": seed}
    if concurrency_limit is not None:
        faults["concurrency_limit"] = concurrency_limit
    options = replace(options, **faults)
    server = EmulatorServer(host=host, port=port, options=options)
    if not is_loopback(host):
        click.secho(f"WARNING: listening on {host}, not a loopback address: anyone who can reach "
                    "this machine can use the emulator with the published test credentials.",
                    fg="yellow", err=True)
    try:
        server.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    try:
        samples = None if empty else server.backend.seed_samples()
        click.echo(f"NetSuite emulator on {server.url}")
        if samples is not None:
            click.echo("  sample account: customers " + _ids(samples["customer"])
                       + ", discount item " + _ids(samples["discountItem"])
                       + ", items " + _ids(samples["inventoryItem"]))
        click.echo("Point promosync at it (published test values, not secrets):")
        lines = export_lines(server.url, options)
        for line in lines:
            click.echo("  " + line)
        if exports_file:
            _write_exports(exports_file, lines)
        click.echo(f"Control API: {server.url}/__emulator__/ - press Ctrl-C to stop.")
        server.wait()
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        server.stop()


def _write_exports(path: str, lines: list[str]) -> None:
    """The export lines in a file, written whole (a shell sourcing it never sees half)."""
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
        partial.replace(target)
    except OSError as exc:
        raise ConfigError(f"cannot write the export lines to {path}: {exc.strerror}") from None


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids)


def export_lines(url: str, options: EmulatorOptions) -> list[str]:
    """The shell lines that point promosync at an emulator on `url` with its credentials."""
    c = options.credentials
    values = {"NETSUITE_BASE_URL": url, "NETSUITE_ACCOUNT_ID": c.account_id,
              "NETSUITE_CONSUMER_KEY": c.consumer_key,
              "NETSUITE_CONSUMER_SECRET": c.consumer_secret, "NETSUITE_TOKEN_ID": c.token_id,
              "NETSUITE_TOKEN_SECRET": c.token_secret}
    return [f"export {name}={shlex.quote(value)}" for name, value in values.items()]


def account_options(profile: str | None, variant: str | None) -> EmulatorOptions:
    """The options for --profile / --variant (a profile wins; its unknowns play the variant's
    base, the evidence default); ConfigError (exit 2, one line) for a file that is no profile."""
    if profile is not None:
        if variant is not None:
            raise ConfigError("--profile and --variant are exclusive: the profile says which "
                              "account to play")
        try:
            return load_profile(profile)
        except ValueError as exc:
            raise ConfigError(f"profile {exc}") from None
    if variant is not None:
        return options_for(variant)
    return EmulatorOptions()


COMMANDS = [emulator_group]
