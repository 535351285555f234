"""Benchmark: scan + pay of single-use codes by concurrent workers on one store.

Each worker redeems its own codes: open a transaction with one line, scan the code, pay. The
figure is redemptions per second over the whole run and the 99th percentile latency of one
redemption (open + scan + pay). The baseline, measured in the same run on the same store with
the same workers, is the bare conditional UPDATE that takes a code, one per store transaction:
the floor any redemption path pays.

Targets: SQLite file store, 8 workers: >= 500 redemptions/s, p99 < 20 ms.
PostgreSQL (when PROMOSYNC_TEST_POSTGRES_URL is set), 16 workers: >= 1,000 redemptions/s.
Exit code 1 when a target is missed.

    python benchmarks/bench_redeem.py [--codes N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date

from sqlalchemy import create_engine, func, select, text

from connector import catalog, generate
from connector.redeem import Register
from connector.redeem._db import write
from connector.redeem.commit import TAKE_CODE
from connector.store import Store, open_store
from connector.store import schema as s


def _setup(store: Store, count: int) -> tuple[list[str], list[int]]:
    catalog.create_promotion(store, name="Bench", kind="order", rate=5, percent=False)
    generate.generate_codes(store, "Bench", count=count)
    with store.read() as conn:
        rows = conn.execute(select(s.codes.c.code, s.codes.c.id).order_by(s.codes.c.id)).all()
    half = len(rows) // 2
    return [r.code for r in rows[:half]], [r.id for r in rows[half:]]


def _run(
    workers: int, items: list[object], work: Callable[[object], None]
) -> tuple[float, list[float]]:
    shares = [items[i::workers] for i in range(workers)]
    latencies: list[list[float]] = [[] for _ in range(workers)]
    start = threading.Barrier(workers + 1)

    def worker(n: int) -> None:
        start.wait()
        for item in shares[n]:
            t0 = time.perf_counter()
            work(item)
            latencies[n].append(time.perf_counter() - t0)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return elapsed, [x for part in latencies for x in part]


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] * 1000 if len(values) > 1 else values[0] * 1000


def bench(
    url: str, label: str, workers: int, count: int, target_rate: float, target_p99: float | None
) -> bool:
    store = open_store(url)
    codes, ids = _setup(store, count * 2)
    reg = Register(store)
    today = date.today()

    def bare(code_id: object) -> None:
        with write(store) as conn:
            conn.execute(TAKE_CODE, {"code_id": code_id, "today": today})

    opened = time.perf_counter()
    work = [(reg.open(lines=["ITEM:20.00"]).id, code) for code in codes]
    open_rate = len(work) / (time.perf_counter() - opened)

    def redeem(item: object) -> None:
        sale_id, code = item  # type: ignore[misc]
        reg.scan(sale_id, code)
        reg.pay(sale_id)

    base_s, _ = _run(workers, list(ids), bare)
    run_s, lat = _run(workers, list(work), redeem)
    with store.read() as conn:
        redeemed = conn.scalar(
            select(func.count())
            .select_from(s.code_events)
            .where(s.code_events.c.kind == "redeemed")
        )
    store.close()
    rate, base_rate, p99 = len(codes) / run_s, len(ids) / base_s, _p99(lat)
    p99_ok = target_p99 is None or p99 < target_p99
    ok = rate >= target_rate and p99_ok and redeemed == len(codes)
    print(
        f"{label}: {workers} workers, {len(codes):,} redemptions "
        "(scan + pay of an open transaction)"
    )
    print(f"  (transactions opened beforehand, one worker: {open_rate:,.0f}/s)")
    print(f"  baseline bare conditional UPDATE: {base_rate:,.0f}/s")
    print(
        f"  redemptions: {rate:,.0f}/s (target {target_rate:,.0f}/s, {rate / target_rate:.2f}x; "
        f"{rate / base_rate:.2f}x of baseline)"
    )
    print(
        f"  latency of scan + pay: p50 {statistics.median(lat) * 1000:.1f} ms, "
        f"p99 {p99:.1f} ms (target: {'none' if target_p99 is None else f'< {target_p99:.0f} ms'})"
    )
    print(
        f"  redeemed events: {redeemed:,} (expected {len(codes):,})  -> {'OK' if ok else 'MISSED'}"
    )
    return ok


def _reset_pg(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=3000, help="redemptions per engine")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= bench(f"sqlite:///{tmp}/bench.db", "SQLite", 8, args.codes, 500, 20)
    pg = os.environ.get("PROMOSYNC_TEST_POSTGRES_URL")
    if pg:
        _reset_pg(pg)
        ok &= bench(pg, "PostgreSQL", 16, args.codes, 1000, None)
    else:
        print("PostgreSQL: skipped (set PROMOSYNC_TEST_POSTGRES_URL)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
