"""The sync lock (R27): one run at a time; a crashed run does not hold it forever."""

from __future__ import annotations

import socket
import time

import pytest

from connector.errors import SyncLocked
from connector.store import Store
from connector.sync.state import SyncLock


def test_R27_second_run_is_refused_while_the_first_holds_the_lock(store: Store) -> None:
    with SyncLock(store):
        with pytest.raises(SyncLocked) as err:
            SyncLock(store).acquire()
        assert err.value.exit_code == 3
    with SyncLock(store):
        pass


def test_R27_expired_lock_of_a_crashed_run_is_taken_over(store: Store) -> None:
    crashed = SyncLock(store, ttl=0.2, owner="otherhost:1:dead")
    crashed.acquire()  # never released: the process "died" ...
    crashed._drop_advisory()  # ... and PostgreSQL dropped its session's advisory lock
    if store.dialect == "sqlite":
        with pytest.raises(SyncLocked):
            SyncLock(store).acquire()  # the lease is still running
        time.sleep(0.3)
    with SyncLock(store) as lock:  # on PostgreSQL at once: no live session holds the lock
        assert not lock.lost


def test_R27_postgres_advisory_lock_keeps_out_a_second_run_of_a_live_holder(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    stalled = SyncLock(store, ttl=0.2)
    stalled.acquire()  # alive, but its lease expires (no heartbeat thread)
    time.sleep(0.3)
    with pytest.raises(SyncLocked, match="advisory"):
        SyncLock(store).acquire()
    stalled.release()
    with SyncLock(store):
        pass


def test_R27_lock_of_a_dead_process_on_this_host_is_taken_over_at_once(store: Store) -> None:
    dead = SyncLock(store, ttl=3600, owner=f"{socket.gethostname()}:999999999:x")
    dead.acquire()
    dead._drop_advisory()  # what PostgreSQL does when the holder's process dies
    with SyncLock(store) as lock:
        assert lock.owner != dead.owner


def test_R27_heartbeat_keeps_the_lock_and_notices_when_it_is_lost(store: Store) -> None:
    with SyncLock(store, ttl=0.4) as lock:
        time.sleep(0.8)  # longer than the ttl: the heartbeat keeps it alive
        with pytest.raises(SyncLocked):
            SyncLock(store).acquire()
        assert lock.heartbeat()
    thief = SyncLock(store, ttl=60, owner="otherhost:2:x")
    holder = SyncLock(store, ttl=0.01)
    holder.acquire()
    holder._drop_advisory()  # its store session died (PostgreSQL dropped the advisory lock)
    time.sleep(0.05)
    thief.acquire()
    assert not holder.heartbeat()
    with pytest.raises(SyncLocked):
        holder.check()
