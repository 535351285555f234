"""R41 from the command line: `promosync serve` (loopback unless told, a warning otherwise, a
port in use as one line) and `promosync keys create|list|revoke|admin-password` (a key shown
once, kept only as its SHA-256)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from connector import open_store
from connector.serve.session import check_password
from connector.store import schema as s
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]


def _serve(url: str, cwd: Path, *flags: str) -> tuple[str, str, int]:
    """Start `promosync serve --port 0 FLAGS`, check /healthz, stop it with SIGINT."""
    cmd = [sys.executable, "-m", "connector", "--database-url", url, "serve", "--port", "0",
           *flags]
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("promosync serve on http://"), first
        base = first.split()[3].rstrip(":")
        health = requests.get(base.replace("0.0.0.0", "127.0.0.1") + "/healthz", timeout=30)
        assert health.status_code == 200 and health.json()["ok"] is True
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    return first + out, err, proc.returncode


def test_R41_serve_defaults_to_loopback(sqlite_url: str, tmp_path: Path) -> None:
    run_cli(["--database-url", sqlite_url, "init"])
    out, err, code = _serve(sqlite_url, tmp_path)
    assert out.startswith("promosync serve on http://127.0.0.1:")
    assert "not a loopback address" not in err and "Traceback" not in err
    assert code == 0


def test_R41_serve_warns_when_not_on_loopback(sqlite_url: str, tmp_path: Path) -> None:
    run_cli(["--database-url", sqlite_url, "init"])
    out, err, _code = _serve(sqlite_url, tmp_path, "--host", "0.0.0.0")
    assert out.startswith("promosync serve on http://0.0.0.0:")
    assert "warning:" in err and "0.0.0.0, not a loopback address" in err
    assert "Traceback" not in err


def test_R41_a_port_in_use_is_one_line_exit_2(sqlite_url: str, tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = taken.getsockname()[1]
        result = run_cli(["--database-url", sqlite_url, "serve", "--port", str(port)])
    finally:
        taken.close()
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}")
    assert result.stderr.count("\n") == 1


def test_R41_keys_create_list_revoke(sqlite_url: str, tmp_path: Path) -> None:
    env = {"PROMOSYNC_DATABASE_URL": sqlite_url}
    assert run_cli(["init"], env=env).exit_code == 0
    made = run_cli(["keys", "create", "till-1", "--scope", "register", "--scope", "webstore"],
                   env=env)
    assert made.exit_code == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("psk_") and len(key) == 47 and "\n" not in key
    assert "shown once" in made.stderr
    listed = json.loads(run_cli(["--json", "keys", "list"], env=env).stdout)
    assert [(k["name"], k["scopes"], k["revoked_at"]) for k in listed] == [
        ("till-1", ["register", "webstore"], None)]
    assert listed[0]["prefix"] == key[:10] and key not in json.dumps(listed)
    store = open_store(sqlite_url)
    with store.read() as conn:
        stored = conn.execute(select(s.api_keys.c.key_hash)).scalar_one()
    store.close()
    assert stored == hashlib.sha256(key.encode()).hexdigest()
    assert key not in (tmp_path / "promosync.db").read_bytes().decode("latin-1")
    twice = run_cli(["keys", "create", "till-1", "--scope", "register"], env=env)
    assert twice.exit_code == 1 and "exists already" in twice.stderr
    bad = run_cli(["keys", "create", "x", "--scope", "root"], env=env)
    assert bad.exit_code == 2 and "register, webstore, lists, admin" in bad.stderr
    assert run_cli(["keys", "revoke", "till-1"], env=env).exit_code == 0
    assert run_cli(["keys", "revoke", "till-1"], env=env).exit_code == 1
    again = run_cli(["keys", "create", "till-1", "--scope", "lists"], env=env)
    assert again.exit_code == 0  # a revoked key's name can be given again


def test_R41_admin_password_is_printed_as_a_hash_only(monkeypatch: pytest.MonkeyPatch) -> None:
    mp = monkeypatch
    mp.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    made = run_cli(["keys", "admin-password", "--password-stdin"])
    assert made.exit_code == 0, made.stderr
    line = made.stdout.strip()
    assert line.startswith("PROMOSYNC_ADMIN_PASSWORD_HASH='scrypt$")
    assert "a long enough password" not in made.stdout + made.stderr
    assert check_password("a long enough password", line.split("'")[1])
    mp.setattr(sys, "stdin", io.StringIO("short\n"))
    short = run_cli(["keys", "admin-password", "--password-stdin"])
    assert short.exit_code == 2 and "12 characters" in short.stderr
