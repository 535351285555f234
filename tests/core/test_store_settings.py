"""Store settings (R6, R17, R19): `settings set` and `redeem settings` check a value the same
way, so no command can store a value that breaks every later scan."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli


def _settings(env: dict[str, str]) -> dict[str, str]:
    result = run_cli(["settings", "show", "--json"], env)
    assert result.exit_code == 0, result.stderr
    data: dict[str, str] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize(
    "command",
    [["settings", "set", "single_use_format", "[unclosed"],
     ["redeem", "settings", "--format", "[unclosed"]],
    ids=["settings-set", "redeem-settings"],
)
def test_R6_a_bad_format_is_refused_by_both_commands_with_one_line(
    cli_env: dict[str, str], command: list[str]
) -> None:
    result = run_cli(command, cli_env)
    assert result.exit_code == 2
    assert result.stderr == ("error: the store setting single_use_format is not a regular "
                             "expression: unterminated character set at position 0\n")
    assert _settings(cli_env)["single_use_format"] == "any"


def test_R6_a_format_stored_by_settings_set_is_what_scans_use(cli_env: dict[str, str]) -> None:
    assert run_cli(["settings", "set", "single_use_format", "su"], cli_env).exit_code == 0
    run_cli(["promo", "create", "P", "--kind", "order", "--rate", "10"], cli_env)
    run_cli(["codes", "generate", "P", "--count", "1", "--length", "8"], cli_env)
    sale = run_cli(["redeem", "open", "--line", "SHIRT:40.00"], cli_env).stdout.strip()
    scan = run_cli(["redeem", "scan", sale, "NOT-AN-SU-CODE"], cli_env)
    assert scan.stderr == "error: Invalid single-use coupon format\n"


@pytest.mark.parametrize(
    "command",
    [["settings", "set", "auto_apply"], ["settings", "set", "single_use_codes"]],
)
def test_R19_on_off_settings_refuse_other_words_and_take_any_case(
    cli_env: dict[str, str], command: list[str]
) -> None:
    key = command[-1]
    bad = run_cli([*command, "maybe"], cli_env)
    assert (bad.exit_code, bad.stderr) == (2, f"error: {key} takes on or off, not 'maybe'\n")
    good = run_cli([*command, "ON"], cli_env)
    assert (good.exit_code, good.stdout) == (0, f"{key} = on\n")
    assert _settings(cli_env)[key] == "on"
