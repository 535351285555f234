"""Worker functions for the concurrency tests, run in separate processes.

Each worker opens the store by URL itself (its own engine and connections) and redeems codes
through the public redemption API, `connector.redeem.Register`: open, scan, pay. It reports
every outcome (code, "redeemed" or the RedemptionError class name); anything else that goes
wrong is reported as ("!error", text) so the test fails with it.
"""

from __future__ import annotations

import random
from multiprocessing.synchronize import Barrier
from typing import Any


def redeem_worker(url: str, pool: list[str], hot: list[str], attempts: int, seed: int,
                  start: Barrier, results: Any) -> None:
    from connector.errors import RedemptionError
    from connector.redeem import Register
    from connector.store import open_store

    out: list[tuple[str, str]] = []
    try:
        store = open_store(url)
        register = Register(store, timezone="UTC", name=f"register-{seed}")
        rnd = random.Random(seed)
        start.wait(90)  # every worker connected: go together
        for _ in range(attempts):
            code = rnd.choice(hot) if rnd.random() < 0.6 else rnd.choice(pool)
            sale = register.open(lines=["ITEM:50.00"])
            try:
                register.scan(sale.id, code)
                payment = register.pay(sale.id)
            except RedemptionError as exc:
                out.append((code, type(exc).__name__))
                continue
            out.extend((o.code, o.outcome) for o in payment.outcomes)
        store.close()
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        out.append(("!error", f"{type(exc).__name__}: {exc}"))
    results.put(out)
