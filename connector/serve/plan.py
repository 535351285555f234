"""`sync plan` for the admin page (R32): what a sync would do, shown read-only.

The page runs `promosync sync plan --json` in a child process, with the server's own settings
(its environment, store and mapping), and shows its actions as a table. The command line is
the contract: the page does not depend on how sync is built inside. The plan reads NetSuite
and the store and writes to neither; one plan runs at a time, and at most for TIMEOUT seconds.
Its error, when it fails, is the command's own one line (no secrets: R30).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connector.store.schema import utcnow

TIMEOUT = 300.0
COLUMNS = ("promotion", "chunk", "action", "external_id", "generate", "push", "read_back",
           "reason")


@dataclass(frozen=True)
class PlanResult:
    at: datetime
    actions: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None


class PlanRunner:
    """Runs the plan on demand; keeps the last result to show."""

    def __init__(self, flags: list[str]) -> None:
        self.flags = flags  # global flags: --database-url, --timezone, --mapping
        self.last: PlanResult | None = None
        self._lock = threading.Lock()

    def run(self) -> PlanResult:
        with self._lock:
            self.last = self._run()
            return self.last

    def _run(self) -> PlanResult:
        cmd = [sys.executable, "-m", "connector", *self.flags, "sync", "plan", "--json"]
        try:
            # our own interpreter and module, the server's own flags: no shell, no outside input
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT,  # noqa: S603
                                  check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return PlanResult(utcnow(), error=f"sync plan took more than {TIMEOUT:g} s; stopped")
        except OSError as exc:
            return PlanResult(utcnow(), error=f"cannot run sync plan: {exc.strerror or exc}")
        if done.returncode != 0:
            lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
            why = lines[-1] if lines else f"exit code {done.returncode}"
            return PlanResult(utcnow(), error=f"sync plan failed: {why}")
        try:
            data = json.loads(done.stdout)
            actions = [dict(a) for a in data["actions"]]
            counts = {str(k): int(v) for k, v in data["counts"].items()}
        except (ValueError, KeyError, TypeError):
            return PlanResult(utcnow(), error="sync plan printed something that is not its JSON")
        return PlanResult(utcnow(), actions, counts)
