"""R11/R12 through the command line: `promosync codes import` and `promosync codes export`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import run_cli

Write = Callable[[str, "str | bytes"], Path]


def _setup(env: dict[str, str]) -> None:
    result = run_cli(["promo", "create", "Spring", "--kind", "order", "--rate", "10"], env=env)
    assert result.exit_code == 0, result.stderr


def test_R12_cli_import_prints_a_summary(cli_env: dict[str, str], write: Write) -> None:
    _setup(cli_env)
    path = write("codes.txt", "a-1\nA-2\n")
    result = run_cli(["codes", "import", "Spring", str(path), "--expires", "2030-01-31",
                      "--json"], env=cli_env)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["imported"], summary["lines"], summary["warnings"]) == (2, 2, [])


def test_R12_cli_import_bad_file_is_one_line_and_exit_1(
    cli_env: dict[str, str], write: Write
) -> None:
    _setup(cli_env)
    path = write("codes.txt", "A-1\nA-1\n")
    result = run_cli(["codes", "import", "Spring", str(path)], env=cli_env)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {path}: line 2: A-1 is also on line 1; nothing was stored"]


def test_R12_cli_import_template_warning(cli_env: dict[str, str], write: Write) -> None:
    _setup(cli_env)
    assert run_cli(["group", "create", "Mail", "--template", "M-[N.3]"], env=cli_env).exit_code == 0
    path = write("codes.txt", "M-234\nX-1\n")
    result = run_cli(["codes", "import", "Spring", str(path), "--group", "Mail"], env=cli_env)
    assert result.exit_code == 0, result.stderr
    assert "warning:" in result.stderr and "1 of 2 codes do not fit" in result.stderr


def test_R11_cli_export_netsuite_files(
    cli_env: dict[str, str], write: Write, tmp_path: Path
) -> None:
    _setup(cli_env)
    run_cli(["codes", "import", "Spring", str(write("codes.txt", "A-1\nA-2\nA-3\nA-4\n"))],
            env=cli_env)
    out = tmp_path / "ns.csv"
    result = run_cli(["codes", "export", "Spring", "--format", "netsuite-csv", "--output", str(out),
                      "--chunk-size", "3", "--json"], env=cli_env)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == 4
    assert summary["files"] == [str(tmp_path / "ns-1.csv"), str(tmp_path / "ns-2.csv")]
    assert (tmp_path / "ns-2.csv").read_bytes() == b"Promotion,Coupon Code\r\nSpring #2,A-4\r\n"


def test_R11_cli_export_to_stdout_keeps_stdout_clean(cli_env: dict[str, str], write: Write) -> None:
    _setup(cli_env)
    run_cli(["codes", "import", "Spring", str(write("codes.txt", "A-1\nA-2\n"))], env=cli_env)
    result = run_cli(["codes", "export", "Spring"], env=cli_env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "A-1\nA-2\n"
    assert "exported 2 codes" in result.stderr


def test_R11_cli_export_rejects_a_big_chunk_size(cli_env: dict[str, str]) -> None:
    _setup(cli_env)
    result = run_cli(["codes", "export", "Spring", "--format", "netsuite-csv",
                      "--chunk-size", "500001"], env=cli_env)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
