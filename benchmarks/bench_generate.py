"""Issue 2 targets for `promosync codes generate`, measured against a bare SQLite baseline.

* 1,000,000 codes (--su, and a NetSuite pattern) end to end through the CLI, including the store
  write: at most 2x a bare sqlite3 executemany of 1,000,000 precomputed codes of the same length
  into the same table (same file settings), measured in the same run. Peak memory < 300 MB.
* A pattern that can make 923,521 codes, asked for 1,000,000: refused, nothing written, well
  under a second.

Run: python benchmarks/bench_generate.py [--count N]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import Report  # noqa: E402

from connector import catalog, codes  # noqa: E402
from connector.errors import InputError  # noqa: E402
from connector.store import open_store  # noqa: E402


def fresh_store(folder: Path, name: str) -> str:
    url = f"sqlite:///{folder / name}"
    store = open_store(url)
    catalog.create_promotion(store, name="Bench", kind="order", rate=10)
    store.close()
    return url


def baseline(folder: Path, sample: list[str], name: str) -> float:
    """Bare sqlite3: executemany of precomputed codes into the same `codes` table."""
    url = fresh_store(folder, name)
    db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    for pragma in (
        "journal_mode = WAL",
        "synchronous = NORMAL",
        "cache_size = -65536",
        "foreign_keys = ON",
    ):
        db.execute(f"PRAGMA {pragma}")
    db.execute(
        "INSERT INTO code_batches (promotion_id, source, count, created_at) "
        "VALUES (1, 'bench', 0, '2026-01-01')"
    )
    rows = [(c,) for c in sample]
    started = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.executemany(
        "INSERT INTO codes (code, promotion_id, batch_id, max_uses) VALUES (?, 1, 1, 1)", rows
    )
    db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def cli(url: str, *args: str) -> tuple[float, int, str, float]:
    """Run the CLI; (seconds, exit code, stderr, peak resident memory of that process in MB)."""
    env = dict(os.environ, PROMOSYNC_DATABASE_URL=url)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, proc.returncode, err.strip(), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    count = parser.parse_args().count
    report = Report("bench_generate")
    cases = [
        ("--su", ["--su"], codes.su_format()),
        (
            "pattern PS-[AN.6]-[N.4]",
            ["--pattern", "PS-[AN.6]-[N.4]"],
            codes.parse_pattern("PS-[AN.6]-[N.4]"),
        ),
    ]
    peaks: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i, (label, flags, fmt) in enumerate(cases):
            sample = codes.generate_unique(fmt, count)
            base = baseline(folder, sample, f"baseline-{i}.db")
            del sample
            url = fresh_store(folder, f"ours-{i}.db")
            ours, rc, err, peak = cli(
                url, "codes", "generate", "Bench", "--count", str(count), *flags
            )
            peaks.append(peak)
            if rc != 0:
                report.check(f"generate {label}", f"failed: {err}", "exit 0", False)
                continue
            ratio = ours / base
            report.check(
                f"generate {count:,} {label} (CLI, end to end)",
                f"{ours:.2f} s vs bare executemany {base:.2f} s = {ratio:.2f}x",
                "<= 2.0x",
                ratio <= 2.0,
            )
        peak_mb = max(peaks, default=0.0)
        report.check(
            "peak memory of the generate command (largest of the runs above)",
            f"{peak_mb:.0f} MB",
            "< 300 MB",
            0 < peak_mb < 300,
        )
        url = fresh_store(folder, "refuse.db")
        took, rc, err, _ = cli(
            url, "codes", "generate", "Bench", "--count", "1000000", "--pattern", "[AN.4]"
        )
        started = time.perf_counter()
        try:
            codes.parse_pattern("[AN.4]").check_count(1_000_000)
        except InputError:
            in_process = time.perf_counter() - started
        else:
            in_process = float("nan")  # not refused: the CLI check above fails the target
        report.check(
            "refuse 1,000,000 of a 923,521-code pattern",
            f"CLI {took:.2f} s (of which the check {in_process * 1000:.2f} ms), exit {rc}: {err}",
            "refused, < 1 s",
            rc == 1 and took < 1.0 and "923,521" in err,
        )
    report.finish()


if __name__ == "__main__":
    main()
