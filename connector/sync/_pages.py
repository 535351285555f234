"""Read-back pages kept as the JSON text NetSuite sent: checked by SQLite, stored by SQLite.

Reading a million codes back is a thousand pages of a thousand rows. Parsed by Python, each row
is a dict, a list and three strings, built while the interpreter lock is held and then
collected (the collector's full passes alone held the lock ~60 ms every two seconds, stalling
every request in flight). A page that is a whole id window is instead checked here by SQLite's
JSON reader on the fetching thread (the lock is free while it reads) and handed on as its text;
`sync.local.store_read_back` reads its codes with SQLite on the writer thread.

A page qualifies only when storing it so gives exactly the rows Python would build: items is an
array of `expected` objects, each with a text `id` and `code`, no more pages follow, and the
text is plain ASCII without escapes (so SQLite's upper() is Python's str.upper()). Any other
page takes the Python path, which also raises NetSuite's errors for malformed bodies.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_SHAPE = ("SELECT json_type(?1, '$.items'), json_extract(?1, '$.hasMore'), count(*), "
          "sum(type = 'object' AND json_type(value, '$.id') = 'text' "
          "AND json_type(value, '$.code') = 'text') FROM json_each(?1, '$.items')")
_local = threading.local()


@dataclass(frozen=True)
class PageText:
    """A whole read-back page as its JSON text, with the chunk its codes belong to."""

    text: str
    rows: int
    base: tuple[int, int, int]  # promotion id, batch id, chunk


def _reader() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(":memory:")
    return conn


def whole_page(expected: int, base: dict[str, Any]) -> Callable[[str], PageText | None]:
    """A `take` for `NetSuiteClient.suiteql_page_or`: the page as PageText when it qualifies
    (module doc) and holds the whole window of `expected` rows, else None."""
    def take(text: str) -> PageText | None:
        if not text.isascii() or "\\u" in text:
            return None
        try:
            kind, more, n, good = _reader().execute(_SHAPE, [text]).fetchone()
        except sqlite3.Error:  # not JSON: the Python path says so in NetSuite's terms
            return None
        if kind != "array" or more not in (0, None) or n != expected or good != n:
            return None
        return PageText(text, n, (base["promotion_id"], base["batch_id"], base["chunk"]))
    return take
