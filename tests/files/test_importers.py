"""Every importer (R10, R12, R20): unclosed quotes and wrong column counts refused with their
line, semicolon- and tab-separated files read, a file that is not UTF-8 reported in the same
words by each, control characters refused, long cells quoted short. Nothing is stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from connector.files import read_customer_codes
from tests.conftest import CliResult, run_cli

Write = Callable[[str, "str | bytes"], Path]


def ok(args: list[str], env: dict[str, str]) -> str:
    result = run_cli(args, env)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def one_error(result: CliResult) -> str:
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    return result.stderr


def customers(env: dict[str, str]) -> list[tuple[str, str | None, str | None]]:
    rows = json.loads(ok(["customers", "list", "--json"], env))
    return [(r["code"], r["email"], r["name"]) for r in rows]


def test_R12_csv_unclosed_quote_refused_with_line(cli_env: dict[str, str], write: Write) -> None:
    path = write("customers.csv", 'C001,a@example.com,"Ann\nC002,b@example.com,Bo\n')
    error = one_error(run_cli(["customers", "import", str(path)], cli_env))
    assert error == (f"error: {path}: line 1: a quoted cell runs on to line 2 (a closing quote "
                     "missing?); every value is on one line; nothing was stored\n")
    assert customers(cli_env) == []


def test_R12_csv_unclosed_quote_on_the_last_line(cli_env: dict[str, str], write: Write) -> None:
    path = write("customers.csv", 'C001,a@example.com,Ann\nC002,b@example.com,"Bo\n')
    error = one_error(run_cli(["customers", "import", str(path)], cli_env))
    assert f"{path}: line 2: a quoted cell is not closed on this line" in error
    assert customers(cli_env) == []


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("C001,a@example.com,Ann\nC002,b@example.com,Smith, Bo\n",
         "line 2: 4 columns; expected at most three: customer code, e-mail, name"),
        ("code,email\nC001,a@example.com\nC002,b@example.com,Bo\n",
         "line 3: 3 columns; expected at most 2, as the header names"),
    ],
    ids=["no-header", "header"],
)
def test_R12_customers_wrong_column_count_refused_with_line(
    cli_env: dict[str, str], write: Write, content: str, problem: str
) -> None:
    path = write("customers.csv", content)
    assert problem in one_error(run_cli(["customers", "import", str(path)], cli_env))
    assert customers(cli_env) == []


@pytest.mark.parametrize("separator", [";", "\t"], ids=["semicolon", "tab"])
def test_R12_semicolon_or_tab_separated_customers_are_read(
    cli_env: dict[str, str], write: Write, separator: str
) -> None:
    lines = ["CustomerCode", "E-mail", "Name"], ["C001", "a@example.com", "Ann, Jr."]
    path = write("customers.csv", "".join(separator.join(cells) + "\r\n" for cells in lines))
    ok(["customers", "import", str(path)], cli_env)
    assert customers(cli_env) == [("C001", "a@example.com", "Ann, Jr.")]


def test_R12_semicolon_separated_netsuite_layout_codes_import(
    cli_env: dict[str, str], write: Write
) -> None:
    ok(["promo", "create", "Spring", "--kind", "order", "--rate", "10"], cli_env)
    path = write("codes.csv", "Promotion;Coupon Code\nSpring;A-1\nSpring;A-2\n")
    summary = json.loads(ok(["codes", "import", "Spring", str(path), "--json"], cli_env))
    assert summary["imported"] == 2
    exported = run_cli(["codes", "export", "Spring"], cli_env)
    assert exported.stdout == "A-1\nA-2\n"


def test_R10_semicolon_separated_customer_codes_file(write: Write) -> None:
    path = write("vip.csv", "C001;Ann\nC002;Bo\n")
    assert read_customer_codes(path) == ["C001", "C002"]


NOT_UTF8 = b"C001,a@example.com,Ann\nC002,b@example.com,Bj\xf6rn\n"


@pytest.mark.parametrize(
    "command",
    [
        ["customers", "import", "{file}"],
        ["codes", "import", "Spring", "{file}"],
        ["lists", "create", "Gifts", "--codes", "{file}"],
        ["codes", "generate", "Spring", "--customers", "{file}"],
    ],
    ids=["customers", "codes", "lists", "customer-bound"],
)
def test_R12_every_importer_reports_a_file_that_is_not_utf8_the_same_way(
    cli_env: dict[str, str], write: Write, command: list[str]
) -> None:
    ok(["promo", "create", "Spring", "--kind", "order", "--rate", "10"], cli_env)
    path = write("latin1.csv", NOT_UTF8)
    args = [str(path) if part == "{file}" else part for part in command]
    error = one_error(run_cli(args, cli_env))
    assert error == f"error: {path}: line 2: not UTF-8 text; save the file as UTF-8\n"


def test_R20_lists_create_of_a_binary_file(cli_env: dict[str, str], write: Write) -> None:
    path = write("codes.bin", bytes(range(256)) * 8)
    error = one_error(run_cli(["lists", "create", "Gifts", "--codes", str(path)], cli_env))
    assert error == f"error: {path}: line 2: not UTF-8 text; save the file as UTF-8\n"
    assert json.loads(ok(["lists", "list", "--json"], cli_env)) == []


def test_R12_control_characters_in_a_customer_name_are_refused(
    cli_env: dict[str, str], write: Write
) -> None:
    path = write("customers.csv", 'C001,a@example.com,"Ann\tLee"\nC002,b@example.com,Bo\x07\n')
    error = one_error(run_cli(["customers", "import", str(path)], cli_env))
    assert "line 1: 'Ann\\tLee' holds a tab" in error
    assert "line 2: 'Bo\\x07' holds the control character U+0007" in error
    assert customers(cli_env) == []


def test_R12_a_100000_character_code_is_quoted_short(
    cli_env: dict[str, str], write: Write
) -> None:
    ok(["promo", "create", "Spring", "--kind", "order", "--rate", "10"], cli_env)
    path = write("codes.txt", "A-1\n" + "B" * 100_000 + "\n")
    error = one_error(run_cli(["codes", "import", "Spring", str(path)], cli_env))
    assert f"line 2: the code '{'B' * 40}…' (100,000 characters) is longer than 64" in error
    assert len(error) < 300
