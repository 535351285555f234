"""What `pip install promosync` declares and registers: every package the code imports is a
declared dependency (and every declared one is used), and the emulator's pytest plugin works in
another project's tests with no `pytest_plugins` line (R33)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points, packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement ("PyJWT[crypto]>=2.8" -> "pyjwt")."""
    found = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert found is not None, requirement
    return re.sub(r"[-_.]+", "-", found.group()).lower()


def _imported_distributions() -> dict[str, set[str]]:
    """Distribution name -> files of connector/ that import it (absolute imports only)."""
    owners = packages_distributions()
    found: dict[str, set[str]] = {}
    for path in (REPO / "connector").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.partition(".")[0]
                if top in sys.stdlib_module_names or top == "connector":
                    continue
                for dist in owners.get(top, [top]):
                    found.setdefault(_name(dist), set()).add(str(path.relative_to(REPO)))
    return found


def test_every_imported_package_is_declared_and_every_dependency_is_used() -> None:
    required = {_name(r) for r in PROJECT["dependencies"]}
    optional = {_name(r) for extra in PROJECT["optional-dependencies"].values() for r in extra}
    imported = _imported_distributions()
    undeclared = {d: sorted(files) for d, files in imported.items()
                  if d not in required | optional}
    assert undeclared == {}
    assert required - set(imported) == set(), "declared but never imported"
    # the signer of token-based authentication is requests-oauthlib (R30)
    assert "connector/netsuite/auth.py" in imported["requests-oauthlib"]


def test_R33_the_pytest_plugin_is_registered_by_the_install() -> None:
    plugins = {e.name: e.value for e in entry_points(group="pytest11")}
    assert plugins.get("promosync") == "connector.emulator.pytest_plugin", (
        "run `pip install -e .` again: the pytest11 entry point is registered at install time")


def test_R33_netsuite_emulator_fixture_in_another_projects_tests(tmp_path: Path) -> None:
    """A project with no conftest.py and no pytest_plugins line gets the fixture."""
    (tmp_path / "test_mine.py").write_text(
        "import requests\n"
        "from requests_oauthlib import OAuth1\n\n"
        "def test_governance(netsuite_emulator):\n"
        "    c = netsuite_emulator.credentials\n"
        "    auth = OAuth1(c.consumer_key, c.consumer_secret, c.token_id, c.token_secret,\n"
        "                  signature_method='HMAC-SHA256', realm=c.account_id)\n"
        "    url = netsuite_emulator.base_url + '/services/rest/system/v1/governanceLimits'\n"
        "    assert requests.get(url, auth=auth, timeout=10).status_code == 200\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_mine.py"],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_a_sqlite_store_works_without_the_postgresql_driver(tmp_path: Path) -> None:
    """psycopg comes with the `postgres` extra only: a plain install must init, generate and
    redeem on SQLite without it (it is imported only for a PostgreSQL store)."""
    script = (
        "import sys; sys.modules['psycopg'] = None\n"  # as if it were not installed
        "from connector.cli import main\n"
        "for args in (['init'], ['promo', 'create', 'P', '--kind', 'order', '--rate', '10'],\n"
        "             ['codes', 'generate', 'P', '--count', '5']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, (args, exc.code)\n"
        "from connector import Register, open_store\n"
        "store = open_store('sqlite:///promosync.db', create=False)\n"
        "register = Register(store)\n"
        "loaded = [m for m in sys.modules if sys.modules[m] and m.startswith('psycopg')]\n"
        "assert not register.server_side and loaded == [], loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
