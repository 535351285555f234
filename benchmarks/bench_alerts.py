"""Benchmark (R44): how soon a failed run's alert reaches a webhook, and how much a webhook that
is down delays the run's exit.

A real `promosync sync run` process against the emulator server (its own process) fails one
promotion (NetSuite refuses its custom form: exit 1), with promosync.toml naming one webhook:
  * baseline: the same failed run with no alert target (wall time to exit);
  * up: a receiver on 127.0.0.1 that checks the signature: seconds from the run's end (its
    finish time in the ledger) to the receipt; target <= 5 s;
  * black hole: a port whose connects are never answered; and refused: a closed port. The exit
    delay is the run's wall time less the baseline's; target <= 10 s each, exit code still 1.

    python benchmarks/bench_alerts.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from sqlalchemy import select  # noqa: E402

from benchmarks._common import EmulatorProcess, load_average  # noqa: E402
from connector import catalog, generate  # noqa: E402
from connector.emulator import TEST_CREDENTIALS  # noqa: E402
from connector.store import open_store  # noqa: E402
from connector.store import schema as s  # noqa: E402
from tests.alerts.receivers import BlackHole, WebhookReceiver, closed_port  # noqa: E402

KEY = "bench-hmac-key-0123456789"
LATENCY_TARGET = 5.0
DELAY_TARGET = 10.0


def webhook(url: str) -> str:
    return (f'[alerts]\n[[alerts.targets]]\nkind = "webhook"\nname = "bench"\nurl = "{url}"\n'
            'secret_env = "BENCH_HOOK_KEY"\n')


def run(folder: Path, env: dict[str, str], toml: str | None) -> tuple[float, int, float]:
    """(wall seconds to exit, exit code, Unix time the run finished in the ledger)."""
    config = folder / "promosync.toml"
    if toml is None:
        config.unlink(missing_ok=True)
    else:
        config.write_text(toml)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "connector", "sync", "run"], cwd=folder,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120, check=False)
    wall = time.perf_counter() - started
    store = open_store(env["PROMOSYNC_DATABASE_URL"])
    with store.read() as conn:
        finished = conn.scalar(select(s.sync_runs.c.finished_at)
                               .order_by(s.sync_runs.c.id.desc()).limit(1))
    store.close()
    return wall, done.returncode, finished.timestamp()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess() as emu:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'bench.db'}"
        store = open_store(url, create=True)
        catalog.create_promotion(store, name="P1", pattern="P1-[AN.6]", kind="order", rate=10)
        catalog.create_promotion(store, name="P2", pattern="P2-[AN.6]", kind="item", rate=5,
                                 percent=False)
        for name in ("P1", "P2"):
            generate.generate_codes(store, name, count=100)
        store.close()
        (folder / "acct.toml").write_text("[forms]\nitem = -77777\n")
        c = TEST_CREDENTIALS
        env = {"PROMOSYNC_DATABASE_URL": url, "NETSUITE_ACCOUNT_ID": c.account_id,
               "NETSUITE_CONSUMER_KEY": c.consumer_key,
               "NETSUITE_CONSUMER_SECRET": c.consumer_secret, "NETSUITE_TOKEN_ID": c.token_id,
               "NETSUITE_TOKEN_SECRET": c.token_secret, "NETSUITE_BASE_URL": emu.url,
               "NETSUITE_TIMEZONE": "UTC", "PROMOSYNC_MAPPING": str(folder / "acct.toml"),
               "BENCH_HOOK_KEY": KEY}
        run(folder, env, None)  # warm-up: P1 goes to NetSuite; every later run fails P2 alike
        base = [run(folder, env, None) for _ in range(args.runs)]
        latencies, up = [], []
        with WebhookReceiver(KEY.encode()) as receiver:
            for i in range(args.runs):
                wall, code, finished = run(folder, env, webhook(receiver.url))
                [*_, got] = receiver.wait_for(i + 1, timeout=15)
                assert got.signed and got.json()["event"] == "run_failed", got.body
                latencies.append(got.wall - finished)
                up.append((wall, code))
        # each run with a target down beside a baseline run just before it (the machine's load
        # changes while the benchmark runs)
        holes, refused = [], []
        with BlackHole() as hole:
            for _ in range(args.runs):
                base.append(run(folder, env, None))
                holes.append((run(folder, env, webhook(hole.url)), base[-1]))
        for _ in range(args.runs):
            base.append(run(folder, env, None))
            down = webhook(f"http://127.0.0.1:{closed_port()}/hook")
            refused.append((run(folder, env, down), base[-1]))
    base_wall = statistics.median(w for w, _, _ in base)
    codes = ({c for _, c, _ in base} | {c for _, c in up}
             | {r[1] for r, _ in holes + refused})
    latency = max(latencies)
    hole_delay = max(r[0] - b[0] for r, b in holes)
    refused_delay = max(r[0] - b[0] for r, b in refused)
    print(f"failed sync run with no alert target (baseline): median wall {base_wall:.2f} s "
          f"over {len(base)} runs")
    print(f"webhook up: run's end -> alert received (signed, checked): max {latency:.3f} s, "
          f"median {statistics.median(latencies):.3f} s; target <= {LATENCY_TARGET:.0f} s; "
          f"exit {statistics.median(w for w, _ in up) - base_wall:+.2f} s against the baseline")
    print(f"webhook a black hole (connects never answered): exit delayed by max "
          f"{hole_delay:.2f} s; target <= {DELAY_TARGET:.0f} s")
    print(f"webhook refusing connections: exit delayed by max {refused_delay:.2f} s; target <= "
          f"{DELAY_TARGET:.0f} s")
    print(f"exit codes seen: {sorted(codes)} (1 expected everywhere: the alert never changes "
          f"it); machine load average {load_average()} on {os.cpu_count()} cores")
    ok = (latency <= LATENCY_TARGET and hole_delay <= DELAY_TARGET
          and refused_delay <= DELAY_TARGET and codes == {1})
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
