"""`promosync lists ...`: create, assign, show, user, export, list."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.conftest import run_cli


def test_R20_cli_unique_list_life(cli_env: dict[str, str], tmp_path: Path) -> None:
    codes = tmp_path / "codes.txt"
    codes.write_text("U1\nU2\n\nU3\n")
    created = run_cli(
        [
            "lists",
            "create",
            "Spring",
            "--codes",
            str(codes),
            "--warning-limit",
            "1",
            "--expires",
            "2099-12-31",
        ],
        env=cli_env,
    )
    assert created.exit_code == 0, created.stderr
    first = run_cli(["lists", "assign", "Spring", "--user", "ann", "--campaign", "c1"], env=cli_env)
    assert first.stdout.strip() == "U1"
    assert run_cli(
        ["lists", "assign", "Spring", "--user", "ann", "--campaign", "c1"], env=cli_env
    ).stdout.startswith("U1")
    warned = run_cli(
        ["lists", "assign", "Spring", "--user", "bob", "--campaign", "c1"], env=cli_env
    )
    assert warned.stderr == "warning: coupon list Spring: 1 code left (warning limit 1)\n"
    shown = json.loads(run_cli(["--json", "lists", "show", "Spring"], env=cli_env).stdout)
    assert (shown["remaining"], shown["warned_remaining"]) == (1, 1)
    run_cli(["lists", "assign", "Spring", "--user", "cy", "--campaign", "c1"], env=cli_env)
    empty = run_cli(["lists", "assign", "Spring", "--user", "dee", "--campaign", "c1"], env=cli_env)
    assert empty.exit_code == 1 and "no codes left" in empty.stderr
    finished = json.loads(run_cli(["--json", "lists", "show", "Spring"], env=cli_env).stdout)[
        "finished"
    ]
    assert [f["campaign"] for f in finished] == ["c1"]
    user = json.loads(run_cli(["--json", "lists", "user", "ann"], env=cli_env).stdout)
    assert [u["code"] for u in user] == ["U1"]
    out = tmp_path / "usage.csv"
    assert run_cli(["lists", "export", "Spring", "--output", str(out)], env=cli_env).exit_code == 0
    rows = list(csv.reader(out.open()))
    assert rows[0] == [
        "Coupon Code",
        "External ID",
        "User ID",
        "Coupon Given Date",
        "Coupon Expiry Date",
    ]
    assert [r[0] for r in rows[1:]] == ["U1", "U2", "U3"]
    listed = json.loads(run_cli(["--json", "lists", "list"], env=cli_env).stdout)
    assert [(x["name"], x["remaining"]) for x in listed] == [("Spring", 0)]


def test_R20_cli_bad_input(cli_env: dict[str, str], tmp_path: Path) -> None:
    neither = run_cli(["lists", "create", "X"], env=cli_env)
    assert neither.exit_code == 1 and "either" in neither.stderr
    missing = run_cli(["lists", "assign", "Nope", "--user", "u", "--campaign", "c"], env=cli_env)
    assert missing.exit_code == 1 and "no coupon list" in missing.stderr
    bad = tmp_path / "bad.txt"
    bad.write_text("OK1\nOK1\n")
    dup = run_cli(["lists", "create", "Y", "--codes", str(bad)], env=cli_env)
    assert dup.exit_code == 1 and "line 2" in dup.stderr
    assert (
        run_cli(
            ["lists", "export", "Nope", "--output", str(tmp_path / "o.csv")], env=cli_env
        ).exit_code
        == 1
    )
    assert not (tmp_path / "o.csv").exists()


def test_R22_the_low_stock_warning_is_printed_once(sqlite_url: str, tmp_path: Path) -> None:
    """In a real process (where the log goes to stderr too) the warning is one line."""
    import os
    import subprocess
    import sys

    def promosync(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PROMOSYNC_DATABASE_URL": sqlite_url}
        return subprocess.run([sys.executable, "-m", "connector", *args], capture_output=True,
                              text=True, env=env, cwd=tmp_path, check=False)

    codes = tmp_path / "codes.txt"
    codes.write_text("U1\nU2\nU3\n")
    assert promosync("init").returncode == 0
    assert promosync("lists", "create", "Gifts", "--codes", str(codes),
                     "--warning-limit", "2").returncode == 0
    given = promosync("lists", "assign", "Gifts", "--user", "ann", "--campaign", "c1")
    assert (given.returncode, given.stdout) == (0, "U1\n")
    assert given.stderr == "warning: coupon list Gifts: 2 codes left (warning limit 2)\n"
    again = promosync("lists", "assign", "Gifts", "--user", "bob", "--campaign", "c1")
    assert (again.stdout, again.stderr) == ("U2\n", "")  # raised once per list (R22)
