"""The scenario the trials run: promotions in a fresh store, synced, redeemed, mirrored; and the
end state that two runs of it must share (names, not random codes or keys, are compared)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from benchmarks._common import EmulatorProcess, env_for
from connector import catalog, generate
from connector.store import open_store
from connector.store import schema as s
from connector.sync.state import request_netsuite_codes

MAPPING = "[chunks]\nsize = 10000\n[codes]\npage_size = 1000\n"


def prepare(folder: Path, generated: int = 25_000, local: int = 1_500) -> tuple[str, str]:
    """A store with a NetSuite-generated promotion (3 chunks), a local one, a multi-use one;
    returns (database URL, mapping file)."""
    url = f"sqlite:///{folder / 'trial.db'}"
    store = open_store(url)
    catalog.create_promotion(store, name="Big", kind="order", rate=10,
                             pattern="BIG-[AN.6]-[N.2]", codes_from="netsuite")
    request_netsuite_codes(store, "Big", generated)
    catalog.create_promotion(store, name="Local", kind="item", rate=5, pattern="LOC-[AN.8]")
    generate.generate_codes(store, "Local", count=local)
    catalog.create_promotion(store, name="Multi", kind="shipping", rate=100, use="multi",
                             pattern="SHIP-[A.6]")
    generate.generate_codes(store, "Multi", count=1)
    store.close()
    mapping = folder / "mapping.toml"
    mapping.write_text(MAPPING)
    return url, str(mapping)


def promosync(args: list[str], url: str, emu: EmulatorProcess, mapping: str,
              extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, **env_for(emu.url, url), "PROMOSYNC_MAPPING": mapping, **(extra or {})}
    code = "import sys; from connector.cli import main; sys.exit(main())"
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def end_state(url: str, emu: EmulatorProcess) -> dict[str, Any]:
    """NetSuite (per promotion name: use type, inactive, codes, distinct codes, used) and the
    store (per promotion: codes, codes with a NetSuite id, redeemed, NetSuite events)."""
    remote = emu.call("state")
    store = open_store(url)
    with store.read() as conn:
        local = {}
        for p in conn.execute(select(s.promotions)):
            q = select(func.count()).select_from(s.codes).where(s.codes.c.promotion_id == p.id)
            local[p.name] = (conn.scalar(q),
                             conn.scalar(q.where(s.codes.c.netsuite_id.is_not(None))),
                             conn.scalar(q.where(s.codes.c.state == "redeemed")))
        events = conn.execute(select(func.count(), func.count(s.code_events.c.code_id.distinct()))
                              .where(s.code_events.c.source == "netsuite")).one()
    store.close()
    return {"netsuite": sorted([p[1:] for p in remote["promotions"]]),
            "pushed_codes": remote["pushed"], "local": local, "events": list(events)}


def problems(state: dict[str, Any]) -> list[str]:
    """Duplicates or missing codes in one end state."""
    out = []
    for name, _use, _inactive, codes, distinct, _used in state["netsuite"]:
        if codes != distinct:
            out.append(f"{name}: {codes - distinct} duplicate codes in NetSuite")
    pushed, distinct_eids = state["pushed_codes"]
    if pushed != distinct_eids:
        out.append("duplicate couponCode external ids")
    for name, (codes, with_id, _r) in state["local"].items():
        if name != "Multi" and codes != with_id:
            out.append(f"{name}: {codes - with_id} local codes not in NetSuite")
    if state["events"][0] != state["events"][1]:
        out.append("a NetSuite redemption was recorded twice")
    return out


def show(state: dict[str, Any]) -> str:
    return json.dumps(state, sort_keys=True)
