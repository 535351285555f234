"""R27 with a real process: `promosync sync run` killed with SIGKILL mid-run, then run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from connector.emulator import TEST_CREDENTIALS, EmulatorServer
from connector.store import Store
from connector.sync.engine import SyncEngine
from connector.sync.mapping import load_mapping
from tests.sync.conftest import end_state, make_client, sample_promotions


def test_R27_sigkilled_run_resumes_without_duplicates(store: Store, store_url: str,
                                                      tmp_path: Path) -> None:
    sample_promotions(store, generated=2500, local=300)
    mapping_file = tmp_path / "mapping.toml"
    mapping_file.write_text("[chunks]\nsize = 1000\n[codes]\npage_size = 100\n")
    c = TEST_CREDENTIALS
    with EmulatorServer() as server:
        server.faults.set(latency_ms=5)
        env = {**os.environ, "PROMOSYNC_DATABASE_URL": store_url,
               "PROMOSYNC_MAPPING": str(mapping_file), "NETSUITE_ACCOUNT_ID": c.account_id,
               "NETSUITE_CONSUMER_KEY": c.consumer_key,
               "NETSUITE_CONSUMER_SECRET": c.consumer_secret, "NETSUITE_TOKEN_ID": c.token_id,
               "NETSUITE_TOKEN_SECRET": c.token_secret, "NETSUITE_BASE_URL": server.url}
        code = "import sys; from connector.cli import main; sys.exit(main())"
        proc = subprocess.Popen([sys.executable, "-c", code, "sync", "run"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while sum(server.stats()["requests"].values()) < 40 and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        client = make_client(server.url)
        engine = SyncEngine(store, client, load_mapping(mapping_file))
        assert engine.run().exit_code == 0
        state = end_state(store, server)  # type: ignore[arg-type]
        assert state["netsuite_codes"] == 2500 + 300 and state["codes_equal"]
        assert engine.plan().in_step
        client.close()
