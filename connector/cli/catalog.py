"""Commands for the catalog: `init`, `group` and `settings` (R2, R19); `promo` is in promo.py."""

from __future__ import annotations

from datetime import date

import click

from connector import catalog
from connector.cli._common import DATE, PATTERN, TEXT, App, Choice, emit, pass_app
from connector.cli.promo import split
from connector.store_settings import DEFAULTS, set_store_setting, store_settings


@click.command()
@pass_app
def init(app: App) -> None:
    """Create the store (or upgrade it in place) and show where it is."""
    app.create_store = True
    store = app.store
    emit(app, {"store": store.url, "schema_version": store.schema_version(),
               **store_settings(store)})


@click.group()
def group() -> None:
    """Coupon groups: shared dates, customers and a code template."""


@group.command("create")
@click.argument("name")
@click.option("--start", type=DATE, help="First day the group's codes are valid.")
@click.option("--end", type=DATE, help="Last day the group's codes are valid.")
@click.option("--template", type=PATTERN,
              help="NetSuite pattern new codes of the group should fit.")
@click.option("--customers", type=TEXT,
              help="Comma-separated customer codes the group's codes are for.")
@click.option(
    "--promotion", "promotions", multiple=True, help="Attach to this promotion (repeatable)."
)
@pass_app
def group_create(
    app: App,
    name: str,
    start: date | None,
    end: date | None,
    template: str | None,
    customers: str | None,
    promotions: tuple[str, ...],
) -> None:
    """Create coupon group NAME."""
    created = catalog.create_group(
        app.store, name=name, start=start, end=end, template=template, customers=split(customers)
    )
    for promotion in promotions:
        catalog.attach_group(app.store, promotion=promotion, group=name)
    emit(app, created.model_dump())


@group.command("attach")
@click.argument("name")
@click.argument("promotion")
@pass_app
def group_attach(app: App, name: str, promotion: str) -> None:
    """Attach group NAME to PROMOTION."""
    catalog.attach_group(app.store, promotion=promotion, group=name)
    app.info(f"group {name} attached to {promotion}")


@group.command("list")
@pass_app
def group_list(app: App) -> None:
    """List coupon groups."""
    emit(
        app,
        [g.model_dump() for g in catalog.list_groups(app.store)],
        columns=["name", "start_date", "end_date", "template", "customers"],
    )


@click.group("settings")
def settings_group() -> None:
    """Store settings: single-use codes on/off, auto-apply on/off, redemption format."""


@settings_group.command("show")
@pass_app
def settings_show(app: App) -> None:
    """Show the store's settings."""
    emit(app, store_settings(app.store))


@settings_group.command("set")
@click.argument("key", type=Choice(sorted(DEFAULTS)))
@click.argument("value")
@pass_app
def settings_set(app: App, key: str, value: str) -> None:
    """Set a store setting KEY to VALUE: single_use_codes on|off, auto_apply on|off,
    single_use_format any|su|REGEX (the format a scanned code must fit).

    Example: `promosync settings set single_use_codes off`.
    """
    stored = set_store_setting(app.store, key, value)
    app.info(f"{key} = {stored}")


COMMANDS = [init, group, settings_group]
