"""Benchmark: `promosync netsuite check` against the emulator at 100 ms latency.

Target: at most 10 requests plus one per distinct item named (all items are looked up in one
query, so at most 11 here), and under 2 seconds. The probes run one after the other, so the
baseline is requests x 100 ms.

    python benchmarks/bench_check.py [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from benchmarks._common import EmulatorProcess, env_for, load_average  # noqa: E402
from connector import catalog  # noqa: E402
from connector.store import open_store  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency-ms", type=float, default=100.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess() as emu:
        url = f"sqlite:///{tmp}/bench.db"
        store = open_store(url, create=True)
        catalog.create_promotion(store, name="Spring", kind="item", rate=10,
                                 items=["150", "200"], discount_item="10",
                                 pattern="SPR-[AN.6]")
        store.close()
        emu.call("faults", args.latency_ms, 5, 0)
        env = {**os.environ, **env_for(emu.url, url)}
        before = sum(emu.call("stats")["requests"].values())
        start = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "connector", "netsuite", "check", "--json"],
                              env=env, cwd=tmp, capture_output=True, text=True, check=False)
        wall = time.monotonic() - start
        sent = sum(emu.call("stats")["requests"].values()) - before
    data = json.loads(done.stdout) if done.stdout.strip() else {}
    items = 3  # discount item 10, items 150 and 200: one query for all
    print(f"exit {done.returncode}; requests {sent} (target <= 10 + 1 item query; "
          f"{items} items named)")
    print(f"wall {wall:.2f}s (process start included); baseline {sent} x "
          f"{args.latency_ms:.0f} ms = {sent * args.latency_ms / 1000:.2f}s; target < 2 s")
    missing = [c["capability"] for c in data.get("capabilities", []) if c["status"] != "ok"]
    print(f"not ok: {', '.join(missing) or 'none'}; load average {load_average()}")
    ok = done.returncode in (0, 1) and sent <= 11 and wall < 2.0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
