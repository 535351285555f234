"""What every command shares: the app context, output (table or --json), progress, and the
option types (dates, choices, one-line texts, old option spellings).

Commands raise the typed errors of connector/errors.py; `connector.cli.main` turns them into one
line on stderr and the error's exit code. Nothing here knows a business rule.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import click

from connector.errors import InputError
from connector.text import control_character, shown
from connector.values import jsonable

if TYPE_CHECKING:  # loaded on first use: a refused argument never pays for them
    from rich.console import Console
    from rich.progress import Progress

    from connector.settings import Settings
    from connector.store import Store


@dataclass
class App:
    """Built once per invocation from the global flags; opens the store lazily."""

    overrides: dict[str, Any]
    as_json: bool = False
    create_store: bool = False  # only `promosync init` makes a store where there is none
    _settings: Settings | None = None
    _store: Store | None = None

    @cached_property
    def out(self) -> Console:
        from rich.console import Console

        # Not a terminal (a pipe, a file): no width to fit, so tables are never cut to 80 columns.
        return Console(soft_wrap=True, width=None if sys.stdout.isatty() else WIDE)

    @cached_property
    def err(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, soft_wrap=True)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from connector.settings import load_settings

            self._settings = load_settings(**self.overrides)
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            from connector.store import open_store

            self._store = open_store(self.settings.database_url, create=self.create_store)
        return self._store

    @property
    def opened_store(self) -> Store | None:
        """The store if a command has opened it (None: not asked for, or it failed)."""
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    def warn(self, text: str) -> None:
        self.err.print(f"[yellow]warning:[/yellow] {text}", highlight=False)

    def info(self, text: str) -> None:
        """A human line: on stdout normally, on stderr under --json so stdout stays JSON."""
        (self.err if self.as_json else self.out).print(text, highlight=False, markup=False)


pass_app = click.make_pass_decorator(App)
WIDE = 10_000  # columns of output that is not a terminal


def emit(
    app: App, data: Any, columns: Sequence[str] | None = None, title: str | None = None
) -> None:
    """Print `data` (a model, a dict, or a list of them) as JSON under --json, else as a table."""
    payload = jsonable(data)
    if app.as_json:
        click.echo(json.dumps(payload, indent=2, sort_keys=True))
        return
    from rich.table import Table

    rows = payload if isinstance(payload, list) else [payload]
    if not rows:
        app.out.print("(none)")
        return
    if isinstance(payload, dict) and columns is None:
        table = Table(title=title, show_header=False, box=None)
        for key, value in payload.items():
            table.add_row(key, _cell(value))
        app.out.print(table)
        return
    cols = list(columns or rows[0].keys())
    table = Table(title=title)
    for col in cols:
        table.add_column(col)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in cols))
    app.out.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)


@contextmanager
def progress(app: App, total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal once work passes a second; silent otherwise."""
    if app.as_json or not sys.stdout.isatty():
        yield lambda n: None
        return
    started = time.monotonic()
    bar: Progress | None = None
    task = None
    done = 0

    def advance(n: int) -> None:
        nonlocal bar, task, done
        done += n
        if bar is None and time.monotonic() - started > 1.0:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            bar = Progress(
                TextColumn(label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=app.err,
                transient=True,
            )
            bar.start()
            task = bar.add_task(label, total=total or None, completed=done)  # 0: unknown
        elif bar is not None and task is not None:
            bar.update(task, completed=done)

    try:
        yield advance
    finally:
        if bar is not None:
            bar.stop()


def parse_date(value: str | None, what: str = "date") -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"the {what} {shown(value)} is not a date (use YYYY-MM-DD)") from None


class DateType(click.ParamType):  # type: ignore[type-arg]  # generic only in click >= 8.2
    """A YYYY-MM-DD option that fails with one clear line; `future` refuses a day gone by."""

    name = "YYYY-MM-DD"

    def __init__(self, future: bool = False) -> None:
        self.future = future

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            day = value
        else:
            try:
                day = date.fromisoformat(str(value).strip())
            except ValueError:
                self.fail(f"{shown(value)} is not a date (use YYYY-MM-DD)", param, ctx)
        if self.future and day < _today(ctx):
            self.fail(f"{day} is in the past: codes would never be valid", param, ctx)
        return day


def _today(ctx: click.Context | None) -> date:
    """Today in the store's time zone (expiry is end of day there, R4); before the settings
    can be read, the earliest today anywhere (UTC-12), so that no valid day is refused."""
    app = ctx.find_object(App) if ctx is not None else None
    if app is not None:
        return datetime.now(app.settings.zone).date()
    return (datetime.now(UTC) - timedelta(hours=12)).date()


DATE = DateType()
EXPIRY = DateType(future=True)  # an expiry date: today or later


class Choice(click.Choice):  # type: ignore[type-arg]  # generic only in click >= 8.2
    """A choice listed in --help and, when refused, in the one-line error, as it is spelled
    there (case-insensitive when asked: `--combination globalexclusive` is GLOBALEXCLUSIVE)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        for choice in self.choices:
            if text == choice or (not self.case_sensitive and text.casefold() == choice.casefold()):
                return choice
        allowed = ", ".join(str(c) for c in self.choices)
        self.fail(f"{shown(text)} is not one of {allowed}", param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """The choices as they are spelled (click lower-cases them when case-insensitive)."""
        listed = "|".join(str(c) for c in self.choices)
        required = param.required and param.param_type_name == "argument"
        return f"{{{listed}}}" if required else f"[{listed}]"


class LineType(click.ParamType):  # type: ignore[type-arg]  # generic only in click >= 8.2
    """Text that goes to NetSuite or into a one-line table: refuses control characters and,
    unless `empty` is allowed, an empty value."""

    def __init__(self, name: str = "TEXT", what: str = "the value", empty: bool = True) -> None:
        self.name = name
        self.what = what
        self.empty = empty

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if not self.empty and not text.strip():
            self.fail(f"{self.what} cannot be empty", param, ctx)
        bad = control_character(text)
        if bad is not None:
            self.fail(f"{shown(text)} holds {bad}; it must be one line of text", param, ctx)
        return text


TEXT = LineType()
PATTERN = LineType("PATTERN", "the pattern", empty=False)


class AliasedOption(click.Option):
    """An option whose old spellings (`old`) still work but are left out of --help."""

    def __init__(self, *args: Any, old: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.old = tuple(old)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        every = self.opts
        self.opts = [o for o in every if o not in self.old]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = every

