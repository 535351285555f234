"""A writer thread between the threads that fetch pages from NetSuite and the store.

Reading a million codes back is two jobs at once: `concurrency` threads wait on NetSuite pages
while one connection writes the rows. If the loop that hands out fetches also wrote, every
flush would leave the fetchers without new work; here the loop only appends rows to a buffer
and passes full buffers to the writer thread through a bounded queue (at most `depth` buffers
wait, so memory stays bounded and a slow store slows the fetching down instead of piling up).

The writer calls `flush(rows)` (one store transaction) for each buffer in order. Its first
error stops it and is raised in the feeding thread, at its next `add` or at the end. An item may
stand for many rows (a whole page): `add(items, rows=n)` counts it as n towards a buffer.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")


class StoreWriter(Generic[T]):
    """`with StoreWriter(flush, rows) as w: w.add(items)`; `w.done` sums what flush returned."""

    def __init__(self, flush: Callable[[list[T]], int], rows: int, depth: int = 2) -> None:
        self._flush = flush
        self._rows = rows
        self._queue: queue.Queue[list[T] | None] = queue.Queue(maxsize=depth)
        self._buffer: list[T] = []
        self._buffered = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sync-writer", daemon=True)
        self.done = 0

    def __enter__(self) -> StoreWriter[T]:
        self._thread.start()
        return self

    def add(self, items: Sequence[T], rows: int | None = None, now: bool = False) -> None:
        """Buffer items (`rows` they stand for, else one each); `now` hands the buffer to
        the writer whatever its size."""
        self._raise()
        self._buffer.extend(items)
        self._buffered += len(items) if rows is None else rows
        if now or self._buffered >= self._rows:
            self._put(self._buffer)
            self._buffer = []
            self._buffered = 0

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is None and self._buffer:
            self._put(self._buffer)
        self._buffer = []
        self._buffered = 0
        self._put(None)
        self._thread.join()
        if kind is None:
            self._raise()

    def _put(self, item: list[T] | None) -> None:
        while self._thread.is_alive():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        if item is not None:
            self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self.done += self._flush(item)
            except BaseException as exc:  # noqa: BLE001 - handed to the feeding thread
                self._error = exc
                return
