"""What the command line says (the README's command contract): one lower-case error line,
input quoted short, plurals and thousands separators, whole tables in a pipe, dates and names
checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CliResult, run_cli


def ok(args: list[str], env: dict[str, str]) -> str:
    result = run_cli(args, env)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def one_line(result: CliResult, exit_code: int) -> str:
    assert result.exit_code == exit_code, (result.exit_code, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr and "Usage:" not in result.stderr
    return result.stderr


def code_count(env: dict[str, str]) -> int:
    return int(json.loads(ok(["promo", "show", "P", "--json"], env))["code_count"])


@pytest.fixture
def promo(cli_env: dict[str, str]) -> dict[str, str]:
    ok(["promo", "create", "P", "--kind", "order", "--rate", "10"], cli_env)
    return cli_env


def test_cli_tables_are_whole_when_stdout_is_a_pipe(sqlite_url: str, tmp_path: Path) -> None:
    name = "Spring discount for returning customers, all stores and the web shop"
    env = {**os.environ, "PROMOSYNC_DATABASE_URL": sqlite_url, "COLUMNS": "80"}

    def promosync(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "connector", *args], capture_output=True,
                              text=True, env=env, cwd=tmp_path, check=True)
        return done.stdout

    promosync("init")
    promosync("promo", "create", name, "--kind", "fixed_price", "--rate", "12.5",
              "--discount-item", "1234", "--start", "2026-03-01", "--end", "2026-03-31")
    listed = promosync("promo", "list")
    for text in (name, "fixed_price", "percent", "single_use", "2026-03-01", "2026-03-31"):
        assert text in listed, listed
    assert "…" not in listed


@pytest.mark.parametrize(
    "command",
    [
        ["codes", "generate", "P", "--count", "5", "--expires", "2020-01-01"],
        ["codes", "import", "P", "{codes}", "--expires", "2020-01-01"],
        ["lists", "create", "L", "--fixed", "WELCOME", "--times", "5", "--expires", "2020-01-01"],
    ],
    ids=["generate", "import", "lists"],
)
def test_R4_an_expiry_date_in_the_past_is_refused(
    promo: dict[str, str], tmp_path: Path, command: list[str]
) -> None:
    codes = tmp_path / "codes.txt"
    codes.write_text("A-1\n")
    args = [str(codes) if part == "{codes}" else part for part in command]
    error = one_line(run_cli(args, promo), 2)
    assert error == ("error: invalid value for '--expires': 2020-01-01 is in the past: codes "
                     "would never be valid\n")
    assert code_count(promo) == 0


def test_R4_an_expiry_date_of_today_is_taken(promo: dict[str, str]) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Pacific/Kiritimati")).date().isoformat()  # ahead of UTC
    env = {**promo, "PROMOSYNC_TIMEZONE": "Pacific/Kiritimati"}
    ok(["codes", "generate", "P", "--count", "2", "--expires", today], env)
    assert code_count(promo) == 2


def test_cli_start_is_the_option_everywhere_and_starts_still_works(
    promo: dict[str, str], tmp_path: Path
) -> None:
    ok(["codes", "generate", "P", "--count", "1", "--start", "2099-01-01"], promo)
    ok(["codes", "generate", "P", "--count", "1", "--starts", "2099-01-02"], promo)
    codes = tmp_path / "codes.txt"
    codes.write_text("A-1\n")
    ok(["codes", "import", "P", str(codes), "--start", "2099-01-03"], promo)
    exported = ok(["codes", "export", "P"], promo).split()
    starts = {json.loads(ok(["codes", "show", code, "--json"], promo))["starts_on"]
              for code in exported}
    assert starts == {"2099-01-01", "2099-01-02", "2099-01-03"}
    for command in (["codes", "generate"], ["codes", "import"]):
        text = ok([*command, "--help"], {})
        assert "--start YYYY-MM-DD" in text and "--starts" not in text


def test_R5_an_empty_pattern_is_refused_not_replaced(promo: dict[str, str]) -> None:
    error = one_line(run_cli(["codes", "generate", "P", "--count", "5", "--pattern", ""], promo), 2)
    assert error == "error: invalid value for '--pattern': the pattern cannot be empty\n"
    assert code_count(promo) == 0


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("A" * 19_990 + "-[X.4]", f"error: the pattern '{'A' * 40}…' (19,996 characters) has an "
         "unknown token [X.4] at position 19,992; use [A.n], [N.n] or [AN.n]\n"),
        ("A" * 19_990 + "-[N.400]", f"error: codes of {'A' * 40}… (19,998 characters) would be "
         "20,391 characters; at most 64\n"),
    ],
    ids=["token", "length"],
)
def test_cli_a_20000_character_pattern_is_quoted_short(
    promo: dict[str, str], pattern: str, message: str
) -> None:
    result = run_cli(["codes", "generate", "P", "--count", "5", "--pattern", pattern], promo)
    assert one_line(result, 1) == message


def test_cli_a_100000_character_name_is_quoted_short(promo: dict[str, str]) -> None:
    error = one_line(run_cli(["promo", "show", "X" * 100_000], promo), 1)
    assert error == f"error: no promotion named '{'X' * 40}…' (100,000 characters)\n"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["promo", "create", "Spring\nSale", "--kind", "order", "--rate", "10"],
         "error: a promotion name 'Spring\\nSale' holds a line break; it must be one line of "
         "text\n"),
        (["group", "create", "VIP\tGold"],
         "error: a group name 'VIP\\tGold' holds a tab; it must be one line of text\n"),
        (["lists", "create", "Gifts\x00", "--fixed", "GIFT", "--times", "3"],
         "error: a list name 'Gifts\\x00' holds a NUL; it must be one line of text\n"),
        (["promo", "create", "P2", "--kind", "order", "--rate", "10", "--pattern", "A\n[N.4]"],
         "error: invalid value for '--pattern': 'A\\n[N.4]' holds a line break; it must be "
         "one line of text\n"),
    ],
    ids=["promotion", "group", "list", "pattern"],
)
def test_cli_control_characters_in_names_and_patterns_are_refused(
    promo: dict[str, str], command: list[str], message: str
) -> None:
    result = run_cli(command, promo)
    assert result.stderr == message and result.exit_code in (1, 2)
    assert [p["name"] for p in json.loads(ok(["promo", "list", "--json"], promo))] == ["P"]


def test_cli_usage_errors_are_one_lower_case_line(cli_env: dict[str, str]) -> None:
    missing = one_line(run_cli(["promo", "create", "P", "--kind", "order"], cli_env), 2)
    assert missing == "error: missing option '--rate'\n"
    bad_kind = one_line(run_cli(["promo", "create", "P", "--kind", "coupon", "--rate", "1"],
                                cli_env), 2)
    assert bad_kind == ("error: invalid value for '--kind': 'coupon' is not one of item, order, "
                        "shipping, fixed_price, free_gift\n")


def test_cli_setting_errors_show_no_pydantic_prefix(tmp_path: Path) -> None:
    env = {"PROMOSYNC_TIMEZONE": "Mars/Olympus",
           "PROMOSYNC_DATABASE_URL": f"sqlite:///{tmp_path}/p.db"}
    error = one_line(run_cli(["promo", "list"], env), 2)
    assert error == "error: setting PROMOSYNC_TIMEZONE: unknown time zone 'Mars/Olympus'\n"


def test_cli_counts_have_plurals_and_separators(promo: dict[str, str], tmp_path: Path) -> None:
    ok(["codes", "generate", "P", "--count", "1"], promo)
    exported = run_cli(["codes", "export", "P"], promo)
    assert exported.stderr == "exported 1 code of P to stdout\n"
    ok(["codes", "generate", "P", "--count", "1200"], promo)
    many = run_cli(["codes", "export", "P"], promo)
    assert many.stderr == "exported 1,201 codes of P to stdout\n"
    ok(["lists", "create", "L", "--fixed", "WELCOME", "--times", "5"], promo)
    ok(["lists", "assign", "L", "--user", "u1", "--campaign", "c"], promo)
    out = tmp_path / "usage.csv"
    assert ok(["lists", "export", "L", "-o", str(out)], promo) == f"wrote 1 row to {out}\n"
    assert out.read_text().count("\n") == 2
