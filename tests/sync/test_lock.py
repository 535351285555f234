"""The sync lock (R27): one run at a time; a crashed run does not hold it forever."""

from __future__ import annotations

import socket
import time

import pytest

from connector.errors import SyncLocked
from connector.store import Store
from connector.sync_state import SyncLock


def test_R27_second_run_is_refused_while_the_first_holds_the_lock(store: Store) -> None:
    with SyncLock(store):
        with pytest.raises(SyncLocked) as err:
            SyncLock(store).acquire()
        assert err.value.exit_code == 3
    with SyncLock(store):
        pass


def test_R27_expired_lock_of_a_crashed_run_is_taken_over(store: Store) -> None:
    crashed = SyncLock(store, ttl=0.2, owner="otherhost:1:dead")
    crashed.acquire()  # never released: the process "died"
    with pytest.raises(SyncLocked):
        SyncLock(store).acquire()
    time.sleep(0.3)
    with SyncLock(store) as lock:
        assert not lock.lost


def test_R27_lock_of_a_dead_process_on_this_host_is_taken_over_at_once(store: Store) -> None:
    dead = SyncLock(store, ttl=3600, owner=f"{socket.gethostname()}:999999999:x")
    dead.acquire()
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
    time.sleep(0.05)
    thief.acquire()
    assert not holder.heartbeat()
    with pytest.raises(SyncLocked):
        holder.check()
