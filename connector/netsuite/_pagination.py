"""Pagers for NetSuite collections and SuiteQL: offset paging and keyset paging, with loop guards.

Oracle's "Collection Paging" and SuiteQL pages: pages are `{items, hasMore, offset, count,
totalResults}`, limit <= 1000, and at most 100,000 rows per query
(https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156414087576.html,
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157909186990.html);
offset is kept a multiple of limit (a user report, ehmad11/netsuite-rest#25). `offset_pages`
refuses to go past that cap with an error that names the way out; `keyset_rows` pages by
`WHERE key > {after} ORDER BY key` with offset 0 each time (as salto-io/salto#6061 does), so it
has no cap, and stops if the key ever fails to increase.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from connector.errors import InputError, NetSuiteBadResponse, NetSuiteQueryTooLarge

MAX_PAGE_SIZE = 1000
OFFSET_ROW_CAP = 100_000

Page = dict[str, Any]


def check_page_size(page_size: int) -> int:
    """1..1000 (Oracle's page size limit); anything else is a caller error."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InputError(f"page size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
    return page_size


def _items(page: Page, what: str) -> list[Any]:
    items = page.get("items")
    if not isinstance(items, list):
        raise NetSuiteBadResponse(f"{what}: the page has no 'items' list")
    return items


def _too_large(what: str, total: object, hint: str) -> NetSuiteQueryTooLarge:
    return NetSuiteQueryTooLarge(
        f"{what} has more than {OFFSET_ROW_CAP:,} rows (totalResults={total}); NetSuite cannot "
        f"page past {OFFSET_ROW_CAP:,} by offset: {hint}",
        error_code="ROW_CAP_EXCEEDED",
    )


def offset_pages(
    fetch: Callable[[int, int], Page],
    *,
    page_size: int,
    what: str,
    hint: str = "use keyset paging (suiteql_keyset: WHERE id > {after} ORDER BY id)",
    cap: int = OFFSET_ROW_CAP,
) -> Iterator[Page]:
    """Yield pages from `fetch(limit, offset)` until `hasMore` is false.

    Refuses up front when `totalResults` exceeds `cap`, and again before asking for an offset at
    or past `cap`. Loop guard: a page that says `hasMore` but holds no rows stops the pager.
    """
    limit = check_page_size(page_size)
    offset = 0
    while True:
        page = fetch(limit, offset)
        rows = _items(page, what)
        total = page.get("totalResults")
        if offset == 0 and isinstance(total, int) and total > cap:
            raise _too_large(what, total, hint)
        yield page
        if not page.get("hasMore"):
            return
        if not rows:
            raise NetSuiteBadResponse(f"{what}: NetSuite said hasMore at offset {offset} "
                                      "but sent no rows; stopping to avoid a loop")
        offset += limit  # stays a multiple of limit
        if offset >= cap:
            raise _too_large(what, total, hint)


_DIGITS = re.compile(r"-?[0-9]+")


def _as_key(value: object) -> int | str:
    """SuiteQL sends ids as strings; compare numerically when they are digits."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    text = str(value)
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses
    return int(text) if _DIGITS.fullmatch(text) else text


def key_literal(value: int | str) -> str:
    """The SuiteQL literal for a key: digits as a number, anything else quoted ('' escaped)."""
    key = _as_key(value)
    if isinstance(key, int):
        return str(key)
    return "'" + key.replace("'", "''") + "'"


def _row_key(row: Any, key: str, what: str) -> int | str:
    if isinstance(row, dict):
        for name in (key, key.lower()):
            if row.get(name) is not None:
                return _as_key(row[name])
    raise NetSuiteBadResponse(f"{what}: a row has no {key!r} column; select it for keyset paging")


def keyset_rows(
    fetch: Callable[[str], Page],
    *,
    key: str,
    start_after: int | str,
    page_size: int,
    what: str,
) -> Iterator[dict[str, Any]]:
    """Yield rows from `fetch(after_literal)` pages until `hasMore` is false or a page is empty.

    Loop guard: the key of each page's last row must be greater than the previous `after`,
    otherwise the query is not ordered by the key and the pager stops with an error.
    """
    check_page_size(page_size)
    after = _as_key(start_after)
    while True:
        page = fetch(key_literal(after))
        rows = _items(page, what)
        if not rows:
            return
        last = _row_key(rows[-1], key, what)
        if type(last) is not type(after) or last <= after:  # type: ignore[operator]
            raise NetSuiteBadResponse(
                f"{what}: keyset paging did not advance ({key} {last!r} after {after!r}); "
                f"the query must filter {key} > {{after}} and ORDER BY {key}")
        yield from rows
        has_more = page.get("hasMore")
        if has_more is False or (has_more is None and len(rows) < page_size):
            return
        after = last
