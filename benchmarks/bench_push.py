"""Benchmark: push 500,000 locally generated single-use codes to NetSuite as batch jobs.

Set-up (not timed): a promotion with 500,000 codes generated in the store. Timed: `promosync
sync run` as cron runs it (a subprocess, output not a terminal) against the emulator server in
its own process, adding 100 ms to every request and allowing 5 concurrent requests.

The fewest requests for this way (codes made locally, account offering batch writes): NetSuite
takes at most 100 records in one batch request, so 5,000 batch jobs; each job is submitted (1),
polled until complete (1 when it is complete at the first look), its task list read (1) and the
task's result read (1, which lists each item's status, so the task itself is not read): 4 per
100 codes, 20,000 in all, against 500,000 for one upsert per code; plus the promotion's own
upsert and, on an account whose metadata does not show what discountType values mean, one
inactive write and its read-back. Target: wall <= 1.2 x (requests x 100 ms / 5), and a progress
line on stderr at least once a minute.

    python benchmarks/bench_push.py [--codes 500000] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from sqlalchemy import func, select  # noqa: E402

from benchmarks._common import EmulatorProcess, env_for, load_average  # noqa: E402
from connector import catalog, generate  # noqa: E402
from connector.store import open_store  # noqa: E402
from connector.store import schema as s  # noqa: E402


def _timed_lines(stream: object, out: list[tuple[float, str]]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        out.append((time.monotonic(), str(line).rstrip()))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--codes", type=int, default=500_000)
    ap.add_argument("--latency-ms", type=float, default=100.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess() as emu:
        url = f"sqlite:///{tmp}/bench.db"
        store = open_store(url)
        catalog.create_promotion(store, name="Mailing", kind="order", rate=10,
                                 pattern="ML-[AN.8]")
        left = args.codes
        while left:
            n = min(left, 1_000_000)
            generate.generate_codes(store, "Mailing", count=n)
            left -= n
        emu.call("faults", args.latency_ms, 5, 0)
        env = {**os.environ, **env_for(emu.url, url), "NETSUITE_CONCURRENCY": "5"}
        lines: list[tuple[float, str]] = []
        emu0 = emu.cpu_seconds()
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "connector", "sync", "run", "--report",
                                 f"{tmp}/report.json"], env=env, cwd=tmp,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        reader = threading.Thread(target=_timed_lines, args=(proc.stderr, lines), daemon=True)
        reader.start()
        out = proc.stdout.read() if proc.stdout else ""
        code = proc.wait()
        wall = time.monotonic() - start
        reader.join(timeout=5)
        emu_cpu = emu.cpu_seconds() - emu0
        report = json.loads(Path(f"{tmp}/report.json").read_text())
        stats = emu.call("stats")
        with store.read() as conn:
            pushed = conn.scalar(select(func.count()).select_from(s.codes)
                                 .where(s.codes.c.netsuite_id.is_not(None)))
        store.close()
    requests = int(report["requests"])
    batches = -(-args.codes // 100)
    # + 1 promotion upsert, + 2 to learn discountType (the first promotion written inactive
    # and read back: this account's metadata does not show what F and T mean)
    least = 4 * batches + 3
    other = requests - report["step_requests"].get("apply", 0)
    floor = requests * args.latency_ms / 1000 / 5
    progress = [t for t, line in lines if "codes moved so far" in line]
    marks = [start, *progress, start + wall]
    gap = max(b - a for a, b in zip(marks, marks[1:], strict=False))
    print(f"codes {args.codes:,}; pushed and stored with their NetSuite ids: {pushed:,}; "
          f"exit code {code}")
    print(f"requests {requests:,} by step {report['step_requests']}")
    print(f"  apply: {report['step_requests'].get('apply', 0):,}; the fewest: {batches:,} batch "
          f"jobs x 4 + 1 promotion upsert + 2 to learn discountType = {least:,} (one upsert per "
          f"code would be {args.codes:,}); the rest of the run (account check, snapshot, "
          f"mirrors): {other}")
    print(f"wall {wall:.1f}s; baseline requests x {args.latency_ms:.0f} ms / 5 = {floor:.1f}s; "
          f"target <= 1.2x = {1.2 * floor:.1f}s; ratio {wall / floor:.2f}x")
    print(f"seconds by step: {report['steps']}; emulator process CPU {emu_cpu:.1f}s")
    print(f"progress lines on stderr: {len(progress)}; longest silence {gap:.0f}s "
          f"(target <= 60s)")
    print(f"429 answers: {stats['statuses'].get('429', 0)}; max in flight at the server: "
          f"{stats['max_in_flight']}; machine load average {load_average()} on "
          f"{os.cpu_count()} cores")
    if out.strip():
        print("sync output:", out.strip().splitlines()[-1])
    ok = (code == 0 and pushed == args.codes and wall <= 1.2 * floor and gap <= 60
          and report["step_requests"].get("apply") == least)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
