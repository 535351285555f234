"""R14, R27 under concurrency: 64 processes redeeming from one pool of 10,000 codes, and two
sync runs started at the same moment, on SQLite and PostgreSQL.

Workers are separate processes (multiprocessing "forkserver", with promosync preloaded in the
server so that 64 start-ups fit in the time budget); each opens the store by its URL. Most
attempts go to a small hot set of codes, so that registers really race for the same code.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connector import catalog, generate
from connector.emulator import TEST_CREDENTIALS, EmulatorOptions, EmulatorServer
from connector.generate import CodeOptions
from connector.store import Store
from connector.store import schema as s
from tests.hardening._workers import redeem_worker

WORKERS = 64
ATTEMPTS = 8  # per worker: 512 redemptions raced over the pool
SINGLE, MULTI, MULTI_LIMIT = 9_000, 1_000, 3


@pytest.fixture(scope="module")
def ctx() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["connector.redeem", "connector.store", "sqlalchemy",
                                    "tests.hardening._workers"])
    return context


def _pool(store: Store) -> tuple[list[str], list[str]]:
    catalog.create_promotion(store, name="Single", kind="order", rate=10)
    catalog.create_promotion(store, name="Multi", kind="order", rate=5, use="multi")
    generate.generate_codes(store, "Single", count=SINGLE)
    generate.generate_codes(store, "Multi", count=MULTI, options=CodeOptions(max_uses=MULTI_LIMIT))
    with store.read() as conn:
        single = list(conn.scalars(select(s.codes.c.code).where(s.codes.c.max_uses == 1)))
        multi = list(conn.scalars(select(s.codes.c.code).where(s.codes.c.max_uses == MULTI_LIMIT)))
    assert len(single) + len(multi) == SINGLE + MULTI
    return single + multi, single[:48] + multi[:16]


@pytest.mark.timeout(120)
def test_R14_64_processes_never_double_redeem(
    store: Store, store_url: str, ctx: multiprocessing.context.BaseContext
) -> None:
    pool, hot = _pool(store)
    start, results = ctx.Barrier(WORKERS + 1), ctx.Queue()
    procs = [ctx.Process(target=redeem_worker,  # type: ignore[attr-defined]
                         args=(store_url, pool, hot, ATTEMPTS, n, start, results))
             for n in range(WORKERS)]
    for p in procs:
        p.start()
    start.wait(90)  # every worker has its store open
    outcomes = [item for _ in procs for item in results.get(timeout=100)]
    for p in procs:
        p.join(10)
    errors = [text for code, text in outcomes if code == "!error"]
    assert not errors, errors[:3]
    won = Counter(code for code, what in outcomes if what == "redeemed")
    lost = Counter(what for _, what in outcomes if what != "redeemed")
    assert set(lost) <= {"AlreadyRedeemed", "NoLongerValid"}, lost
    assert sum(lost.values()) > 0, "no race happened: the test proved nothing"
    with store.read() as conn:
        rows = conn.execute(select(s.codes.c.code, s.codes.c.use_count, s.codes.c.max_uses,
                                   s.codes.c.id)).all()
        events = Counter(dict(conn.execute(
            select(s.code_events.c.code_id, func.count())
            .where(s.code_events.c.kind == "redeemed").group_by(s.code_events.c.code_id)).all()))
    over = [r.code for r in rows if r.use_count > r.max_uses]
    assert not over, f"codes used beyond their limit: {over[:5]}"
    for r in rows:
        assert r.use_count == won[r.code] == events[r.id], (r.code, r.use_count, won[r.code])
    assert sum(won.values()) == sum(r.use_count for r in rows) > 0


def _sync_env(store_url: str, emulator_url: str, tmp: Path) -> dict[str, str]:
    c = TEST_CREDENTIALS
    return dict(os.environ, PROMOSYNC_DATABASE_URL=store_url, NETSUITE_BASE_URL=emulator_url,
                NETSUITE_ACCOUNT_ID=c.account_id, NETSUITE_CONSUMER_KEY=c.consumer_key,
                NETSUITE_CONSUMER_SECRET=c.consumer_secret, NETSUITE_TOKEN_ID=c.token_id,
                NETSUITE_TOKEN_SECRET=c.token_secret, HOME=str(tmp))


@pytest.fixture
def slow_emulator() -> Iterator[EmulatorServer]:
    """A real HTTP emulator on 127.0.0.1, slow enough that a run lasts a few seconds."""
    with EmulatorServer(options=EmulatorOptions(latency_ms=40.0)) as server:
        yield server


@pytest.mark.timeout(120)
def test_R27_two_sync_runs_one_proceeds(
    store: Store, store_url: str, slow_emulator: EmulatorServer, tmp_path: Path
) -> None:
    catalog.create_promotion(store, name="Local", kind="order", rate=10, pattern="LOC-[AN.8]")
    generate.generate_codes(store, "Local", count=200)
    env = _sync_env(store_url, slow_emulator.url, tmp_path)
    cmd = [sys.executable, "-m", "connector", "sync", "run"]
    runs = [subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    done = [(p.wait(100), *p.communicate()) for p in runs]
    codes = sorted(rc for rc, _, _ in done)
    assert codes == [0, 3], done
    locked = next(err for rc, _, err in done if rc == 3)
    assert locked.strip().startswith("error:") and "lock" in locked and "Traceback" not in locked
    with store.read() as conn:
        statuses = list(conn.scalars(select(s.sync_runs.c.status)))
        pushed = conn.scalar(select(func.count()).select_from(s.codes)
                             .where(s.codes.c.netsuite_id.is_not(None)))
    # the run that found the lock taken is in the ledger too, as refused (R39)
    assert sorted(statuses) == ["ok", "refused"] and pushed == 200
    rerun = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=100, check=False)
    assert rerun.returncode == 0, rerun.stderr  # the lock was released by the run that held it
