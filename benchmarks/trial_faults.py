"""Trial (R31): a sync run and mirror with 20% of requests failing (429, 503, dropped
connections) end in the same NetSuite and local state as without faults.

    python benchmarks/trial_faults.py [--rate 0.2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from benchmarks._common import EmulatorProcess  # noqa: E402
from benchmarks._scenario import end_state, prepare, problems, promosync, show  # noqa: E402


def scenario(rate: float) -> tuple[dict[str, Any], dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess() as emu:
        url, mapping = prepare(Path(tmp))
        emu.call("faults", 0, 5, rate)
        fast = {"NETSUITE_RETRY_MAX_SECONDS": "120"}
        run = promosync(["sync", "run"], url, emu, mapping, fast)
        out, err = run.communicate(timeout=600)
        if run.returncode:
            raise SystemExit(f"sync run failed ({run.returncode}): {err.strip()}")
        emu.call("faults", 0, 0, 0)
        emu.call("redeem", 2000, 10)
        emu.call("faults", 0, 5, rate)
        mirror = promosync(["sync", "mirror"], url, emu, mapping, fast)
        _, err = mirror.communicate(timeout=600)
        if mirror.returncode:
            raise SystemExit(f"sync mirror failed ({mirror.returncode}): {err.strip()}")
        stats = emu.call("stats")
        return end_state(url, emu), stats


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=0.2)
    args = ap.parse_args()
    clean, _ = scenario(0.0)
    faulty, stats = scenario(args.rate)
    injected = stats["faults"]
    print(f"faults injected: {injected} of {sum(stats['requests'].values())} requests")
    print(f"without faults: {show(clean)}")
    print(f"with faults:    {show(faulty)}")
    bad = problems(clean) + problems(faulty)
    same = clean == faulty
    print("same end state" if same else "END STATES DIFFER")
    for line in bad:
        print("problem:", line)
    ok = same and not bad and sum(injected.values()) > 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
