"""Hostile CLI arguments (hypothesis): random promotion names, counts, patterns, dates, codes.

Whatever a user types: exit code 0, 1 or 2; on failure one clear "error:" line (or click's usage
error), never a traceback nor an "internal error"; and a refused command writes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.store import open_store
from tests.conftest import CliResult, run_cli
from tests.hardening.conftest import snapshot

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SQLISH = ["' OR 1=1 --", "\"; DROP TABLE codes;", "' UNION SELECT code FROM codes --",
          "Spring'; DELETE FROM promotions; --", "\\", "%s", "{after}", "$1"]
TEXT = st.one_of(
    st.sampled_from(SQLISH),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
)
COUNTS = st.one_of(st.sampled_from(["0", "-1", "1e3", "1,000,001", "0x10", "١٢", " 5 ", "NaN",
                                    "99999999999999999999999", "3"]), TEXT)
DATES = st.one_of(st.sampled_from(["2026-02-30", "2026-13-01", "0000-01-01", "9999-12-31",
                                   "2026-01-01T00:00", "2026-01-01"]), TEXT)


def check(result: CliResult) -> None:
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert "internal error" not in result.stderr
    if result.exit_code == 1:
        lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
        assert lines and lines[-1].startswith("error: "), result.stderr
    elif result.exit_code == 2:
        assert "error" in result.stderr.lower(), result.stderr


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'promosync.db'}"
    assert run_cli(["init"], {"PROMOSYNC_DATABASE_URL": url}).exit_code == 0
    setup = run_cli(["promo", "create", "Spring", "--kind", "order", "--rate", "10"],
                    {"PROMOSYNC_DATABASE_URL": url})
    assert setup.exit_code == 0, setup.stderr
    return {"PROMOSYNC_DATABASE_URL": url}


@FUZZ
@given(name=TEXT, rate=TEXT, start=DATES, pattern=TEXT)
def test_R1_promo_create_with_any_arguments_fails_cleanly(
    env: dict[str, str], name: str, rate: str, start: str, pattern: str
) -> None:
    check(run_cli(["promo", "create", name, "--kind", "order", "--rate", rate,
                   "--start", start, "--pattern", pattern], env))


@FUZZ
@given(promo=st.one_of(st.just("Spring"), TEXT), count=COUNTS, pattern=st.one_of(
    st.none(), TEXT, st.sampled_from(["X-[AN.12]", "[N.2]", "[AN.65]", "[A.0]"])),
    expires=st.one_of(st.none(), DATES))
def test_R9_codes_generate_with_any_arguments_fails_cleanly(
    env: dict[str, str], promo: str, count: str, pattern: str | None, expires: str | None
) -> None:
    args = ["codes", "generate", promo, "--count", count]
    args += ["--pattern", pattern] if pattern is not None else []
    args += ["--expires", expires] if expires is not None else []
    store = open_store(env["PROMOSYNC_DATABASE_URL"])
    before = snapshot(store)
    result = run_cli(args, env)
    check(result)
    if result.exit_code != 0:
        assert snapshot(store) == before, "a refused command wrote rows"
    store.close()


@FUZZ
@given(code=TEXT, what=st.sampled_from([["codes", "show"], ["promo", "show"],
                                        ["promo", "delete"], ["group", "show"]]))
def test_R3_lookups_of_any_text_fail_cleanly_and_write_nothing(
    env: dict[str, str], code: str, what: list[str]
) -> None:
    store = open_store(env["PROMOSYNC_DATABASE_URL"])
    before = snapshot(store)
    result = run_cli([*what, code], env)
    check(result)
    if code != "Spring":
        assert snapshot(store) == before
    store.close()


@pytest.mark.parametrize("text", SQLISH)
def test_R3_sql_text_as_a_code_or_name_on_both_stores(cli_env: dict[str, str], text: str) -> None:
    """On SQLite and PostgreSQL: SQL text is looked up literally and the store stays whole."""
    assert run_cli(["promo", "create", "Spring", "--kind", "order", "--rate", "10"],
                   cli_env).exit_code == 0
    assert run_cli(["codes", "generate", "Spring", "--count", "5", "--su"], cli_env).exit_code == 0
    store = open_store(cli_env["PROMOSYNC_DATABASE_URL"])
    before = snapshot(store)
    for args in (["codes", "show", text], ["promo", "show", text],
                 ["codes", "generate", text, "--count", "3"], ["promo", "delete", text]):
        result = run_cli(args, cli_env)
        check(result)
        assert result.exit_code == 1
    assert snapshot(store) == before
    assert run_cli(["promo", "show", "Spring"], cli_env).exit_code == 0
    store.close()
