"""`promosync redeem ...`: a register's transaction from the command line (R13-R19).

Transactions live in the store, so each step is its own invocation:

    promosync redeem open --customer C042 --line SHIRT:40.00      # prints the transaction id
    promosync redeem scan TXN-1A2B3C4D5E6F su-a8b2c4d6e1f3g5h7
    promosync redeem pay TXN-1A2B3C4D5E6F
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click

from connector import history
from connector.cli._common import TEXT, App, Choice, emit, pass_app
from connector.errors import InputError
from connector.generate import SETTING_AUTO_APPLY, SETTING_SINGLE_USE
from connector.redeem import SETTING_FORMAT, Register, Sale, set_group_limits
from connector.redeem.results import MODES
from connector.store_settings import check_setting, store_settings
from connector.text import plural


def _register(app: App) -> Register:
    return Register.from_settings(app.settings, app.store)


def _show_sale(app: App, sale: Sale) -> None:
    if app.as_json:
        emit(app, sale.to_dict())
        return
    customer = sale.customer or "(none)"
    app.info(f"{sale.id}  {sale.state}  mode {sale.mode}  customer {customer}")
    app.info(f"subtotal {sale.subtotal}  shipping {sale.shipping}  discount {sale.discount}")
    if sale.lines:
        emit(
            app,
            [asdict(ln) for ln in sale.lines],
            columns=["item", "amount", "quantity"],
            title="lines",
        )
    if sale.codes:
        rows = [asdict(c) for c in sale.codes]
        emit(
            app,
            rows,
            columns=["code", "promotion", "state", "discount", "auto", "expires_on"],
            title="codes",
        )


@click.group("redeem")
def redeem() -> None:
    """Redeem codes at a register or web store: open, scan, customer, pay, cancel."""


@redeem.command("open")
@click.option("--customer", type=TEXT, help="Customer code (at most 8 characters).")
@click.option("--mode", type=Choice(MODES), default="normal", show_default=True,
              help="The transaction's mode; single-use codes are redeemed in normal mode only.")
@click.option(
    "--line", "lines", multiple=True, metavar="ITEM:AMOUNT[:QTY]", help="A cart line (repeatable)."
)
@click.option("--shipping", default="0", show_default=True, help="Shipping amount.")
@pass_app
def open_cmd(
    app: App, customer: str | None, mode: str, lines: tuple[str, ...], shipping: str
) -> None:
    """Open a transaction; prints its id."""
    sale = _register(app).open(customer=customer, mode=mode, lines=lines, shipping=shipping)
    if app.as_json:
        emit(app, sale.to_dict())
    else:
        click.echo(sale.id)
        for code in sale.codes:
            app.info(f"auto-applied {code.code} ({code.promotion}): discount {code.discount}")


@redeem.command("scan")
@click.argument("transaction")
@click.argument("code")
@pass_app
def scan_cmd(app: App, transaction: str, code: str) -> None:
    """Scan CODE into TRANSACTION: it is checked and held until payment."""
    held = _register(app).scan(transaction, code)
    if app.as_json:
        emit(app, asdict(held))
    else:
        app.info(f"held {held.code} ({held.promotion}): discount {held.discount}")


@redeem.command("remove")
@click.argument("transaction")
@click.argument("code")
@pass_app
def remove_cmd(app: App, transaction: str, code: str) -> None:
    """Take CODE off an open TRANSACTION."""
    _show_sale(app, _register(app).remove(transaction, code))


@redeem.command("line")
@click.argument("transaction")
@click.argument("lines", nargs=-1, metavar="ITEM:AMOUNT[:QTY]...")
@click.option("--shipping", help="Set the shipping amount.")
@pass_app
def line_cmd(app: App, transaction: str, lines: tuple[str, ...], shipping: str | None) -> None:
    """Add cart lines to an open TRANSACTION."""
    _show_sale(app, _register(app).add_lines(transaction, lines, shipping=shipping))


@redeem.command("customer")
@click.argument("transaction")
@click.argument("customer", required=False)
@click.option("--remove", is_flag=True, help="Remove the customer.")
@pass_app
def customer_cmd(app: App, transaction: str, customer: str | None, remove: bool) -> None:
    """Attach or change (CUSTOMER) or remove (--remove) the customer.

    Changing or removing the customer takes every single-use code off the transaction; with
    auto-apply on, the new customer's own codes are added.
    """
    if remove == (customer is not None):
        raise InputError("give a CUSTOMER or --remove")
    change = _register(app).set_customer(transaction, None if remove else customer)
    if app.as_json:
        emit(app, change.to_dict())
        return
    app.info(f"{change.sale}: customer {change.customer or '(none)'}")
    for code in change.removed:
        app.info(f"removed {code} (customer changed)")
    for code in change.applied:
        app.info(f"auto-applied {code}")


@redeem.command("pay")
@click.argument("transaction")
@pass_app
def pay_cmd(app: App, transaction: str) -> None:
    """Pay TRANSACTION: every code is checked again and committed, or none is."""
    payment = _register(app).pay(transaction)
    if app.as_json:
        emit(app, payment.to_dict())
        return
    app.info(f"{payment.sale} paid: discount {payment.discount}")
    for o in payment.outcomes:
        app.info(f"  {o.code}: {o.outcome} {o.discount}" + (f" ({o.reason})" if o.reason else ""))


@redeem.command("cancel")
@click.argument("transaction")
@pass_app
def cancel_cmd(app: App, transaction: str) -> None:
    """Cancel TRANSACTION; codes it redeemed stay used."""
    _show_sale(app, _register(app).cancel(transaction))


@redeem.command("show")
@click.argument("transaction")
@pass_app
def show_cmd(app: App, transaction: str) -> None:
    """Show TRANSACTION: lines, codes and what each gives."""
    _show_sale(app, _register(app).show(transaction))


@redeem.command("history")
@click.argument("code")
@pass_app
def history_cmd(app: App, code: str) -> None:
    """Who used CODE: its issue and every event, with transaction, customer and source."""
    details, events = history.code_history(app.store, code)
    rows = [e.model_dump() for e in events]
    if app.as_json:
        emit(
            app,
            {
                "code": details.code,
                "state": details.state,
                "use_count": details.use_count,
                "history": rows,
            },
        )
        return
    limit = details.max_uses or "unlimited"
    app.info(f"{details.code}  {details.state}  used {details.use_count} of {limit}")
    emit(app, rows, columns=["at", "kind", "source", "transaction", "customer", "detail"])


@redeem.command("release-expired")
@pass_app
def release_cmd(app: App) -> None:
    """Release holds whose time ran out (PROMOSYNC_HOLD_MINUTES)."""
    count = _register(app).release_expired()
    if app.as_json:
        emit(app, {"released": count})
    else:
        app.info(f"released {plural(count, 'expired hold')}")


@redeem.command("group-limits")
@click.argument("group")
@click.option(
    "--max-uses", type=click.IntRange(min=1), help="Uses of all the group's codes together."
)
@click.option("--max-uses-per-customer", type=click.IntRange(min=1), help="Uses per customer.")
@pass_app
def group_limits_cmd(
    app: App, group: str, max_uses: int | None, max_uses_per_customer: int | None
) -> None:
    """Set the usage limits of coupon GROUP."""
    emit(
        app,
        set_group_limits(
            app.store, group, max_uses=max_uses, max_uses_per_customer=max_uses_per_customer
        ),
    )


@redeem.command("settings")
@click.option(
    "--single-use", type=Choice(["on", "off"]), help="Single-use codes on or off (off refuses "
    "their redemption and generation)."
)
@click.option("--auto-apply", type=Choice(["on", "off"]),
              help="On: attaching a customer adds the customer's own unused codes.")
@click.option(
    "--format", "fmt", metavar="any|su|REGEX",
    help="The format a scanned single-use code must fit: any, su (SU- and 16 of A-Z, 0-9) or a "
         "regular expression."
)
@pass_app
def settings_cmd(app: App, single_use: str | None, auto_apply: str | None, fmt: str | None) -> None:
    """Show or change the redemption settings of the store (as `promosync settings` does)."""
    changes: dict[str, Any] = {
        SETTING_SINGLE_USE: single_use,
        SETTING_AUTO_APPLY: auto_apply,
        SETTING_FORMAT: fmt,
    }
    # every value is checked before any is stored
    checked = {k: check_setting(k, v) for k, v in changes.items() if v is not None}
    for key, value in checked.items():
        app.store.set_setting(key, value)
    emit(app, store_settings(app.store))


COMMANDS = [redeem]
