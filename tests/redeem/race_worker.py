"""A redeeming process for the multi-process race test (imported by spawned children)."""

from __future__ import annotations

from typing import Any

from connector.errors import RedemptionError
from connector.redeem import Register
from connector.store import open_store


def redeem_in_process(
    url: str, server_side: bool | None, codes: list[str], barrier: Any, results: Any, worker: int
) -> None:
    """Open a transaction holding `codes`, wait for every racer, pay; report the outcome."""
    store = open_store(url)
    try:
        register = Register(store, name=f"process-{worker}", server_side=server_side)
        sale = register.open(lines=["ITEM:100"])
        for code in codes:
            register.scan(sale.id, code)
        barrier.wait(timeout=60)
        try:
            register.pay(sale.id)
            results.put((worker, sale.id, "won", None))
        except RedemptionError as exc:
            results.put((worker, sale.id, "lost", str(exc)))
    finally:
        store.close()
