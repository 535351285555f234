"""Issue 6 target for generation into a PostgreSQL store, against a bare COPY baseline.

1,000,000 codes through the CLI (`promosync codes generate P --count 1000000 --su`, a fresh
process, store on PostgreSQL, fresh schema), end to end: CLI start-up, drawing the codes,
checking the store and writing every row through the COPY fast path of connector/store/bulk.py.
The baseline, measured in the same run on the same server: a bare psycopg COPY of 1,000,000
precomputed codes of the same length into the same `codes` table (fresh schema, same columns
filled), one transaction. Target: at most 2.0x the baseline. Both rows are checked afterwards
(count and distinctness), so a fast wrong answer cannot pass.

Run: python benchmarks/bench_pg_generate.py [--count N] [--url postgresql://...]
(default URL: PROMOSYNC_BENCH_POSTGRES_URL; without one it says so and skips).
The database's schema `public` is dropped and recreated: point it at a throwaway database.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import Report  # noqa: E402

from connector import catalog, codes  # noqa: E402
from connector.store import open_store  # noqa: E402

TARGET = 2.0


def fresh_store(url: str) -> None:
    """Drop and recreate schema public, create the store and one single-use promotion."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("DROP SCHEMA IF EXISTS public CASCADE")
        db.execute("CREATE SCHEMA public")
    store = open_store(url)
    catalog.create_promotion(store, name="Bench", kind="order", rate=10)
    store.close()


def baseline(url: str, sample: list[str]) -> float:
    """Bare psycopg COPY of precomputed codes into the same `codes` table, one transaction."""
    fresh_store(url)
    with psycopg.connect(url) as db:
        batch = db.execute(
            "INSERT INTO code_batches (promotion_id, source, count, created_at) "
            "VALUES (1, 'bench', %s, now()) RETURNING id", (len(sample),)
        ).fetchone()
        assert batch is not None
        db.commit()
        started = time.perf_counter()
        with db.cursor() as cur:
            with cur.copy("COPY codes (code, promotion_id, batch_id, max_uses) FROM STDIN") as cp:
                for code in sample:
                    cp.write_row((code, 1, batch[0], 1))
        db.commit()
        return time.perf_counter() - started


def ours(url: str, count: int) -> tuple[float, int, str]:
    """The CLI in a fresh process, timed from spawn to exit."""
    fresh_store(url)
    env = dict(os.environ, PROMOSYNC_DATABASE_URL=url)
    args = [sys.executable, "-m", "connector", "codes", "generate", "Bench",
            "--count", str(count), "--su"]
    started = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, proc.returncode, proc.stderr.strip()


def stored(url: str) -> tuple[int, int, int]:
    """(rows, distinct codes, codes of the SU format) in the store at `url`."""
    with psycopg.connect(url) as db:
        row = db.execute(
            "SELECT count(*), count(DISTINCT code), "
            "count(*) FILTER (WHERE code ~ '^SU-[A-Z0-9]{16}$') FROM codes"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--url", default=os.environ.get("PROMOSYNC_BENCH_POSTGRES_URL"))
    args = parser.parse_args()
    count, url = args.count, args.url
    if not url:
        print("bench_pg_generate: skipped: set PROMOSYNC_BENCH_POSTGRES_URL (a throwaway db)")
        return
    report = Report("bench_pg_generate")
    sample = codes.generate_unique(codes.su_format(), count)
    base = baseline(url, sample)
    del sample
    base_rows = stored(url)
    print(f"  bare COPY of {count:,} precomputed codes: {base:.2f} s ({base_rows[0]:,} rows)")
    took, rc, err = ours(url, count)
    if rc != 0:
        report.check(f"generate {count:,} --su into PostgreSQL", f"failed (exit {rc}): {err}",
                     "exit 0", False)
        report.finish()
    rows, distinct, fitting = stored(url)
    print(f"  promosync codes generate --count {count:,} --su (CLI, end to end): {took:.2f} s")
    report.check("codes stored, distinct, of the SU format",
                 f"{rows:,} / {distinct:,} / {fitting:,}", f"{count:,} each",
                 rows == distinct == fitting == count)
    ratio = took / base
    report.check(f"generate {count:,} --su into PostgreSQL vs bare COPY",
                 f"{took:.2f} s vs {base:.2f} s = {ratio:.2f}x", f"<= {TARGET}x", ratio <= TARGET)
    report.finish()


if __name__ == "__main__":
    main()
