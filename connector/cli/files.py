"""Commands for files (R10-R12): `customers import|list`, and `codes import|export`.

`codes_import` and `codes_export` are attached to the `codes` group by connector/cli/codes.py;
`COMMANDS` holds the `customers` group. Every command prints a summary (counts, warnings, files
written), or the summary as JSON under --json. An export to stdout ("-") prints its summary on
stderr so that stdout holds only the export.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from connector.chunks import NETSUITE_MAX_CODES
from connector.cli._common import (
    DATE,
    EXPIRY,
    TEXT,
    AliasedOption,
    App,
    Choice,
    emit,
    pass_app,
    progress,
)
from connector.files.csvsafe import STDOUT
from connector.files.summary import FORMATS
from connector.text import plural
from connector.values import jsonable

# The services below load the store layer; they are imported inside the commands so that the
# command line starts without it (a refused argument never pays for SQLAlchemy).

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.group("customers")
def customers_group() -> None:
    """Customers that codes can be bound to: import from CSV, list."""


@customers_group.command("import")
@click.argument("file", type=_FILE)
@pass_app
def customers_import(app: App, file: Path) -> None:
    """Add or update customers from FILE (CSV: customer code, e-mail, name; header optional).

    All or nothing: a bad line (empty or over-long code, malformed e-mail, a code twice) is
    reported with its line number and nothing is stored. An empty e-mail or name keeps the
    stored value.
    """
    from connector.files import import_customers

    summary = import_customers(app.store, file)
    emit(app, {"file": str(file), "added": summary.added, "updated": summary.updated,
               "lines": summary.lines})


@customers_group.command("list")
@pass_app
def customers_list(app: App) -> None:
    """List the customers: code, e-mail, name."""
    from connector.catalog import list_customers

    emit(app, list_customers(app.store), columns=["code", "email", "name"])


@click.command("import")
@click.argument("promotion")
@click.argument("file", type=_FILE)
@click.option("--group", type=TEXT,
              help="Coupon group the codes belong to; its template is checked.")
@click.option("--expires", type=EXPIRY,
              help="Valid through the end of this day (today or later).")
@click.option("--start", "--starts", "starts", cls=AliasedOption, old=["--starts"], type=DATE,
              help="Valid from this day.")
@click.option("--amount", type=TEXT, help="Override amount replacing the promotion's discount.")
@pass_app
def codes_import(app: App, promotion: str, file: Path, group: str | None, expires: date | None,
                 starts: date | None, amount: str | None) -> None:
    """Import the codes of FILE into PROMOTION: all of them, or none.

    FILE is one code per line (.txt), or NetSuite's coupon-code CSV layout (promotion name,
    code). A bad line, a code twice in the file or a code already in the store is reported
    with its line number, and nothing of the file is stored.
    """
    from connector.files import import_codes
    from connector.generate import CodeOptions

    options = CodeOptions(expires=expires, starts=starts, amount=amount, group=group)  # type: ignore[arg-type]
    with progress(app, _line_count(file), "importing") as advance:
        summary = import_codes(app.store, promotion, file, options=options, progress=advance)
    for warning in summary.warnings:
        app.warn(warning)
    emit(app, {"promotion": promotion, "file": str(file), "imported": summary.added,
               "lines": summary.lines, "batch": summary.batch_id, "warnings": summary.warnings})


@click.command("export")
@click.argument("promotion")
@click.option("--format", "fmt", type=Choice(FORMATS), default="plain", show_default=True,
              help="plain: one code per line; customers: CSV for mailings; netsuite-csv: "
                   "NetSuite's import layout, one file per NetSuite promotion; usage: who was "
                   "given which code, when.")
@click.option("--output", "-o", default=STDOUT, show_default=True,
              help="File to write; '-' is stdout. netsuite-csv over several NetSuite promotions "
                   "writes NAME-1.csv, NAME-2.csv, ...")
@click.option("--chunk-size", type=click.IntRange(1, NETSUITE_MAX_CODES),
              default=NETSUITE_MAX_CODES, show_default=True,
              help="Codes per NetSuite promotion (netsuite-csv).")
@pass_app
def codes_export(app: App, promotion: str, fmt: str, output: str, chunk_size: int) -> None:
    """Export the codes of PROMOTION. Files are written whole or not at all."""
    from connector.files import export_codes, export_row_count

    total = export_row_count(app.store, promotion, fmt)
    with progress(app, total, "exporting") as advance:
        summary = export_codes(app.store, promotion, fmt, output, chunk_size=chunk_size,
                               zone=app.settings.zone, progress=advance)
    for warning in summary.warnings:
        app.warn(warning)
    data = {"promotion": promotion, "format": fmt, "rows": summary.rows, "files": summary.files,
            "warnings": summary.warnings}
    if output != STDOUT:
        emit(app, data)
    elif app.as_json:
        click.echo(json.dumps(jsonable(data), indent=2, sort_keys=True), err=True)
    else:
        app.err.print(f"exported {plural(summary.rows, 'code')} of {promotion} to stdout",
                      highlight=False, markup=False)


def _line_count(file: Path) -> int:
    """Lines in `file` (a progress bar's total); 0 if it cannot be read (the import says why)."""
    try:
        with file.open("rb") as raw:
            return sum(block.count(b"\n") for block in iter(lambda: raw.read(1 << 20), b""))
    except OSError:
        return 0


COMMANDS = [customers_group]
