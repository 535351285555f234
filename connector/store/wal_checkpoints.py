"""WAL checkpoints of a SQLite store, taken by a background thread instead of inside commits.

SQLite's automatic checkpoint runs inside the COMMIT that pushes the write-ahead log past 1,000
pages: that one commit copies the log's pages into the database file and syncs it, while
every other writer of the process waits behind it for the write lock. Under steady redemption
load those commits were most of the 99th-percentile latency. The process's redemption writer
connection therefore turns the automatic checkpoint off, and after every `EVERY` of its
commits a daemon thread checkpoints on its own connection, in two passes: a PASSIVE one while
writers go on (it copies almost all of the log), then a second one between two writers, under
the process's writer queue, which copies the few pages written meanwhile. The log is then
fully copied, so the next writer starts it again from the beginning: it stays small. Other
connections (the CLI, other processes) keep SQLite's automatic checkpoint. The thread ends
within a second once its store is closed or gone.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import weakref
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)

EVERY = 200  # writer commits between two checkpoints: a few hundred pages each time


class WalCheckpointer:
    """Background PASSIVE checkpoints of the SQLite database file at `path`."""

    def __init__(self, owner: Any, path: str, queue: AbstractContextManager[Any]) -> None:
        self.path = path
        self._queue = queue
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._commits = 0
        alive = weakref.ref(owner)
        thread = threading.Thread(
            target=self._loop, args=(alive,), name="promosync-wal-checkpoint", daemon=True
        )
        thread.start()

    def committed(self) -> None:
        """One more commit of the writer; every EVERY of them wake the thread."""
        self._commits += 1
        if self._commits >= EVERY:
            self._commits = 0
            self._wake.set()

    def close(self) -> None:
        """End the thread (within a second)."""
        self._closed.set()

    def _loop(self, alive: weakref.ref[Any]) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while alive() is not None and not self._closed.is_set():
                if not self._wake.wait(timeout=1.0):
                    continue
                self._wake.clear()
                conn = conn or self._connect()
                if conn is None:
                    continue
                self._checkpoint(conn)  # most of the log, while writers go on
                with self._queue:
                    self._checkpoint(conn)  # the rest, between two writers
        finally:
            if conn is not None:
                conn.close()

    def _connect(self) -> sqlite3.Connection | None:
        """A connection to the existing file (never creates one), or None for now."""
        try:
            return sqlite3.connect(f"file:{quote(self.path)}?mode=rw", uri=True, timeout=5)
        except sqlite3.Error as exc:
            log.debug("cannot open %s for checkpoints: %s", self.path, exc)
            return None

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            busy, pages, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:  # the next wake-up tries again; the log just grows a bit
            log.debug("WAL checkpoint of %s failed: %s", self.path, exc)
            return
        log.debug("WAL checkpoint of %s: %s of %s pages (busy %s)", self.path, done, pages, busy)
