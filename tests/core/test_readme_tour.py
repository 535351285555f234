"""The README's tour runs as written (R33, issue "first hour"): every `sh` block, top to bottom,
in an empty folder, through the installed `promosync` command, the sync part against
`promosync emulator serve`. A command that exits non-zero fails the test, with the output."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def sh_blocks() -> list[str]:
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def test_R33_the_readme_tour_has_runnable_blocks_for_each_area() -> None:
    text = "\n".join(sh_blocks())
    for command in ("promosync samples", "promosync promo create", "promosync redeem pay",
                    "promosync lists assign", "promosync emulator serve",
                    "promosync netsuite check", "promosync sync run", "promosync sync mirror",
                    "promosync sync verify", "promosync alerts test", "--metrics-file",
                    "promosync sync rebaseline"):
        assert command in text, command


@pytest.mark.slow
def test_R33_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 8765)) == 0:
            pytest.fail("port 8765, which the tour's emulator uses, is taken on this machine")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PROMOSYNC_", "NETSUITE_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(tmp_path)
    script = "\n".join(["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
                        *sh_blocks()])
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, (f"exit {done.returncode}\n--- stdout (end)\n"
                                  f"{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}")
    report = (tmp_path / "sync.json").read_text()
    assert '"exit_code": 0' in report
    assert "Traceback" not in done.stderr
