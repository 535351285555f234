"""Benchmark R11 exports: export_codes over 1,000,000 codes vs the csv module alone.

Builds a SQLite store with 1,000,000 generated codes, then times, in the same run:
* baseline: csv.writer.writerows of the same rows, precomputed in memory, to a file;
* measured: export_codes(..., "plain") and export_codes(..., "netsuite-csv") (database read,
  spreadsheet guard, atomic write with fsync included).
Each figure is the best of REPEATS runs. Target: each export within 2.0x its baseline.
Exit status 1 if a target is missed.

    python benchmarks/bench_export.py [--count N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from connector import catalog
from connector.chunks import NETSUITE_MAX_CODES, chunk_count, chunk_name
from connector.files import export_codes
from connector.files.exports import NETSUITE_COLUMNS
from connector.generate import generate_codes
from connector.store import Store, open_store

TARGET = 2.0
REPEATS = 3
PROMO = "Bench"


def best(run: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def build(folder: Path, count: int) -> tuple[Store, list[str]]:
    store = open_store(f"sqlite:///{folder / 'bench.db'}")
    catalog.create_promotion(store, name=PROMO, kind="order", rate=10)
    started = time.perf_counter()
    remaining = count
    while remaining:
        step = min(remaining, 1_000_000)
        generate_codes(store, PROMO, count=step)
        remaining -= step
    print(f"store: {count:,} codes generated in {time.perf_counter() - started:.1f} s")
    out = folder / "all.txt"
    export_codes(store, PROMO, "plain", out)
    codes = out.read_text(encoding="utf-8").split()
    return store, codes


def baseline_plain(codes: list[str], path: Path) -> Callable[[], object]:
    rows = [(c,) for c in codes]

    def run() -> None:
        with path.open("w", encoding="utf-8", newline="") as stream:
            csv.writer(stream, lineterminator="\n").writerows(rows)

    return run


def baseline_netsuite(codes: list[str], folder: Path) -> Callable[[], object]:
    size = NETSUITE_MAX_CODES
    n = chunk_count(len(codes), size)
    parts = [[(chunk_name(PROMO, k, n), c) for c in codes[k * size : (k + 1) * size]]
             for k in range(n)]

    def run() -> None:
        for k, rows in enumerate(parts, start=1):
            with (folder / f"base-{k}.csv").open("w", encoding="utf-8", newline="") as stream:
                writer = csv.writer(stream, lineterminator="\r\n")
                writer.writerow(NETSUITE_COLUMNS)
                writer.writerows(rows)

    return run


def report(label: str, measured: float, base: float) -> bool:
    ratio = measured / base
    ok = ratio <= TARGET
    print(f"{label:<14} export {measured:6.3f} s   csv module alone {base:6.3f} s   "
          f"ratio {ratio:4.2f}x (target <= {TARGET:.1f}x)  {'OK' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build the store in this folder and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        store, codes = build(folder, args.count)
        try:
            plain = best(lambda: export_codes(store, PROMO, "plain", folder / "plain.txt"))
            plain_base = best(baseline_plain(codes, folder / "base.txt"))
            ns = best(lambda: export_codes(store, PROMO, "netsuite-csv", folder / "ns.csv"))
            ns_base = best(baseline_netsuite(codes, folder))
        finally:
            store.close()
    results = [report("plain", plain, plain_base), report("netsuite-csv", ns, ns_base)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
