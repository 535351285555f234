"""R10 (customers the codes are bound to): `import_customers` and `promosync customers`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from connector import catalog
from connector.errors import FileInputError, InputError
from connector.files import import_customers
from connector.store import Store
from tests.conftest import run_cli

Write = Callable[[str, "str | bytes"], Path]


def _customers(store: Store) -> dict[str, tuple[str | None, str | None]]:
    return {c.code: (c.email, c.name) for c in catalog.list_customers(store)}


def test_R10_customers_import_with_header(store: Store, write: Write) -> None:
    path = write("customers.csv", "\ufeffCustomerCode,Email,Name\r\nc001,ann@example.com,Ann\r\n"
                                  "C002,bob@example.com,\"Bob, Jr.\"\r\n\r\n")
    summary = import_customers(store, path)
    assert (summary.added, summary.updated, summary.lines) == (2, 0, 2)
    assert _customers(store) == {"C001": ("ann@example.com", "Ann"),
                                 "C002": ("bob@example.com", "Bob, Jr.")}


def test_R10_customers_import_without_header(store: Store, write: Write) -> None:
    path = write("customers.csv", "C001,ann@example.com,Ann\nC002,,\nC003\n")
    summary = import_customers(store, path)
    assert summary.added == 3
    assert _customers(store)["C002"] == (None, None)


def test_R10_customers_header_in_another_order(store: Store, write: Write) -> None:
    path = write("customers.csv", "name,e-mail,customer code\nAnn,ann@example.com,C001\n")
    import_customers(store, path)
    assert _customers(store) == {"C001": ("ann@example.com", "Ann")}


def test_R10_customers_reimport_updates_and_keeps_empty_cells(store: Store, write: Write) -> None:
    import_customers(store, write("a.csv", "C001,ann@example.com,Ann\nC002,bob@example.com,Bob\n"))
    second = write("b.csv", "C001,ann@new.example.com,\nC003,c@example.com,C\n")
    summary = import_customers(store, second)
    assert (summary.added, summary.updated) == (1, 1)
    assert _customers(store)["C001"] == ("ann@new.example.com", "Ann")


@pytest.mark.parametrize(
    ("content", "bad_lines"),
    [
        ("C001,a@example.com,A\n,b@example.com,B\n", [2]),
        ("C001,a@example.com,A\nTOOLONG99,b@example.com,B\n", [2]),
        ("C001,not-an-email,A\nC002,b@example,B\nC003,c@@example.com,C\n", [1, 2, 3]),
        ("C001,a@example.com,A\nC002,b@example.com,B\nc001,c@example.com,C\n", [3]),
    ],
    ids=["empty-code", "long-code", "bad-email", "duplicate"],
)
def test_R10_customers_import_is_all_or_nothing(
    store: Store, write: Write, content: str, bad_lines: list[int]
) -> None:
    path = write("customers.csv", "CustomerCode,Email,Name\n" + content)
    with pytest.raises(FileInputError) as err:
        import_customers(store, path)
    assert [line - 1 for line, _ in err.value.problems] == bad_lines  # the header is line 1
    assert "nothing was stored" in str(err.value)
    assert catalog.list_customers(store) == []


def test_R10_customers_file_without_rows(store: Store, write: Write) -> None:
    with pytest.raises(InputError, match="no customers"):
        import_customers(store, write("customers.csv", "CustomerCode,Email,Name\n\n"))


def test_R10_customers_cli_import_and_list(cli_env: dict[str, str], write: Write) -> None:
    path = write("customers.csv", "CustomerCode,Email,Name\nC001,ann@example.com,Ann\nC002,,Bob\n")
    result = run_cli(["customers", "import", str(path)], env=cli_env)
    assert result.exit_code == 0, result.stderr
    assert "added" in result.stdout and "2" in result.stdout
    listed = run_cli(["customers", "list", "--json"], env=cli_env)
    assert listed.exit_code == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["code"], r["email"], r["name"]) for r in rows] == [
        ("C001", "ann@example.com", "Ann"), ("C002", None, "Bob")]


def test_R10_customers_cli_bad_file_is_one_line(cli_env: dict[str, str], write: Write) -> None:
    path = write("customers.csv", "C001,bad,Ann\n")
    result = run_cli(["customers", "import", str(path)], env=cli_env)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "line 1" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
