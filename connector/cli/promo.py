"""`promosync promo ...`: create, update, list, show and delete promotions.

`promo create` and `promo update` take the same options (`_promotion_options`) and the same
checks (connector.catalog._promotion_values); update's options default to "leave it as it is".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import click

from connector import catalog
from connector.cli._common import DATE, PATTERN, TEXT, App, Choice, emit, pass_app
from connector.models import CodesFrom, CombinationType, PromotionKind
from connector.text import shown

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
KINDS = [k.value for k in PromotionKind]
COMBINATIONS = [c.value for c in CombinationType]
USES = ["single", "multi"]
CODES_FROM = [c.value for c in CodesFrom]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _promotion_options(create: bool) -> Decorator:
    """The options of `promo create` (with its defaults) or `promo update` (none: unchanged)."""

    def default(value: object) -> dict[str, Any]:
        return {"default": value, "show_default": True} if create else {}

    keep = "" if create else " Unchanged when not given."
    options = [
        click.option("--kind", required=create, type=Choice(KINDS),
                     help="Promotion kind; it picks the NetSuite form (customForm)." + keep),
        click.option("--rate", required=create, type=TEXT,
                     help="Discount rate (percent) or amount." + keep),
        click.option("--percent/--amount", "percent", default=True if create else None,
                     help="The rate is a percent (default) or an amount." if create else
                     "The rate is a percent or an amount." + keep),
        click.option("--discount-item", type=TEXT,
                     help="NetSuite discount item id used for accounting." + keep),
        click.option("--start", type=DATE, help="First day the promotion applies." + keep),
        click.option("--end", type=DATE, help="Last day the promotion applies." + keep),
        click.option("--min-order", type=TEXT, help="Minimum order amount." + keep),
        click.option("--items", type=TEXT,
                     help="Comma-separated item ids the promotion applies to." + keep),
        click.option("--combination", "combination_type",
                     type=Choice(COMBINATIONS, case_sensitive=False),
                     help="How it combines with other promotions (NetSuite combinationType)."
                     + keep, **default("COMBINABLE")),
        click.option("--use", type=Choice(USES),
                     help="Single-use codes (each used once) or multi-use ones." + keep,
                     **default("single")),
        click.option("--pattern", type=PATTERN,
                     help="Code pattern, e.g. ABC-[AN.3]-[N.3]: [A.n] letters, [N.n] digits, "
                          "[AN.n] both." + keep),
        click.option("--codes-from", type=Choice(CODES_FROM),
                     help="Who makes the codes for NetSuite: promosync (local) or NetSuite "
                          "from the pattern." + keep, **default("local")),
    ]

    def apply(fn: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return apply


@click.group()
def promo() -> None:
    """Promotions: their discount, dates, use type and code pattern."""


@promo.command("create")
@click.argument("name")
@_promotion_options(create=True)
@click.option("--customers", type=TEXT, help="Comma-separated customer codes allowed to use it.")
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
        items=split(items),
        combination_type=combination_type,
        use=use,
        pattern=pattern,
        codes_from=codes_from,
        customers=split(customers),
    )
    emit(app, created.model_dump(), columns=None)


@promo.command("update")
@click.argument("name")
@_promotion_options(create=False)
@pass_app
def promo_update(app: App, /, name: str, items: str | None, **changes: Any) -> None:
    """Change promotion NAME: only the options given; prints what changed.

    A new kind or use type is made here at once; NetSuite cannot change either in place, so
    the next sync re-creates the promotion there (and says so here).
    """
    if items is None and all(v is None for v in changes.values()):
        raise click.UsageError("nothing to change: give at least one option (see --help)")
    done = catalog.update_promotion(
        app.store, name, items=None if items is None else split(items), **changes
    )
    if app.as_json:
        emit(app, {"promotion": done.promotion.model_dump(), "notes": done.notes,
                   "changed": {k: {"old": old, "new": new}
                               for k, (old, new) in done.changes.items()}})
        return
    for note in done.notes:
        app.warn(note)
    if not done.changes:
        app.info(f"promotion {done.promotion.name}: nothing changed (it has these values)")
    for column, (old, new) in done.changes.items():
        app.info(f"{column}: {_value(old)} -> {_value(new)}")


def _value(value: object) -> str:
    if value is None or value == []:
        return "(none)"
    if isinstance(value, list | tuple):
        return shown(", ".join(str(v) for v in value), quote=False)
    return shown(value, quote=False)


@promo.command("list")
@pass_app
def promo_list(app: App) -> None:
    """List promotions with their code counts."""
    emit(app, [p.model_dump() for p in catalog.list_promotions(app.store)], columns=PROMO_COLUMNS)


@promo.command("show")
@click.argument("name")
@pass_app
def promo_show(app: App, name: str) -> None:
    """Show promotion NAME (for one whose codes NetSuite makes: codes asked for, received, and
    the NetSuite promotions they take)."""
    promo = catalog.get_promotion(app.store, name)
    data = promo.model_dump()
    if promo.codes_from == "netsuite":
        from connector.chunks import chunk_count
        from connector.sync.state import netsuite_code_counts

        requested, received = netsuite_code_counts(app.store, promo.name)
        data.update(netsuite_codes_requested=requested, netsuite_codes_received=received,
                    netsuite_promotions=chunk_count(requested))
    emit(app, data)


@promo.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def promo_delete(app: App, name: str, yes: bool) -> None:
    """Delete promotion NAME (its codes stop redeeming; the next sync removes it in NetSuite)."""
    catalog.get_promotion(app.store, name)
    if not yes and not click.confirm(f"Delete promotion {shown(name)}?", default=False, err=True):
        raise click.Abort()
    catalog.delete_promotion(app.store, name)
    app.info(f"deleted promotion {name}")


def split(value: str | None) -> list[str]:
    """The items of a comma-separated option value, trimmed, empty ones left out."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]


COMMANDS = [promo]
