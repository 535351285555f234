"""Drawing large batches of coupon codes in a helper process, off the emulator's interpreter.

A promotion write with numberToGenerate = 500,000 draws its codes in Python (connector.codes):
most of a second under the interpreter lock, during which the emulator's request threads
barely run, so every SuiteQL page in flight waited for it. NetSuite generates codes on its own
servers without holding up other requests. Here batches of at least MIN_COUNT codes are drawn
by a helper process (this module's `serve`: one JSON line [pattern, count] in, one line out,
the codes sorted as a JSON array, or null when it cannot). The helper starts at the first
such batch, which is drawn in-process while it starts; whenever the helper is not
there or answers null, the caller draws in-process as before (and so reports any error).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading

from connector.codes import generate_unique, parse_pattern

MIN_COUNT = 100_000
_HELPER = "from connector.emulator.drawer import serve; serve()"


class Drawer:
    """The helper process of one emulator backend (started on first use, never required)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None

    def draw(self, pattern: str, count: int) -> str | None:
        """The sorted codes as a JSON array, or None: draw them in-process instead."""
        if count < MIN_COUNT:
            return None
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                self._proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed code
                    [sys.executable, "-c", _HELPER], text=True,
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL)  # a helper that fails is simply not used
                return None  # it is starting: this batch is drawn in-process
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps([pattern, count]) + "\n")
                proc.stdin.flush()
                answer = proc.stdout.readline()
            except OSError:
                return None
        text = answer.strip()
        return None if text in ("", "null") else text

    def close(self) -> None:
        """End the helper process (a no-op when none was started)."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the helper ends at end of input
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # still drawing a batch nobody will read
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def serve() -> None:
    """The helper's loop: a line [pattern, count] in, the sorted codes (or null) out."""
    for line in sys.stdin:
        try:
            pattern, count = json.loads(line)
            codes = generate_unique(parse_pattern(str(pattern)), int(count))
        except Exception:  # noqa: BLE001 - the caller draws in-process and reports it
            print("null", flush=True)
            continue
        codes.sort()
        print(json.dumps(codes, separators=(",", ":")), flush=True)

