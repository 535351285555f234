"""Commands for codes: `codes generate`, `codes show`, and (from cli/files.py) import/export."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from connector.cli._common import (
    DATE,
    EXPIRY,
    PATTERN,
    AliasedOption,
    App,
    emit,
    pass_app,
    progress,
)
from connector.cli.files import codes_export, codes_import
from connector.codes import CodeFormat, check_count, generic_format, parse_pattern, su_format
from connector.errors import InputError

# The store-backed services are imported inside the commands: arguments are checked (count,
# format, capacity) before the store layer is even loaded, so a refusal is immediate (R8).


@click.group()
def codes() -> None:
    """Single-use and multi-use codes: generate, import, export, look up."""


@codes.command("generate")
@click.argument("promotion")
@click.option("--count", help="How many codes (1 to 1,000,000).")
@click.option(
    "--customers",
    "customers_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="One code per customer listed in this .txt/.csv file.",
)
@click.option("--pattern", type=PATTERN, help="NetSuite pattern, e.g. ABC-[AN.3]-[A.3]-[N.3].")
@click.option("--su", is_flag=True, help="Point-of-sale format: SU- and 16 of A-Z, 0-9.")
@click.option("--length", type=int, help="Generic: random characters per code.")
@click.option(
    "--charset",
    default="safe",
    show_default=True,
    help="Generic: safe, alnum, alpha, digits, hex, or the characters themselves.",
)
@click.option("--prefix", default="", help="Generic: text before the random part.")
@click.option("--suffix", default="", help="Generic: text after the random part.")
@click.option("--expires", type=EXPIRY, help="Valid through the end of this day (today or later).")
@click.option("--start", "--starts", "starts", cls=AliasedOption, old=["--starts"], type=DATE,
              help="Valid from this day.")
@click.option("--amount", help="Override amount replacing the promotion's discount.")
@click.option("--group", help="Coupon group the codes belong to.")
@click.option("--max-uses", type=int, help="Usage limit in total (multi-use promotions).")
@click.option("--per-customer", type=int, help="Usage limit per customer.")
@click.option(
    "--allow-guessable", is_flag=True, help="Generate even when codes would be easy to guess."
)
@pass_app
def codes_generate(
    app: App,
    promotion: str,
    count: str | None,
    customers_file: Path | None,
    pattern: str | None,
    su: bool,
    length: int | None,
    charset: str,
    prefix: str,
    suffix: str,
    expires: date | None,
    starts: date | None,
    amount: str | None,
    group: str | None,
    max_uses: int | None,
    per_customer: int | None,
    allow_guessable: bool,
) -> None:
    """Generate codes for PROMOTION: --count N, or one per customer with --customers FILE."""
    fmt = _format(pattern, su, length, charset, prefix, suffix)
    if customers_file is None and count is not None and fmt is not None:
        # refuse what the format cannot supply before the store is opened (R8, R9)
        fmt.check_count(check_count(count), allow_guessable=allow_guessable)
    local_only: dict[str, object] = {
        "--customers": customers_file, "--pattern": pattern, "--su": su, "--length": length,
        "--charset": charset != "safe", "--prefix": prefix, "--suffix": suffix,
        "--expires": expires, "--start": starts, "--amount": amount, "--group": group,
        "--max-uses": max_uses, "--per-customer": per_customer,
        "--allow-guessable": allow_guessable}
    if _request_from_netsuite(app, promotion, count, local_only):
        return
    from connector.catalog import decimal_or_error
    from connector.files import read_customer_codes
    from connector.generate import CodeOptions, generate_codes, generate_for_customers

    options = CodeOptions(
        expires=expires,
        starts=starts,
        amount=None if amount is None else decimal_or_error(amount, "the override amount"),
        group=group,
        max_uses=max_uses,
        max_uses_per_customer=per_customer,
    )
    if customers_file is not None:
        if count is not None:
            raise InputError("give --count or --customers, not both: one code is made per customer")
        wanted = read_customer_codes(customers_file)
        with progress(app, len(wanted), "generating") as advance:
            result = generate_for_customers(
                app.store, promotion, wanted, fmt=fmt, options=options, progress=advance
            )
    else:
        if count is None:
            raise InputError("give --count N (or --customers FILE)")
        n = check_count(count)
        with progress(app, n, "generating") as advance:
            result = generate_codes(
                app.store,
                promotion,
                count=n,
                fmt=fmt,
                options=options,
                allow_guessable=allow_guessable,
                progress=advance,
            )
    for warning in result.warnings:
        app.warn(warning)
    summary = {
        "promotion": result.promotion,
        "batch": result.batch_id,
        "generated": result.count,
        "format": result.format,
    }
    if customers_file is not None:
        summary["skipped_customers"] = result.skipped_customers
    emit(app, summary)


def _request_from_netsuite(app: App, promotion: str, count: str | None,
                           options: dict[str, object]) -> bool:
    """On a promotion whose codes NetSuite makes, record a request for `count` more (made and
    read back by the next `sync run`) instead of making codes here. False for other promotions."""
    from connector.catalog import get_promotion

    promo = get_promotion(app.store, promotion)
    if promo.codes_from != "netsuite":
        return False
    given = [name for name, value in options.items() if value]
    if given:
        raise InputError(f"{promo.name}: NetSuite makes its codes, so {', '.join(given)} "
                         "cannot be used; give only --count")
    if count is None:
        raise InputError("give --count N: how many more codes NetSuite should make")
    from connector.sync.state import netsuite_code_counts, request_netsuite_codes

    n = check_count(count)
    total = request_netsuite_codes(app.store, promo.name, n)
    _requested, received = netsuite_code_counts(app.store, promo.name)
    emit(app, {"promotion": promo.name, "requested_now": n, "requested_in_all": total,
               "received": received,
               "next": "sync run makes them in NetSuite and reads them back"})
    return True


def _format(
    pattern: str | None, su: bool, length: int | None, charset: str, prefix: str, suffix: str
) -> CodeFormat | None:
    chosen = [
        name for name, on in (("--pattern", pattern), ("--su", su), ("--length", length)) if on
    ]
    if len(chosen) > 1:
        raise InputError(f"choose one format: {' or '.join(chosen)}")
    if (prefix or suffix or charset != "safe") and length is None:
        raise InputError("--prefix, --suffix and --charset go with --length")
    if pattern:
        return parse_pattern(pattern)
    if su:
        return su_format()
    if length is not None:
        return generic_format(length, charset, prefix, suffix)
    return None  # the promotion's own pattern, else the SU format


@codes.command("show")
@click.argument("code")
@pass_app
def codes_show(app: App, code: str) -> None:
    """Show CODE: its promotion, limits, state and history."""
    from connector import history

    details, events = history.code_history(app.store, code)
    data = details.model_dump()
    data["history"] = [e.model_dump() for e in events]
    if app.as_json:
        emit(app, data)
        return
    emit(app, {k: v for k, v in data.items() if k != "history"})
    emit(
        app,
        data["history"],
        columns=["at", "kind", "source", "transaction", "customer", "detail"],
        title="history",
    )


codes.add_command(codes_import, "import")
codes.add_command(codes_export, "export")

COMMANDS = [codes]
