"""Trial (R27): `promosync sync run` killed with SIGKILL at random moments, run again each
time, ends in the same state as an uninterrupted run: no duplicate record or code in NetSuite,
no code missing.

Each round: a fresh store and emulator, a `sync run` subprocess killed after a random delay
(within the length of an uninterrupted run), then `sync run` again to the end; the end state is
compared with the reference.

    python benchmarks/trial_kill.py [--rounds 20] [--seed N]
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from benchmarks._common import EmulatorProcess  # noqa: E402
from benchmarks._scenario import end_state, prepare, problems, promosync, show  # noqa: E402


def one_round(emu: EmulatorProcess, kill_after: float | None) -> tuple[dict[str, object], float]:
    emu.call("reset")
    emu.call("faults", 2, 5, 0)  # a little latency, so that a run has moments to be killed in
    with tempfile.TemporaryDirectory() as tmp:
        url, mapping = prepare(Path(tmp))
        start = time.perf_counter()
        first = promosync(["sync", "run"], url, emu, mapping)
        if kill_after is not None:
            try:
                first.wait(timeout=kill_after)
            except Exception:  # noqa: BLE001 - still running: kill it
                first.send_signal(signal.SIGKILL)
            first.wait()
        else:
            first.communicate(timeout=600)
        elapsed = time.perf_counter() - start
        again = promosync(["sync", "run"], url, emu, mapping)
        _, err = again.communicate(timeout=600)
        if again.returncode:
            raise SystemExit(f"re-run failed ({again.returncode}): {err.strip()}")
        return end_state(url, emu), elapsed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    failures = 0
    with EmulatorProcess() as emu:
        reference, duration = one_round(emu, None)
        print(f"reference run: {duration:.1f}s; {show(reference)}")
        bad = problems(reference)
        for r in range(args.rounds):
            moment = rnd.uniform(0.3, duration)
            state, _ = one_round(emu, moment)
            issues = problems(state) + ([] if state == reference else ["end state differs"])
            print(f"round {r + 1:2}: SIGKILL at {moment:5.2f}s -> "
                  f"{'ok' if not issues else '; '.join(issues)}")
            if issues:
                failures += 1
                print("   ", show(state))
    ok = not failures and not bad
    print("PASS" if ok else f"FAIL ({failures} rounds)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
