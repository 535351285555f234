"""Benchmark: hand 100,000 codes of a unique coupon list to 100,000 users (R20, R21).

One Distributor, one worker, one short store transaction per assignment (lock the list row,
check the 24-hour rule, take the next slot, record the hand-out). The baseline, measured in
the same run on the same store, is the bare conditional UPDATE of the list's counter, one per
store transaction. Target: >= 2,000 assignments/s on a SQLite file store. Exit code 1 when missed.

    python benchmarks/bench_lists.py [--count N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from sqlalchemy import func, select

from connector.lists import Distributor
from connector.lists.distributor import TAKE
from connector.store import open_store
from connector.store import schema as s

TARGET = 2000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    n = args.count
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/lists.db")
        dist = Distributor(store)
        t0 = time.perf_counter()
        dist.create("bench", codes=[f"LIST-{i:08d}" for i in range(n)], warning_limit=n // 10)
        dist.create("baseline", fixed="BASE", times=n)
        created = time.perf_counter() - t0
        with store.read() as conn:
            base_id = conn.scalar(
                select(s.coupon_lists.c.id).where(s.coupon_lists.c.name == "baseline")
            )
        t0 = time.perf_counter()
        for seen in range(n):
            with store.writer.transaction() as conn:
                TAKE.run(conn, {"list_id": base_id, "seen": seen})
        base_rate = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for i in range(n):
            dist.assign("bench", user=f"user-{i}", campaign="spring")
        rate = n / (time.perf_counter() - t0)
        with store.read() as conn:
            given = conn.scalar(select(func.count(func.distinct(s.list_assignments.c.code))))
        store.close()
    ok = rate >= TARGET and given == n
    print(f"coupon list: {n:,} codes stored in {created:.1f} s")
    print(f"  baseline bare conditional UPDATE of the counter: {base_rate:,.0f}/s")
    print(
        f"  assignments: {rate:,.0f}/s (target {TARGET:,.0f}/s, {rate / TARGET:.2f}x; "
        f"{rate / base_rate:.2f}x of baseline)"
    )
    print(f"  distinct codes handed out: {given:,} (expected {n:,})  -> {'OK' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
