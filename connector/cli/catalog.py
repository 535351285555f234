"""Commands for the catalog: `init`, `promo`, `group` and `settings` (R1, R2, R19)."""

from __future__ import annotations

from datetime import date

import click

from connector import catalog
from connector.cli._common import DATE, App, emit, pass_app
from connector.errors import InputError
from connector.generate import SETTING_AUTO_APPLY, SETTING_SINGLE_USE

PROMO_COLUMNS = [
    "name",
    "kind",
    "discount_type",
    "rate",
    "use_type",
    "codes_from",
    "start_date",
    "end_date",
    "code_count",
]
STORE_SETTINGS = {
    SETTING_SINGLE_USE: ("on", "off"),
    SETTING_AUTO_APPLY: ("on", "off"),
    "single_use_format": None,  # any | su | a regular expression (checked by redeem)
}


@click.command()
@pass_app
def init(app: App) -> None:
    """Create the store (or upgrade it in place) and show where it is."""
    store = app.store
    emit(
        app,
        {
            "store": store.url,
            "schema_version": store.schema_version(),
            SETTING_SINGLE_USE: store.get_setting(SETTING_SINGLE_USE, "on"),
            SETTING_AUTO_APPLY: store.get_setting(SETTING_AUTO_APPLY, "off"),
        },
    )


@click.group()
def promo() -> None:
    """Promotions (R1)."""


@promo.command("create")
@click.argument("name")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["item", "order", "shipping", "fixed_price", "free_gift"]),
)
@click.option("--rate", required=True, help="Discount rate (percent) or amount.")
@click.option(
    "--percent/--amount", "percent", default=True, help="Rate is a percent (default) or an amount."
)
@click.option("--discount-item", help="NetSuite discount item id used for accounting.")
@click.option("--start", type=DATE)
@click.option("--end", type=DATE)
@click.option("--min-order", help="Minimum order amount.")
@click.option("--items", help="Comma-separated item ids the promotion applies to.")
@click.option("--combination", "combination_type", default="COMBINABLE", show_default=True)
@click.option("--use", type=click.Choice(["single", "multi"]), default="single", show_default=True)
@click.option("--pattern", help="Code pattern, e.g. ABC-[AN.3]-[N.3] (R5).")
@click.option(
    "--codes-from", type=click.Choice(["local", "netsuite"]), default="local", show_default=True
)
@click.option("--customers", help="Comma-separated customer codes allowed to use it.")
@pass_app
def promo_create(
    app: App,
    name: str,
    kind: str,
    rate: str,
    percent: bool,
    discount_item: str | None,
    start: date | None,
    end: date | None,
    min_order: str | None,
    items: str | None,
    combination_type: str,
    use: str,
    pattern: str | None,
    codes_from: str,
    customers: str | None,
) -> None:
    """Create promotion NAME."""
    created = catalog.create_promotion(
        app.store,
        name=name,
        kind=kind,
        rate=rate,
        percent=percent,
        discount_item=discount_item,
        start=start,
        end=end,
        min_order=min_order,
        items=_split(items),
        combination_type=combination_type,
        use=use,
        pattern=pattern,
        codes_from=codes_from,
        customers=_split(customers),
    )
    emit(app, created.model_dump(), columns=None)


@promo.command("list")
@pass_app
def promo_list(app: App) -> None:
    """List promotions with their code counts."""
    emit(app, [p.model_dump() for p in catalog.list_promotions(app.store)], columns=PROMO_COLUMNS)


@promo.command("show")
@click.argument("name")
@pass_app
def promo_show(app: App, name: str) -> None:
    """Show promotion NAME."""
    emit(app, catalog.get_promotion(app.store, name).model_dump())


@promo.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def promo_delete(app: App, name: str, yes: bool) -> None:
    """Delete promotion NAME (its codes stop redeeming; the next sync removes it in NetSuite)."""
    catalog.get_promotion(app.store, name)
    if not yes and not click.confirm(f"Delete promotion {name!r}?", default=False, err=True):
        raise click.Abort()
    catalog.delete_promotion(app.store, name)
    app.info(f"deleted promotion {name}")


@click.group()
def group() -> None:
    """Coupon groups: shared dates, customers and a code template (R2)."""


@group.command("create")
@click.argument("name")
@click.option("--start", type=DATE)
@click.option("--end", type=DATE)
@click.option("--template", help="NetSuite pattern new codes of the group should fit.")
@click.option("--customers", help="Comma-separated customer codes the group's codes are for.")
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
        app.store, name=name, start=start, end=end, template=template, customers=_split(customers)
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
    """Store settings: single-use codes on/off, auto-apply on/off, redemption format (R19)."""


@settings_group.command("show")
@pass_app
def settings_show(app: App) -> None:
    """Show the store's settings."""
    defaults = {SETTING_SINGLE_USE: "on", SETTING_AUTO_APPLY: "off", "single_use_format": "any"}
    emit(app, {k: app.store.get_setting(k, d) for k, d in defaults.items()})


@settings_group.command("set")
@click.argument("key", type=click.Choice(sorted(STORE_SETTINGS)))
@click.argument("value")
@pass_app
def settings_set(app: App, key: str, value: str) -> None:
    """Set a store setting, e.g. `promosync settings set single_use_codes off`."""
    allowed = STORE_SETTINGS[key]
    if allowed is not None and value not in allowed:
        raise InputError(f"{key} takes {' or '.join(allowed)}, not {value!r}")
    app.store.set_setting(key, value)
    app.info(f"{key} = {value}")


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


COMMANDS = [init, promo, group, settings_group]
