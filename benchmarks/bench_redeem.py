"""Benchmark: scan + pay of single-use codes by concurrent workers on one store.

Each worker redeems its own codes: open a transaction with one line, scan the code, pay. The
figure is redemptions per second over the whole run and the 99th percentile latency of one
redemption (scan + pay; the transactions are opened beforehand). The baseline, measured in the
same run on the same store with the same workers, is the bare conditional UPDATE that takes a
code, one per store transaction: the floor any redemption path pays. On PostgreSQL a second
baseline runs the same UPDATE on raw psycopg (server-side prepared, autocommit, one round trip):
what the server and the machine allow when the client costs next to nothing.

How the workers run is how each store is deployed:
* SQLite: the store is a file on one machine, used by one process (a web store's checkout or
  a back-office register) with many threads: 8 threads of one process.
* PostgreSQL: the store is shared by many registers and web-store workers, i.e. many
  processes (one Python process cannot do more than its one interpreter lock allows, which is
  about what a bare UPDATE per transaction costs): 16 worker processes, each opening the store
  by URL with its own connection pool. `--threads` runs them as threads of one process instead.

On PostgreSQL a register scans and pays through the server functions (connector/redeem/
server_functions.py); the same number of redemptions through the Python path (what SQLite runs, and
what PostgreSQL ran before) is measured in the same run, for comparison.

Targets: SQLite file store, 8 workers: >= 500 redemptions/s, p99 < 20 ms.
PostgreSQL (when PROMOSYNC_TEST_POSTGRES_URL is set), 16 workers: >= 1,000 redemptions/s.
Exit code 1 when a target is missed.

    python benchmarks/bench_redeem.py [--codes N] [--threads]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import create_engine, func, select, text

from connector import catalog, generate
from connector.redeem import Register
from connector.redeem.commit import TAKE_CODE
from connector.store import Store, open_store
from connector.store import schema as s

Timing = tuple[float, float, list[float]]  # start, end, latencies (seconds)


def _setup(store: Store, count: int, spare: int) -> tuple[list[str], list[int]]:
    """`count` codes to redeem (by code) and `spare` more for the baselines (by id)."""
    catalog.create_promotion(store, name="Bench", kind="order", rate=5, percent=False)
    generate.generate_codes(store, "Bench", count=count + spare)
    with store.read() as conn:
        rows = conn.execute(select(s.codes.c.code, s.codes.c.id).order_by(s.codes.c.id)).all()
    return [r.code for r in rows[:count]], [r.id for r in rows[count:]]


def _work(store: Store, kind: str) -> Callable[[Any], None]:
    """What one worker does per item: the bare UPDATE (baseline), the same on raw psycopg
    (PostgreSQL's second baseline) or scan + pay."""
    if kind == "raw":
        today = date.today()
        compiled = TAKE_CODE.compile(dialect=store.engine.dialect)
        sql, constants = str(compiled), compiled.params
        dbapi: Any = store.engine.raw_connection().dbapi_connection
        dbapi.autocommit = True

        def raw(code_id: Any) -> None:
            dbapi.execute(sql, {**constants, "code_id": code_id, "today": today}, prepare=True)

        return raw
    if kind == "bare":
        today = date.today()

        def bare(code_id: Any) -> None:
            with store.writer.transaction() as conn:
                conn.execute(TAKE_CODE, {"code_id": code_id, "today": today})

        return bare
    reg = Register(store, server_side=False) if kind == "python path" else Register(store)

    def redeem(item: Any) -> None:
        sale_id, code = item
        reg.scan(sale_id, code)
        reg.pay(sale_id)

    return redeem


def _timed(work: Callable[[Any], None], share: Sequence[Any]) -> Timing:
    latencies = []
    t0 = time.monotonic()
    for item in share:
        t1 = time.monotonic()
        work(item)
        latencies.append(time.monotonic() - t1)
    return t0, time.monotonic(), latencies


def _threads(store: Store, kind: str, workers: int, items: list[Any]) -> list[Timing]:
    shares = [items[i::workers] for i in range(workers)]
    results: list[Timing] = []
    start = threading.Barrier(workers)
    work = _work(store, kind)

    def worker(n: int) -> None:
        start.wait()
        results.append(_timed(work, shares[n]))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _process(url: str, kind: str, share: list[Any], start: Any, out: Any) -> None:
    """One worker process: its own store (engine and pool), like one register."""
    store = open_store(url, create=False)
    work = _work(store, kind)
    with store.read():
        pass  # connect before the clock starts
    if kind == "redeem" and store.thread_connections is not None:
        store.thread_connections.connection()  # the register's own connection
    start.wait()
    out.put(_timed(work, share))
    store.close()


def _processes(url: str, kind: str, workers: int, items: list[Any]) -> list[Timing]:
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(workers), ctx.Queue()
    procs = [
        ctx.Process(target=_process, args=(url, kind, items[i::workers], start, out))
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    results: list[Timing] = []
    while len(results) < workers:
        try:
            results.append(out.get(timeout=1))
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in procs):
                for p in procs:
                    p.kill()
                raise SystemExit("a worker process failed: see its traceback above") from None
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"a worker process failed (exit code {p.exitcode})")
    return results


