"""`promosync serve` and `promosync keys ...`: the admin page and HTTP API (R41), and its keys."""

from __future__ import annotations

import logging
import sys

import click

from connector.cli._common import TEXT, App, Choice, emit, pass_app
from connector.errors import ConfigError
from connector.values import is_loopback


def _flags(app: App) -> list[str]:
    """The global flags `sync plan` needs to see what this server sees."""
    flags: list[str] = []
    for name in ("database_url", "timezone", "mapping"):
        value = app.overrides.get(name)
        if value is not None:
            flags += [f"--{name.replace('_', '-')}", str(value)]
    return flags


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but a loopback address is warned about.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one).")
@pass_app
def serve_cmd(app: App, host: str, port: int) -> None:
    """Serve the admin pages (/admin) and the HTTP API (/v1, described at /openapi.json)."""
    from connector.serve import server
    from connector.serve.app import build_app
    from connector.serve.context import Context
    from connector.serve.settings import load_serve_settings

    settings = load_serve_settings(**app.overrides)
    from connector.alerts import load_alerts

    load_alerts()  # a malformed [alerts] table: one line and exit 2 now, not a warning per alert
    if not is_loopback(host):
        app.warn(f"listening on {host}, not a loopback address: anyone who can reach this "
                 "machine can reach the API and the admin sign-in, and without a TLS proxy in "
                 "front, keys and passwords cross the network in clear text")
    sock = server.bind(host, port)
    ctx = Context.build(app.store, settings, _flags(app))
    url = server.url_of(sock)
    click.echo(f"promosync serve on {url}: admin pages {url}/admin, API {url}/v1, "
               f"OpenAPI {url}/openapi.json; Ctrl-C stops")
    if settings.admin_password_hash is None:
        app.warn("no admin password is set (PROMOSYNC_ADMIN_PASSWORD_HASH): sign in to the "
                 "admin pages with a key made by `promosync keys create NAME --scope admin`")
    level = "info" if logging.getLogger().getEffectiveLevel() <= logging.INFO else "warning"
    try:
        server.run(build_app(ctx), sock, log_level=level)
    except KeyboardInterrupt:  # uvicorn finished the requests in flight, then passed Ctrl-C on
        click.echo("stopped")


@click.group("keys")
def keys_group() -> None:
    """API keys of `promosync serve`: made, listed, revoked; kept only as hashes."""


@keys_group.command("create")
@click.argument("name", type=TEXT)
@click.option("--scope", "scopes", multiple=True, required=True,
              type=Choice(("register", "webstore", "lists", "admin")),
              help="What the key may do (repeatable): register, webstore, lists, admin.")
@pass_app
def create_cmd(app: App, name: str, scopes: tuple[str, ...]) -> None:
    """Make a key; it is printed once, now, and never again."""
    from connector.serve.keys import create_key

    made, key = create_key(app.store, name, scopes)
    if app.as_json:
        emit(app, {**made.to_dict(), "key": key})
        return
    click.echo(key)  # alone on stdout: KEY=$(promosync keys create ...) takes it
    app.err.print(f"key {made.name} ({' '.join(made.scopes)}): shown once; keep it now "
                  "(send it as Authorization: Bearer KEY)", highlight=False, markup=False)


@keys_group.command("list")
@pass_app
def list_cmd(app: App) -> None:
    """Every key: name, first characters, scopes, made, revoked."""
    from connector.serve.keys import list_keys

    rows = [k.to_dict() for k in list_keys(app.store)]
    emit(app, rows, columns=["name", "prefix", "scopes", "created_at", "revoked_at"])


@keys_group.command("revoke")
@click.argument("name")
@pass_app
def revoke_cmd(app: App, name: str) -> None:
    """Revoke key NAME: every request with it is refused from now on."""
    from connector.serve.keys import revoke_key

    gone = revoke_key(app.store, name)
    app.info(f"revoked key {gone.name} ({gone.prefix}...)")


@keys_group.command("admin-password")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input instead of asking for it.")
@pass_app
def admin_password_cmd(app: App, password_stdin: bool) -> None:
    """Print the setting that holds the admin password's hash (the password is not kept)."""
    from connector.serve.session import hash_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Admin password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise ConfigError("an admin password cannot be empty")
    click.echo(f"PROMOSYNC_ADMIN_PASSWORD_HASH='{hash_password(password)}'")
    app.info("put this line in the server's environment (or admin_password_hash in "
             "promosync.toml)")


COMMANDS = [serve_cmd, keys_group]
