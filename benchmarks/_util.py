"""Helpers shared by the benchmark scripts: timing, a result table, and the pass/fail exit."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def best_of(runs: int, fn: Callable[[], Any]) -> float:
    """The fastest of `runs` timings (noise on a shared machine only ever adds time)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def median(values: list[float]) -> float:
    return statistics.median(values)


class Report:
    """Collects (what, measured, target, ok) rows, prints them, exits 1 if any missed."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.rows: list[tuple[str, str, str, bool]] = []

    def check(self, what: str, measured: str, target: str, ok: bool) -> None:
        self.rows.append((what, measured, target, ok))
        print(f"  {'PASS' if ok else 'MISS'}  {what}: {measured}  (target {target})", flush=True)

    def finish(self) -> None:
        missed = [r for r in self.rows if not r[3]]
        print(
            f"{self.title}: {len(self.rows) - len(missed)}/{len(self.rows)} targets met "
            f"on {machine()}"
        )
        sys.exit(1 if missed else 0)
