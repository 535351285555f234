"""The NetSuite side of sync: the snapshot the planner compares with, and parallel readers.

NetSuite pages at most 1,000 rows and offset paging stops at 100,000 (docs/netsuite-facts.md).
Large reads are therefore split by key ranges: one aggregate query gives COUNT, MIN and MAX of
the key, the range is cut into windows expected to hold one page each, and the windows run on
`client.concurrency` threads, each a keyset chain bounded above (`key > after AND key <= hi`),
so a window that holds more than a page still reads every row exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, TypeVar

from connector.netsuite import NetSuiteClient
from connector.sync import suiteql_values as sql
from connector.sync.model import RemoteChunk

T = TypeVar("T")
R = TypeVar("R")
PREFIX = "promosync-"


@dataclass(frozen=True)
class Window:
    """Keys in (low, high] of one range; `expected` rows when the keys are dense."""

    index: int
    low: int
    high: int
    expected: int | None = None


def windows(lo: int, hi: int, count: int, page_size: int) -> list[Window]:
    """Cut keys lo..hi (count rows) into windows of about one page each."""
    if count <= 0 or hi < lo:
        return []
    span = hi - lo + 1
    width = max(page_size, -(-page_size * span // count))
    dense = span == count
    out: list[Window] = []
    start = lo - 1
    while start < hi:
        end = min(hi, start + width)
        out.append(Window(len(out), start, end, end - start if dense else None))
        start = end
    return out


def reader_threads(client: NetSuiteClient) -> int:
    """Threads for parallel reads: two more than requests may be in flight. A thread holds a
    request slot only on the wire (the transport's semaphore); with as many threads as slots,
    a slot would wait while its thread parses and hands on the page it just got."""
    return client.concurrency + 2


def unordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int
                  ) -> Iterator[tuple[T, R]]:
    """Run `fn` over `items` on `workers` threads, yielding (item, result) as each finishes.

    At most 8 x workers items are in flight, so a million-row read never piles up in memory.
    The first error is raised after the running items finish.
    """
    todo = iter(items)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") as pool:
        running: dict[Future[R], T] = {}

        def fill() -> None:
            while len(running) < 8 * workers:
                item = next(todo, None)
                if item is None:
                    return
                running[pool.submit(fn, item)] = item

        fill()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                item = running.pop(future)
                yield item, future.result()
            fill()


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


_CHUNK_EID = re.compile(r"promosync-[0-9a-z]+-[0-9]+")


def snapshot(client: NetSuiteClient, used_source: str | None, use_types: Iterable[str] = (),
             known: Iterable[str] = (), keys: Iterable[str] | None = None
             ) -> dict[str, RemoteChunk]:
    """Every promosync promotionCode record, with its code count, id range and uses (only the
    records of the promotions whose external keys are `keys`, when given: `sync retry`).

    SuiteQL shows no customForm, and may show useType in another form than REST: a useType or
    isinactive value not among `use_types` / T, F is recorded as unknown. A chunk record that
    the store does not know (`known` external ids) is read once by REST for its customForm and
    useType, which REST gives as the values promosync writes."""
    where = f"externalid LIKE {sql.string(PREFIX + '%')}"
    if keys is not None:
        wanted = [f"externalid LIKE {sql.string(PREFIX + key + '-%')}" for key in keys]
        if not wanted:
            return {}
        where = f"({' OR '.join(wanted)})"
    rows = list(client.suiteql_keyset(
        "SELECT id, externalid, usetype, isinactive FROM promotioncode "
        f"WHERE {where} AND id > {{after}} ORDER BY id"))
    stats = code_stats(client, [str(r["id"]) for r in rows], used_source)
    values, seen = set(use_types), set(known)
    out = {}
    for r in rows:
        eid = str(r.get("externalid"))
        n, lo, hi, used = stats.get(str(r["id"]), (0, None, None, 0 if used_source else None))
        use_type, inactive, unknown = _recognised(r, values)
        form = None
        if eid not in seen and _CHUNK_EID.fullmatch(eid):
            use_type, form = _rest_form(client, str(r["id"]), use_type)
        out[eid] = RemoteChunk(id=str(r["id"]), external_id=eid, use_type=use_type,
                               custom_form=form, inactive=inactive, codes=n, used=used,
                               lo=lo, hi=hi, unknown=unknown)
    return out


def _recognised(row: dict[str, Any], use_types: set[str]
                ) -> tuple[str | None, bool | None, tuple[str, ...]]:
    unknown = []
    use_type = row.get("usetype")
    if use_type not in use_types:
        unknown.append(f"usetype {str(use_type)[:20]!r}")
        use_type = None
    flag = row.get("isinactive")
    inactive = {"T": True, "F": False}.get(str(flag)) if flag is not None else None
    if inactive is None:
        unknown.append(f"isinactive {str(flag)[:20]!r}")
    return use_type, inactive, tuple(unknown)


def _rest_form(client: NetSuiteClient, nid: str, use_type: str | None
               ) -> tuple[str | None, int | None]:
    record = client.get("promotionCode", nid)
    form = (record.get("customForm") or {}).get("id") if isinstance(
        record.get("customForm"), dict) else None
    rest_use = (record.get("useType") or {}).get("id") if isinstance(
        record.get("useType"), dict) else None
    return (str(rest_use) if rest_use else use_type), _int(form)


def code_stats(client: NetSuiteClient, promotion_ids: list[str], used_source: str | None
               ) -> dict[str, tuple[int, int | None, int | None, int | None]]:
    """Per promotion id: (codes, min id, max id, codes used or None when unknown).

    Used codes are counted from couponcode.used or the tranpromotion table, whichever the
    account lets SuiteQL read (`used_source`); with neither they are unknown."""
    out: dict[str, tuple[int, int | None, int | None, int | None]] = {}
    for i in range(0, len(promotion_ids), 500):
        ids = sql.integers(promotion_ids[i:i + 500])
        used = "SUM(CASE WHEN used = 'T' THEN 1 ELSE 0 END)" if used_source == "couponcode" \
            else "0"
        for r in client.suiteql(
                f"SELECT promotion, COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi, {used} AS used "
                f"FROM couponcode WHERE promotion IN ({ids}) GROUP BY promotion"):
            count = int(r.get("used") or 0) if used_source else None
            out[str(r["promotion"])] = (int(r["n"]), _int(r.get("lo")), _int(r.get("hi")),
                                        count)
        if used_source == "tranpromotion":
            for r in client.suiteql(
                    "SELECT promocode, COUNT(*) AS used FROM tranpromotion "
                    f"WHERE promocode IN ({ids}) GROUP BY promocode"):
                n, lo, hi, _ = out.get(str(r["promocode"]), (0, None, None, 0))
                out[str(r["promocode"])] = (n, lo, hi, int(r["used"]))
    return out


def _template(query: str, window: Window, window_key: str, page_key: str) -> str:
    return (f"{query} AND {window_key} > {window.low} AND {window_key} <= {window.high} "
            f"AND {page_key} > {{after}} ORDER BY {page_key}")


def first_query(query: str, window: Window, *, window_key: str = "id",
                page_key: str = "id") -> str:
    """The statement of a window's first page (what `read_window` sends first)."""
    start = window.low if page_key == window_key else 0
    return _template(query, window, window_key, page_key).replace("{after}", str(start))


def read_window(client: NetSuiteClient, query: str, window: Window, page_size: int, *,
                window_key: str = "id", page_key: str = "id",
                first: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows of `query` (SELECT ..., <page_key> AS id ... WHERE ...; no ORDER BY) whose
    `window_key` is in the window, paged by keyset on `page_key` (unique within a window).

    A dense window (one page exactly) is one request; anything else continues by keyset.
    `first`: the window's first page, when the caller has fetched it already."""
    start = window.low if page_key == window_key else 0
    if window.expected is not None and window.expected <= page_size:
        if first is None:
            first = client.suiteql_page(first_query(query, window, window_key=window_key,
                                                    page_key=page_key),
                                        limit=page_size, offset=0)
        items = first.get("items")
        if isinstance(items, list) and not first.get("hasMore") and len(items) == window.expected:
            return items
    return list(client.suiteql_keyset(_template(query, window, window_key, page_key),
                                      key="id", start_after=start, page_size=page_size))
