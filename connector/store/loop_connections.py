"""A PostgreSQL store's connections for an event loop: the calls of `promosync serve` that are
one statement each (a keyed scan or payment, a validate) run on the loop, with no thread.

Handing a request to a thread pool and its answer back costs a queue, two wake-ups, a future
on each side and the interpreter lock passed back and forth: on two cores shared with 16
clients and PostgreSQL, more of the server's time than the call itself. Here a call is sent
and its reply read through libpq without blocking, with psycopg's generators waited for by
the loop (the same protocol as a thread's own connection, thread_connections.OwnConnection:
prepared once per connection, values apart from the statement).

Up to `size` connections are made, at start (`fill`) or one per call at once; a call waits
for a free one. A connection is made on a thread (connecting blocks), checked before each use
as the pool checks its own, and one lost in the middle of a call is closed and StoreOffline
raised: the server rolled back what the call did.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.waiting import wait_async

from connector.errors import StoreOffline
from connector.store.thread_connections import (
    OwnConnection,
    PreparedCall,
    ThreadConnections,
    first_line,
    reply_value,
    usable,
)


def _told(exc: BaseException) -> str:
    """What a failed connect says: StoreOffline's detail (the driver's first line)."""
    detail = exc.detail if isinstance(exc, StoreOffline) else first_line(exc)
    return detail or type(exc).__name__


class LoopConnections:
    """At most `size` connections of one store, used by one event loop."""

    def __init__(self, lines: ThreadConnections, size: int) -> None:
        self._lines = lines
        self.size = size
        self._idle: list[OwnConnection] = []
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self._count = 0  # made and not closed, idle or in use

    async def call(self, statement: PreparedCall, values: Sequence[Any]) -> Any:
        """`statement` with `values`, its own transaction: its JSON value as Python values.
        A database error is raised as psycopg's exception for it."""
        line = await self._take()
        keep = False
        try:
            try:
                results = await wait_async(line.exchange(statement, values),
                                           line.conn.pgconn.socket)
            except psycopg.errors.InvalidSqlStatementName:
                line.prepared.clear()  # the session was reset (DISCARD ALL): prepare again
                results = await wait_async(line.exchange(statement, values),
                                           line.conn.pgconn.socket)
            keep = True
            return reply_value(results, line.conn.info.encoding)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise StoreOffline(detail=first_line(exc)) from None
        except psycopg.Error:
            keep = True  # the statement failed; the connection is idle again
            raise
        finally:
            if keep:
                self._give(line)
            else:  # lost, or cancelled in the middle of a call: not reusable
                self._drop(line)

    async def fill(self) -> tuple[int, str | None]:
        """Make the connections not made yet, all at once, so that a server's first requests
        find them open: (how many were made, the first failure's message or None). One that
        cannot be made now is made by the first call that needs it."""
        loop = asyncio.get_running_loop()
        wanted = self.size - self._count
        self._count += wanted
        made = await asyncio.gather(*(loop.run_in_executor(None, self._lines.connect)
                                      for _ in range(wanted)), return_exceptions=True)
        failed: str | None = None
        for conn in made:
            if isinstance(conn, BaseException):
                self._count -= 1
                failed = failed or _told(conn)
            else:
                self._give(OwnConnection(conn))
        return wanted - sum(isinstance(c, BaseException) for c in made), failed

    @property
    def opened(self) -> int:
        """Connections made and not closed, idle or in use."""
        return self._count

    def close(self) -> None:
        idle, self._idle = self._idle, []
        for line in idle:
            line.conn.close()
            self._count -= 1

    async def _take(self) -> OwnConnection:
        while True:
            while self._idle:
                line = self._idle.pop()
                if usable(line.conn):
                    return line
                self._drop(line)
            if self._count < self.size:
                self._count += 1
                try:
                    conn = await asyncio.get_running_loop().run_in_executor(
                        None, self._lines.connect)
                except BaseException:
                    self._count -= 1
                    self._wake()
                    raise
                return OwnConnection(conn)
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # it was woken for a connection it will not take
                raise

    def _give(self, line: OwnConnection) -> None:
        self._idle.append(line)
        self._wake()

    def _drop(self, line: OwnConnection) -> None:
        line.conn.close()
        self._count -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
