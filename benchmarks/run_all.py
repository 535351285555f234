"""Run every benchmark and trial, one after another, and summarise which met their targets.

Each script prints its figures beside a baseline measured in the same run and exits non-zero
when it misses a target. PostgreSQL benchmarks run when PROMOSYNC_TEST_POSTGRES_URL (tests and
redemption) or PROMOSYNC_BENCH_POSTGRES_URL (generation) names a database they may wipe.

    python benchmarks/run_all.py [NAME ...]     # e.g. bench_generate trial_kill
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = [
    "bench_generate", "bench_export", "bench_client_overhead", "bench_emulator",
    "bench_redeem", "bench_lists", "bench_serve", "bench_pg_generate", "bench_sync", "bench_mirror",
    "bench_check", "bench_push", "bench_verify", "bench_rebaseline", "bench_alerts",
    "trial_faults", "trial_kill",
]


def main() -> int:
    names = sys.argv[1:] or ORDER
    results: list[tuple[str, int, float]] = []
    for name in names:
        print(f"\n=== {name}", flush=True)
        started = time.monotonic()
        rc = subprocess.call([sys.executable, "-m", f"benchmarks.{name}"], cwd=HERE.parent)
        results.append((name, rc, time.monotonic() - started))
    print("\n=== summary")
    for name, rc, took in results:
        print(f"  {'PASS' if rc == 0 else 'MISS'}  {name} ({took:.0f} s)")
    return 0 if all(rc == 0 for _, rc, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
