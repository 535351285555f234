"""R33: the emulator listens on 127.0.0.1 unless told otherwise, and says so when it is not.

It accepts published test credentials, so a non-loopback bind must be a visible decision.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from connector.emulator import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]


def _serve(*flags: str) -> tuple[str, str]:
    """Start `promosync emulator serve FLAGS`, wait for its URL line, stop it; (stdout, stderr)."""
    cmd = [sys.executable, "-m", "connector", "emulator", "serve", "--port", "0", *flags]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        first = proc.stdout.readline()
        assert first.startswith("NetSuite emulator on http://"), first
        assert time.monotonic() < deadline
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    return first + out, err


def test_R33_emulator_server_defaults_to_loopback() -> None:
    with EmulatorServer() as server:
        assert server.url.startswith("http://127.0.0.1:")
    out, err = _serve()
    assert out.startswith("NetSuite emulator on http://127.0.0.1:")
    assert "WARNING" not in err and "Traceback" not in err


def test_R33_emulator_warns_when_not_on_loopback() -> None:
    out, err = _serve("--host", "0.0.0.0")
    assert out.startswith("NetSuite emulator on http://0.0.0.0:")
    assert "WARNING" in err and "0.0.0.0" in err and "not a loopback address" in err
    assert "Traceback" not in err


def test_R33_localhost_is_loopback_and_gets_no_warning() -> None:
    out, err = _serve("--host", "localhost")
    assert out.startswith("NetSuite emulator on http://127.0.0.1:")
    assert "WARNING" not in err
