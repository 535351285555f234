"""Every command's `--help` (click's command tree, walked): no rule ids, a help line for every
option, and the values of every enum option listed (the README's command contract: "Every command:
--help")."""

from __future__ import annotations

import re
from functools import cache

import click
import pytest

from connector.cli import cli
from tests.conftest import run_cli

RULE_ID = re.compile(r"\bR\d+\b")


def _walk(group: click.Group, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    found = [path]
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            found += _walk(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None, path
        command = found
    return command


@cache
def help_text(path: tuple[str, ...]) -> str:
    result = run_cli([*path, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.stdout, (path, result.stderr)
    return result.stdout


PATHS = _walk(cli, ())
# (check, command) cases known to fail, with the reason (strict xfail: none today).
NOT_OURS: dict[tuple[str, tuple[str, ...]], str] = {}


def _problems(check: str, path: tuple[str, ...]) -> list[str]:
    text = help_text(path)
    command = command_at(path)
    options = [p for p in command.params if isinstance(p, click.Option) and not p.hidden]
    if check == "rule_ids":
        return RULE_ID.findall("\n".join([text, *_untruncated(command)]))
    if check == "option_help":
        return [o.opts[0] for o in options if not (o.help or "").strip()]
    choices = [(o, c) for o in options if isinstance(o.type, click.Choice) for c in o.type.choices]
    return [f"{o.opts[0]} {c}" for o, c in choices if str(c) not in text]


def _untruncated(command: click.Command) -> list[str]:
    """Help texts as written, which the rendered help may cut (a group's command list)."""
    texts = [command.help or "", command.short_help or ""]
    texts += [getattr(p, "help", None) or "" for p in command.params]
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            texts.append(sub.get_short_help_str(limit=10_000) if sub is not None else "")
    return texts


def _cases(check: str) -> list[object]:
    return [
        pytest.param(path, id=" ".join(path) or "promosync", marks=[
            pytest.mark.xfail(strict=True, reason=NOT_OURS[check, path])
        ] if (check, path) in NOT_OURS else [])
        for path in PATHS
    ]


@pytest.mark.parametrize("path", _cases("rule_ids"))
def test_cli_help_shows_no_rule_ids(path: tuple[str, ...]) -> None:
    assert _problems("rule_ids", path) == [], help_text(path)


@pytest.mark.parametrize("path", _cases("option_help"))
def test_cli_help_every_option_says_what_it_does(path: tuple[str, ...]) -> None:
    assert _problems("option_help", path) == [], help_text(path)


@pytest.mark.parametrize("path", _cases("choices"))
def test_cli_help_enum_options_list_their_values(path: tuple[str, ...]) -> None:
    assert _problems("choices", path) == [], help_text(path)


def test_cli_help_walk_finds_every_area() -> None:
    areas = {p[0] for p in PATHS if p}
    assert {"promo", "codes", "customers", "lists", "redeem", "settings", "group", "sync",
            "emulator", "demo", "init"} <= areas
    assert ("promo", "update") in PATHS and ("codes", "export") in PATHS


def test_cli_help_every_output_option_has_the_short_o() -> None:
    outputs = {path: o.opts for path in PATHS for o in command_at(path).params
               if isinstance(o, click.Option) and "--output" in o.opts}
    assert ("codes", "export") in outputs and ("lists", "export") in outputs
    assert {path: opts for path, opts in outputs.items() if "-o" not in opts} == {}
