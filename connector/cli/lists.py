"""`promosync lists ...`: coupon lists (R20-R23): create, assign, show, per-user history, export."""

from __future__ import annotations

import io
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from connector.cli._common import EXPIRY, TEXT, App, emit, pass_app
from connector.errors import DistributionError, InputError
from connector.lists import Distributor, ListStatus, ListWarning, read_code_file
from connector.text import plural

if TYPE_CHECKING:
    from connector.serve.messages import Message


def _distributor(app: App) -> Distributor:
    def warn(w: ListWarning) -> None:
        app.warn(w.text)

    # the command line's stderr is its log: the warning is said there once, by the hook
    return Distributor(app.store, timezone=app.settings.zone, on_warning=warn, log_warnings=False)


def _summary(st: ListStatus) -> dict[str, object]:
    return {
        "name": st.name,
        "kind": st.kind,
        "total": st.total,
        "remaining": st.remaining,
        "expires_on": st.expires_on,
        "warning_limit": st.warning_limit,
        "warned_at": st.warned_at,
    }


@click.group("lists")
def lists() -> None:
    """Coupon lists: hand codes to users for campaigns."""


@lists.command("create")
@click.argument("name")
@click.option("--fixed", metavar="CODE", type=TEXT,
              help="One code for everyone, handed out --times times.")
@click.option("--times", type=click.IntRange(min=1),
              help="How many times the --fixed code is handed out.")
@click.option(
    "--codes",
    "codes_file",
    type=click.Path(dir_okay=False),
    help="A .txt file, one unique code per line.",
)
@click.option("--expires", type=EXPIRY, help="Last day the codes are valid (today or later).")
@click.option(
    "--warning-limit", type=click.IntRange(min=0), help="Warn when this many codes are left."
)
@pass_app
def create_cmd(
    app: App,
    name: str,
    fixed: str | None,
    times: int | None,
    codes_file: str | None,
    expires: date | None,
    warning_limit: int | None,
) -> None:
    """Create a fixed-code list (--fixed CODE --times N) or a unique-code list (--codes FILE)."""
    if (fixed is None) == (codes_file is None):
        raise InputError("give either --fixed CODE --times N or --codes FILE")
    codes = read_code_file(codes_file) if codes_file else None
    status = _distributor(app).create(
        name, fixed=fixed, times=times, codes=codes, expires=expires, warning_limit=warning_limit
    )
    emit(app, _summary(status))


@lists.command("assign")
@click.argument("name")
@click.option("--user", type=TEXT, help="The user's id.")
@click.option("--users", "users_file", type=click.Path(dir_okay=False),
              help="A file of users, one a line (USER or USER,EXTERNAL_ID): a code and a "
                   "message each (with --template).")
@click.option("--campaign", required=True, type=TEXT, help="The campaign's id.")
@click.option("--external-id", type=TEXT,
              help="The user's id in another system (in the usage export).")
@click.option("--template", help="The message, with {couponcode} {expirydate} {givendate} "
                                 "{user} {campaign} {list}.")
@click.option("--date-format", help="How the template writes dates, e.g. %d.%m.%Y "
                                    "(default %Y-%m-%d, in the store's time zone).")
@click.option("--sms", is_flag=True,
              help="Refuse a message longer than one SMS (160 GSM-7 or 70 UCS-2 characters).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="CSV file of the rendered messages (default: stdout).")
@pass_app
def assign_cmd(app: App, name: str, user: str | None, users_file: str | None, campaign: str,
               external_id: str | None, template: str | None, date_format: str | None,
               sms: bool, output: str | None) -> None:
    """Give USER (or each of --users) a code of list NAME for CAMPAIGN (the same one again
    within 24 hours); with --template, the message that carries it."""
    if (user is None) == (users_file is None):
        raise InputError("give either --user USER or --users FILE")
    if template is None:
        if users_file or date_format or sms or output:
            raise InputError("--users, --date-format, --sms and --output go with --template")
        assert user is not None
        _assign_one(app, name, user, campaign, external_id)
        return
    from connector.serve.handout import hand_out, read_users
    from connector.serve.messages import Template

    tpl = Template.parse(template, date_format=date_format, sms=sms)
    users = read_users(users_file) if users_file else [(str(user), external_id)]
    done = hand_out(_distributor(app), name, users, campaign, tpl, app.settings.zone)
    if done.messages:  # codes handed out: their messages are written, whatever came after
        _write_messages(app, done.messages, output, batch=users_file is not None)
    if done.stopped is not None:
        raise DistributionError(done.stopped)


def _assign_one(app: App, name: str, user: str, campaign: str, external_id: str | None) -> None:
    given = _distributor(app).assign(name, user=user, campaign=campaign, external_id=external_id)
    if app.as_json:
        emit(app, given.to_dict())
        return
    click.echo(given.code)
    if given.repeated:
        app.info(
            f"(given to {given.user} for {given.campaign} at {given.given_at:%Y-%m-%d %H:%M} UTC)"
        )


def _write_messages(app: App, messages: list[Message], output: str | None, batch: bool) -> None:
    """One user: the message itself; a batch, or --output: the CSV export for the sender."""
    from connector.serve.messages import write_messages

    if app.as_json:
        emit(app, [m.to_dict() for m in messages])
        return
    if not batch and output is None:
        click.echo(messages[0].text)
        return
    buffer = io.StringIO()
    count = write_messages(buffer, messages)
    if output is None:
        sys.stdout.write(buffer.getvalue())
        return
    Path(output).write_text(buffer.getvalue(), encoding="utf-8", newline="")
    app.info(f"wrote {plural(count, 'message')} to {output}")


@lists.command("show")
@click.argument("name")
@pass_app
def show_cmd(app: App, name: str) -> None:
    """Remaining codes, warning state and campaigns (finished ones marked) of list NAME."""
    status = _distributor(app).status(name)
    if app.as_json:
        emit(app, status.to_dict())
        return
    emit(
        app,
        {**_summary(status), "given": status.given, "warned_remaining": status.warned_remaining},
    )
    if status.warned_at is not None:
        when = f"{status.warned_at:%Y-%m-%d %H:%M} UTC"
        app.info(f"warning raised at {when}: {plural(status.warned_remaining or 0, 'code')} left")
    rows = [asdict(c) for c in status.campaigns]
    emit(app, rows, columns=["campaign", "started_at", "finished_at", "reason"], title="campaigns")


@lists.command("list")
@pass_app
def list_cmd(app: App) -> None:
    """Every coupon list with its remaining count and expiry."""
    emit(
        app,
        [_summary(s) for s in _distributor(app).lists()],
        columns=["name", "kind", "total", "remaining", "expires_on", "warning_limit"],
    )


@lists.command("user")
@click.argument("user")
@pass_app
def user_cmd(app: App, user: str) -> None:
    """Every code USER was given, when, and its expiry."""
    rows = [asdict(u) for u in _distributor(app).user_history(user)]
    emit(app, rows, columns=["list", "campaign", "code", "given_at", "expires_on"])


@lists.command("export")
@click.argument("name")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True),
    help="CSV file (default: stdout).",
)
@pass_app
def export_cmd(app: App, name: str, output: str | None) -> None:
    """Usage export of list NAME: Coupon Code, External ID, User ID, given and expiry dates."""
    buffer = io.StringIO()
    count = _distributor(app).export(name, buffer)  # an unknown list fails before any file
    if output is None:
        sys.stdout.write(buffer.getvalue())
        return
    Path(output).write_text(buffer.getvalue(), encoding="utf-8", newline="")
    app.info(f"wrote {plural(count, 'row')} to {output}")


COMMANDS = [lists]
