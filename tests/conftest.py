"""Shared fixtures: a real store (a SQLite file, and PostgreSQL when a server is given), and
`run_cli`, which runs the real `promosync` entry point in-process and captures what it prints.

PostgreSQL tests run when PROMOSYNC_TEST_POSTGRES_URL names a database that may be wiped
(`.ci/run` starts a server and sets it); without it they are skipped, and say why.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from connector.store import Store, open_store

PG_ENV = "PROMOSYNC_TEST_POSTGRES_URL"


def _reset_postgres(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def empty_postgres_url() -> str:
    """The test server's database, emptied; the test is skipped when there is no server."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL: set {PG_ENV} to run (see .ci/run)")
    _reset_postgres(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'promosync.db'}"
    return empty_postgres_url()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = open_store(store_url)
    yield st
    st.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'promosync.db'}"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(args: list[str], env: dict[str, str] | None = None) -> CliResult:
    """Run `promosync ARGS` through the real entry point; environment changes are undone."""
    from connector.cli import main

    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                result = main(list(args))
                code = result if isinstance(result, int) else 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli_env(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for CLI tests: the store under test (made, as `promosync init` would: no
    other command creates one), run from an empty working folder."""
    monkeypatch.chdir(tmp_path)
    open_store(store_url).close()
    return {"PROMOSYNC_DATABASE_URL": store_url}
