"""Whether a PostgreSQL connection is still there, asked without a round trip.

Used by the store's pool at every checkout (engine.py) and before each use of a thread's own
connection (thread_connections.py).
"""

from __future__ import annotations

import select
from typing import Any

from sqlalchemy.exc import DisconnectionError


def still_connected(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server has closed is not handed out (the pool connects anew).

    pool_pre_ping would ask the server, one round trip per checkout: as much as a short
    redemption transaction's own statements. An idle connection has nothing to read, so when
    its socket is readable the server has spoken unasked: that is the "terminating
    connection" notice of a restart or pg_terminate_backend, then end of file.
    """
    if dbapi_conn.closed or dbapi_conn.broken:
        raise DisconnectionError("the connection to the store was closed")
    readable, _, _ = select.select([dbapi_conn.fileno()], [], [], 0)
    if readable:
        raise DisconnectionError("the store closed the connection")