def _rate(count: int, results: list[Timing]) -> tuple[float, list[float]]:
    elapsed = max(r[1] for r in results) - min(r[0] for r in results)
    return count / elapsed, [x for r in results for x in r[2]]


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] * 1000 if len(values) > 1 else values[0] * 1000


def bench(
    url: str,
    label: str,
    workers: int,
    count: int,
    target_rate: float,
    target_p99: float | None,
    processes: bool,
) -> bool:
    store = open_store(url)
    postgres = store.dialect == "postgresql"
    total = count * (2 if postgres else 1)  # PostgreSQL: the Python path too, for comparison
    codes, ids = _setup(store, total, count * (2 if processes else 1))
    ids, raw_ids = ids[:count], ids[count:]
    raw_rate: float | None = None
    python_rate: float | None = None
    reg = Register(store)
    opened = time.perf_counter()
    work = [(reg.open(lines=["ITEM:20.00"]).id, code) for code in codes]
    open_rate = len(work) / (time.perf_counter() - opened)
    work, python_work = work[:count], work[count:]
    if processes:
        store.close()
        base_rate, _ = _rate(len(ids), _processes(url, "bare", workers, list(ids)))
        raw_rate, _ = _rate(len(raw_ids), _processes(url, "raw", workers, list(raw_ids)))
        python_rate, _ = _rate(count, _processes(url, "python path", workers, python_work))
        rate, lat = _rate(count, _processes(url, "redeem", workers, work))
        store = open_store(url)
    else:
        base_rate, _ = _rate(len(ids), _threads(store, "bare", workers, list(ids)))
        if python_work:
            python_rate, _ = _rate(count, _threads(store, "python path", workers, python_work))
        rate, lat = _rate(count, _threads(store, "redeem", workers, work))
    with store.read() as conn:
        redeemed = conn.scalar(
            select(func.count())
            .select_from(s.code_events)
            .where(s.code_events.c.kind == "redeemed")
        )
        used = conn.scalar(
            select(func.count(s.sale_codes.c.code_id.distinct())).where(
                s.sale_codes.c.state == "committed"
            )
        )
        twice = conn.scalar(select(func.count()).where(s.codes.c.use_count > 1))
    store.close()
    p99 = _p99(lat)
    p99_ok = target_p99 is None or p99 < target_p99
    ok = rate >= target_rate and p99_ok and redeemed == used == len(codes) and twice == 0
    how = "processes" if processes else "threads of one process"
    each = " on each path" if python_rate is not None else ""
    print(f"{label}: {workers} workers ({how}), {count:,} redemptions (scan + pay){each}")
    print(f"  (transactions opened beforehand, one worker: {open_rate:,.0f}/s)")
    print(f"  baseline bare conditional UPDATE: {base_rate:,.0f}/s")
    if raw_rate is not None:
        print(f"  what the server alone allows: the same UPDATE, prepared, autocommit, raw "
              f"psycopg: {raw_rate:,.0f}/s")
    if python_rate is not None:
        print(f"  redemptions through the Python path (what SQLite runs; before the server "
              f"functions): {python_rate:,.0f}/s")
    path = " through the server functions" if postgres else ""
    print(
        f"  redemptions{path}: {rate:,.0f}/s (target {target_rate:,.0f}/s, "
        f"{rate / target_rate:.2f}x; {rate / base_rate:.2f}x of baseline)"
    )
    print(
        f"  latency of scan + pay: p50 {statistics.median(lat) * 1000:.1f} ms, "
        f"p99 {p99:.1f} ms (target: {'none' if target_p99 is None else f'< {target_p99:.0f} ms'})"
    )
    print(
        f"  redeemed events: {redeemed:,}, codes committed: {used:,} (expected {len(codes):,}), "
        f"used twice: {twice}  -> {'OK' if ok else 'MISSED'}"
    )
    print(f"  load average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return ok


def _reset_pg(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
        fsync = conn.scalar(text("SHOW fsync"))
    engine.dispose()
    print(f"PostgreSQL server: fsync={fsync}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=3000, help="redemptions per engine")
    parser.add_argument(
        "--threads", action="store_true", help="PostgreSQL workers as threads of one process"
    )
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= bench(f"sqlite:///{tmp}/bench.db", "SQLite", 8, args.codes, 500, 20, False)
    pg = os.environ.get("PROMOSYNC_TEST_POSTGRES_URL")
    if pg:
        _reset_pg(pg)
        ok &= bench(pg, "PostgreSQL", 16, args.codes, 1000, None, not args.threads)
    else:
        print("PostgreSQL: skipped (set PROMOSYNC_TEST_POSTGRES_URL)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
