"""R26/R27: read-back pages handed on as JSON text are stored exactly as parsed rows would be,
a page that could differ takes the Python path, and the read-back still reads every code once
and asks NetSuite for nothing more."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from connector import catalog
from connector.emulator import mock_netsuite
from connector.store import Store
from connector.store import schema as s
from connector.sync import apply as push
from connector.sync._pages import PageText, whole_page
from connector.sync._writer import StoreWriter
from connector.sync.local import has_pending_codes, read_back_values, store_read_back
from connector.sync.state import chunk_batch

from .conftest import EngineFactory, end_state, sample_promotions


def _page(items: list[Any], **envelope: Any) -> str:
    body = {"links": [], "count": len(items), "hasMore": False, "items": items, "offset": 0,
            "totalResults": len(items), **envelope}
    return json.dumps(body, separators=(",", ":"))


def _items(start: int, codes: list[str]) -> list[dict[str, Any]]:
    return [{"links": [], "id": str(start + i), "code": c} for i, c in enumerate(codes)]


def _base(store: Store) -> dict[str, Any]:
    catalog.create_promotion(store, name="P", kind="order", rate=10, pattern="P-[AN.6]",
                             codes_from="netsuite")
    with store.begin() as conn:
        pid = catalog.promotion_row(conn, "P").id
        batch = chunk_batch(conn, store.dialect, pid, 0, "promosync-x-0", "netsuite:7", 6)
    return {"promotion_id": pid, "batch_id": batch, "chunk": 0}


def _stored(store: Store) -> list[tuple[Any, ...]]:
    c = s.codes
    with store.read() as conn:
        return [tuple(r) for r in conn.execute(
            select(c.c.code, c.c.promotion_id, c.c.batch_id, c.c.max_uses, c.c.netsuite_chunk,
                   c.c.netsuite_id, c.c.state).order_by(c.c.code))]


def test_R26_a_page_stored_as_text_equals_the_same_page_parsed(store: Store) -> None:
    base = _base(store)
    items = _items(10, ["p-abc'1", "P-XYZ\\\"2", "p-3/x"])
    more = _items(20, ["P-DEF4", "p-ghi5", "P-ABC'1"])  # the last is stored already
    first = whole_page(3, base)(_page(items))
    second = whole_page(3, base)(_page(more))
    assert isinstance(first, PageText) and isinstance(second, PageText)
    with store.begin() as conn:
        assert store_read_back(conn, store.dialect, [first, second]) == 5
    as_text = _stored(store)
    with store.begin() as conn:
        conn.execute(s.codes.delete())
    rows = read_back_values(items, base) + read_back_values(more, base)
    with store.begin() as conn:
        assert store_read_back(conn, store.dialect, rows) == 5
    assert as_text == _stored(store)
    assert [r[0] for r in as_text] == sorted(["P-ABC'1", 'P-XYZ\\"2', "P-3/X", "P-DEF4",
                                              "P-GHI5"])


@pytest.mark.parametrize("body", [
    _page(_items(1, ["P-é1", "P-2"])),  # not ASCII: SQLite's upper() would differ
    _page(_items(1, ["P-\\u00e91", "P-2"])).replace("\\\\u", "\\u"),  # an escape
    _page([{"id": 1, "code": "P-1"}, {"id": "2", "code": "P-2"}]),  # a number id
    _page([{"id": "1", "code": None}, {"id": "2", "code": "P-2"}]),
    _page(["P-1", "P-2"]),
    _page(_items(1, ["P-1", "P-2"]), hasMore=True),
    _page(_items(1, ["P-1"])),  # fewer than the window holds
    _page(_items(1, ["P-1", "P-2"]))[:-5],  # truncated
    "<html>busy</html>",
    json.dumps({"items": {"a": 1, "b": 2}}),
])
def test_R26_a_page_that_could_differ_takes_the_python_path(store: Store, body: str) -> None:
    assert whole_page(2, _base(store))(body) is None


def test_R26_read_back_by_text_pages_reads_every_code_once(
        store: Store, emu: mock_netsuite, engine: EngineFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    handed: list[Any] = []

    def spy(conn: Any, dialect: str, values: list[Any]) -> int:
        handed.extend(values)
        return store_read_back(conn, dialect, values)

    monkeypatch.setattr(push, "store_read_back", spy)
    sample_promotions(store, generated=2500)
    engine().account.profile()  # the account check, once, before counting
    before = emu.stats()["requests"]["suiteql"]
    report = engine().run()
    assert report.exit_code == 0 and report.as_dict()["codes"]["read_back"] == 2500
    pages = [v for v in handed if isinstance(v, PageText)]
    assert len(pages) == 25 - 3 and sum(p.rows for p in pages) == 2500 - 300  # but firsts
    # 3 chunks of 1,000 / 1,000 / 500 codes in pages of 100: 25 pages, plus the snapshot and
    # the mirror's checks before and after
    assert emu.stats()["requests"]["suiteql"] - before == 25 + 3
    assert end_state(store, emu)["codes_equal"]


def test_R27_pending_codes_are_seen_in_any_chunk(store: Store) -> None:
    base = _base(store)
    with store.begin() as conn:
        store_read_back(conn, store.dialect, read_back_values(_items(1, ["P-A", "P-B"]), base))
        assert not has_pending_codes(conn, base["promotion_id"])
        conn.execute(s.codes.insert().values(code="P-LOCAL", promotion_id=base["promotion_id"],
                                             batch_id=base["batch_id"], netsuite_chunk=1))
        assert has_pending_codes(conn, base["promotion_id"])


def test_R27_writer_counts_pages_as_their_rows_and_flushes_on_demand() -> None:
    flushed: list[list[str]] = []

    def flush(items: list[str]) -> int:
        flushed.append(list(items))
        return len(items)

    with StoreWriter(flush, rows=1000) as writer:
        writer.add(["page-1"], rows=600)
        writer.add(["page-2"], rows=600)  # 1,200 rows: a buffer
        writer.add(["row"])
        writer.add(["page-3"], rows=10, now=True)
        writer.add(["last"])
    assert flushed == [["page-1", "page-2"], ["row", "page-3"], ["last"]]
    assert writer.done == 5
