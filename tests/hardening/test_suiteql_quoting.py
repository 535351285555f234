"""Every SuiteQL statement promosync builds quotes its values safely (R29, R31).

* `key_literal`, the one quoting helper (keyset paging), turns any value into a number or a
  single-quoted literal with quotes doubled; backslashes stay literal (SuiteQL has no backslash
  escapes), and decoding the literal gives the value back.
* Every statement sent during `sync plan`, `sync run` and `sync mirror` (promotion names full of
  quotes, backslashes and SQL text) is lexically safe: literals closed, and no comment or
  statement separator outside a literal.
* Values that come back from NetSuite and go into later statements (record ids) must be numbers:
  a hostile id is never pasted into SQL text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector import catalog, generate
from connector.emulator import EmulatorOptions, mock_netsuite
from connector.netsuite import NetSuiteClient
from connector.netsuite._pagination import key_literal
from connector.netsuite.client import SUITEQL_PATH
from connector.store import Store
from connector.sync import remote as sync_remote
from connector.sync.engine import SyncEngine
from connector.sync.mapping import load_mapping
from connector.sync.state import request_netsuite_codes
from tests.sync.conftest import make_client


def outside_literals(query: str) -> str:
    """The text of `query` outside its '...' literals ('' inside one is a quote)."""
    out, i, n = [], 0, len(query)
    while i < n:
        if query[i] != "'":
            out.append(query[i])
            i += 1
            continue
        i += 1
        while True:
            assert i < n, f"unterminated literal in {query!r}"
            if query[i] == "'" and i + 1 < n and query[i + 1] == "'":
                i += 2
            elif query[i] == "'":
                i += 1
                break
            else:
                i += 1
        out.append("?")
    return "".join(out)


def assert_safe(query: str) -> None:
    bare = outside_literals(query)
    for token in ("--", ";", "/*", "*/"):
        assert token not in bare, f"{token!r} outside a literal in {query!r}"


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.integers(min_value=-10**12, max_value=10**12), st.text(max_size=40)))
def test_R31_key_literal_quotes_any_value(value: int | str) -> None:
    literal = key_literal(value)
    if literal.lstrip("-").isdigit():
        assert int(literal) == int(value)
        return
    assert literal.startswith("'") and literal.endswith("'")
    assert outside_literals(literal) == "?"
    assert literal[1:-1].replace("''", "'") == str(value)


@pytest.mark.parametrize("value", ["O'Brien", "a\\'b", "\\", "' OR 1=1 --", "x'; DROP --"])
def test_R31_key_literal_on_quotes_and_backslashes(value: str) -> None:
    query = f"SELECT id FROM customer WHERE id > {key_literal(value)} ORDER BY id"
    assert_safe(query)
    assert outside_literals(query) == "SELECT id FROM customer WHERE id > ? ORDER BY id"


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SuiteQL statement the client sends, whichever method sends it."""
    queries: list[str] = []
    real = NetSuiteClient._call

    def spy(self: NetSuiteClient, method: str, path: str, **kwargs: Any) -> Any:
        if path == SUITEQL_PATH:
            queries.append(kwargs["json_body"]["q"])
        return real(self, method, path, **kwargs)

    monkeypatch.setattr(NetSuiteClient, "_call", spy)
    return queries


@pytest.fixture
def emu() -> Iterator[mock_netsuite]:
    with mock_netsuite(EmulatorOptions(retry_after_seconds=0, send_retry_after=False)) as e:
        yield e


def test_R29_every_suiteql_statement_of_a_sync_is_safe(
    store: Store, emu: mock_netsuite, sent: list[str]
) -> None:
    for i, name in enumerate(["O'Brien's 10% off", "Back\\slash'; DROP TABLE x; --",
                              "' UNION SELECT id FROM customer --"]):
        catalog.create_promotion(store, name=name, kind="order", rate=10,
                                 pattern=f"Q{i}-[AN.8]")
        generate.generate_codes(store, name, count=40)
    # NetSuite-generated codes too: their read-back pages go by another client method
    catalog.create_promotion(store, name="Read'back -- /* x */", kind="order", rate=5,
                             pattern="RB-[AN.8]", codes_from="netsuite")
    request_netsuite_codes(store, "Read'back -- /* x */", 250)
    mapping = dataclasses.replace(load_mapping(), chunk_size=1000, page_size=100)
    client = make_client(emu.url)
    engine = SyncEngine(store, client, mapping)
    engine.plan()
    assert engine.run().exit_code == 0
    for code in list(emu.backend.db.conn.execute("SELECT code FROM couponcode LIMIT 5")):
        emu.backend.simulate_redemption(code[0])
    engine.mirror()
    client.close()
    read_back = [q for q in sent if "ORDER BY id" in q and "id <=" in q]
    assert len(sent) >= 3 and read_back, sent
    for query in sent:
        assert_safe(query)


class _Recorder:
    """A stand-in client that records the statements it is asked to run."""

    concurrency = 1

    def __init__(self) -> None:
        self.queries: list[str] = []

    def suiteql(self, query: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.queries.append(query)
        return iter(())


def test_R31_hostile_record_ids_from_netsuite_never_reach_suiteql_text() -> None:
    client = _Recorder()
    try:
        sync_remote.code_stats(client, ["1) OR (1=1", "2 UNION SELECT 1"], "tranpromotion")  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - refusing the id is a correct answer
        from connector.errors import NetSuiteError

        assert isinstance(exc, NetSuiteError)
        return
    for query in client.queries:
        assert "OR (1=1" not in outside_literals(query)
        assert "UNION" not in outside_literals(query)
