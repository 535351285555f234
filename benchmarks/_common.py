"""Shared pieces of the sync benchmarks and trials: an emulator in a child process, a client."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from connector.emulator import TEST_CREDENTIALS
from connector.netsuite import NetSuiteClient, RetryPolicy, TokenAuth
from connector.store import Store, open_store

HERE = Path(__file__).resolve().parent


class EmulatorProcess:
    """`with EmulatorProcess() as emu:` -> emu.url, emu.call("stats")."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "_emulator_proc.py")], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, cwd=str(HERE.parent))
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().split()
        if not first or first[0] != "URL":
            raise RuntimeError("the emulator process did not start")
        self.url = first[1]

    def cpu_seconds(self) -> float:
        """CPU time the emulator process has used so far (Linux /proc)."""
        with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def call(self, *words: object) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(" ".join(str(w) for w in words) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None and self.proc.stdin is not None:
            # still running: ask it to stop ("quit" has no answer; the pipe may already be gone)
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
        self.proc.wait(timeout=10)


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def client(url: str, concurrency: int = 5, fast_retry: bool = False) -> NetSuiteClient:
    c = TEST_CREDENTIALS
    auth = TokenAuth(account_id=c.account_id, consumer_key=c.consumer_key,
                     consumer_secret=c.consumer_secret, token_id=c.token_id,
                     token_secret=c.token_secret)
    retry = RetryPolicy(max_attempts=30, base_seconds=0.05, cap_seconds=0.5,
                        max_total_seconds=120) if fast_retry else None
    return NetSuiteClient(account_id=c.account_id, auth=auth, base_url=url,
                          concurrency=concurrency, retry=retry)


def env_for(url: str, database_url: str) -> dict[str, str]:
    """Environment for a `promosync` subprocess against the emulator at `url`."""
    c = TEST_CREDENTIALS
    return {"PROMOSYNC_DATABASE_URL": database_url, "NETSUITE_ACCOUNT_ID": c.account_id,
            "NETSUITE_CONSUMER_KEY": c.consumer_key, "NETSUITE_CONSUMER_SECRET": c.consumer_secret,
            "NETSUITE_TOKEN_ID": c.token_id, "NETSUITE_TOKEN_SECRET": c.token_secret,
            "NETSUITE_BASE_URL": url, "NETSUITE_CONCURRENCY": "5"}


def big_netsuite_promotion(url: str, codes: int) -> Store:
    """A store at `url` holding promotion "Big", whose `codes` single-use codes NetSuite is
    asked to generate (the sync, verify and rebaseline benchmarks start from it)."""
    from connector import catalog
    from connector.sync.state import request_netsuite_codes

    store = open_store(url)
    catalog.create_promotion(store, name="Big", kind="order", rate=10,
                             pattern="BIG-[AN.6]-[N.3]", codes_from="netsuite")
    request_netsuite_codes(store, "Big", codes)
    return store
