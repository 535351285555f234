"""The admin command line (the README's command contract): exit codes, --json, one line on bad
input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli


def ok(args: list[str], env: dict[str, str]) -> str:
    result = run_cli(args, env)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_init_promo_generate_show_round_trip(cli_env: dict[str, str]) -> None:
    ok(["init"], cli_env)
    ok(
        ["promo", "create", "Spring", "--kind", "order", "--rate", "10", "--pattern", "SPR-[AN.6]"],
        cli_env,
    )
    out = json.loads(ok(["codes", "generate", "Spring", "--count", "25", "--json"], cli_env))
    assert out["generated"] == 25 and out["format"] == "SPR-[AN.6]"
    promos = json.loads(ok(["promo", "list", "--json"], cli_env))
    assert promos[0]["name"] == "Spring" and promos[0]["code_count"] == 25


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("0", "Please enter a valid count greater than 0."),
        ("-5", "Please enter a valid count greater than 0."),
        ("ten", "Please enter a valid count greater than 0."),
        ("1000001", "Count cannot exceed 1,000,000."),
    ],
)
def test_R9_bad_counts_one_line_exit_1_nothing_written(
    cli_env: dict[str, str], count: str, message: str
) -> None:
    ok(["promo", "create", "P", "--kind", "order", "--rate", "10"], cli_env)
    result = run_cli(["codes", "generate", "P", "--count", count], cli_env)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {message}"
    assert "Traceback" not in result.stderr
    assert json.loads(ok(["promo", "show", "P", "--json"], cli_env))["code_count"] == 0


@pytest.mark.parametrize("pattern", ["[X.3]", "AB[N.3", "AB [N.3]", "AB[N.0]"])
def test_R5_bad_patterns_one_line(cli_env: dict[str, str], pattern: str) -> None:
    ok(["promo", "create", "P", "--kind", "order", "--rate", "10"], cli_env)
    result = run_cli(["codes", "generate", "P", "--count", "5", "--pattern", pattern], cli_env)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: the pattern")


def test_R8_capacity_refusal_is_fast_and_writes_nothing(cli_env: dict[str, str]) -> None:
    import time

    ok(["promo", "create", "P", "--kind", "order", "--rate", "10"], cli_env)
    started = time.monotonic()
    result = run_cli(
        ["codes", "generate", "P", "--count", "1000000", "--pattern", "[AN.4]"], cli_env
    )
    assert result.exit_code == 1 and "can make only 923,521" in result.stderr
    assert time.monotonic() - started < 5  # the real figure is in benchmarks/bench_generate.py


def test_R19_settings_turn_single_use_off(cli_env: dict[str, str]) -> None:
    ok(["settings", "set", "single_use_codes", "off"], cli_env)
    assert json.loads(ok(["settings", "show", "--json"], cli_env))["single_use_codes"] == "off"
    ok(["promo", "create", "P", "--kind", "order", "--rate", "10"], cli_env)
    result = run_cli(["codes", "generate", "P", "--count", "5"], cli_env)
    assert result.exit_code == 1 and "turned off" in result.stderr
    bad = run_cli(["settings", "set", "auto_apply", "maybe"], cli_env)
    assert bad.exit_code == 2 and bad.stderr == "error: auto_apply takes on or off, not 'maybe'\n"


def test_not_a_store_is_one_line_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00garbage" * 512)
    result = run_cli(["promo", "list"], {"PROMOSYNC_DATABASE_URL": f"sqlite:///{junk}"})
    assert result.exit_code == 2
    assert "not a promosync store" in result.stderr and "Traceback" not in result.stderr


def test_bad_setting_is_exit_2(tmp_path: Path) -> None:
    result = run_cli(
        ["promo", "list"],
        {
            "PROMOSYNC_TIMEZONE": "Mars/Olympus",
            "PROMOSYNC_DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
        },
    )
    assert result.exit_code == 2 and "unknown time zone" in result.stderr


def test_every_command_has_help() -> None:
    import click

    from connector.cli import cli

    def walk(group: click.Group, path: list[str]) -> list[list[str]]:
        found = [path]
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None, name
            found += (
                walk(command, path + [name])
                if isinstance(command, click.Group)
                else [path + [name]]
            )
        return found

    for path in walk(cli, []):
        result = run_cli([*path, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.stdout, path


def test_R3_codes_show_prints_history_as_json(cli_env: dict[str, str]) -> None:
    ok(["promo", "create", "P", "--kind", "order", "--rate", "10"], cli_env)
    ok(["codes", "generate", "P", "--count", "1", "--su", "--expires", "2099-03-15"], cli_env)
    from connector.store import open_store, schema

    store = open_store(cli_env["PROMOSYNC_DATABASE_URL"])
    with store.read() as conn:
        code = conn.scalar(schema.codes.select().with_only_columns(schema.codes.c.code))
    store.close()
    shown = json.loads(ok(["codes", "show", code.lower(), "--json"], cli_env))
    assert shown["code"] == code and shown["expires_on"] == "2099-03-15"
    assert shown["history"][0]["kind"] == "issued"


def test_a_store_lost_mid_command_is_one_line_and_exit_1(
    cli_env: dict[str, str], monkeypatch
) -> None:
    """Issue 6: a dropped store connection is reported plainly, never as an internal error."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from connector import generate

    ok(["promo", "create", "P", "--kind", "order", "--rate", "10"], cli_env)

    def dropped(*_args: object, **_kwargs: object) -> int:
        raise OperationalError(
            "INSERT", {}, sqlite3.OperationalError("server closed the connection")
        )

    monkeypatch.setattr(generate, "insert_codes", dropped)
    result = run_cli(["codes", "generate", "P", "--count", "10"], cli_env)
    assert result.exit_code == 2  # a store failure, like settings: exit 2 (issue 14)
    assert result.stderr.startswith("error: lost the connection to the store (server closed")
    assert "nothing was stored" in result.stderr and "internal error" not in result.stderr
    monkeypatch.undo()
    assert json.loads(ok(["promo", "show", "P", "--json"], cli_env))["code_count"] == 0


def test_R8_capacity_refusal_does_not_load_the_store_layer() -> None:
    """The refusal comes before the store is opened, so it never waits for the database."""
    import subprocess
    import sys

    probe = (
        "import sys; from connector.cli import main\n"
        "try:\n    main(['codes', 'generate', 'P', '--count', '1000000', '--pattern', '[AN.4]'])\n"
        "except SystemExit as exit:\n    code = exit.code\n"
        "print(code, 'sqlalchemy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["1", "False"]
    assert "923,521" in done.stderr
