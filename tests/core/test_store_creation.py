"""R38: only `promosync init` (and `demo`, on a store of its own) makes a store; every other
command refuses a store that is not there in one line naming it, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import empty_postgres_url, run_cli


@pytest.mark.parametrize("args", [["promo", "list"], ["codes", "show", "X1"],
                                  ["redeem", "settings"], ["settings", "show"]])
def test_R38_a_missing_sqlite_store_is_refused_not_created(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli(["--database-url", "sqlite:///typo.db", *args])
    assert result.exit_code == 2
    assert result.stderr == (f"error: there is no store at {tmp_path / 'typo.db'}; create it "
                             "with `promosync init` (or check PROMOSYNC_DATABASE_URL / "
                             "--database-url)\n")
    assert list(tmp_path.iterdir()) == []  # no typo.db, no -wal, no -shm


def test_R38_init_makes_the_store_then_commands_use_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    made = run_cli(["--database-url", "sqlite:///p.db", "init"])
    assert made.exit_code == 0, made.stderr
    assert (tmp_path / "p.db").is_file()
    listed = run_cli(["--database-url", "sqlite:///p.db", "promo", "list"])
    assert listed.exit_code == 0, listed.stderr


def test_R38_a_postgresql_database_without_the_schema_is_refused_except_by_init() -> None:
    url = empty_postgres_url()
    refused = run_cli(["--database-url", url, "promo", "list"])
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1
    assert "has no promosync store; run `promosync init`" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert run_cli(["--database-url", url, "init"]).exit_code == 0
    assert run_cli(["--database-url", url, "promo", "list"]).exit_code == 0


def test_R38_an_unreachable_postgresql_store_is_exit_2_in_the_words_of_the_failure() -> None:
    result = run_cli(["--database-url", "postgresql://nobody@127.0.0.1:1/none", "promo", "list"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "Connection refused" in result.stderr and "Traceback" not in result.stderr
