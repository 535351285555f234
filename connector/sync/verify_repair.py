"""The repair plan of `sync verify --fix`: written in one transaction, carried out by `sync run`.

The plan is one row of `sync_watermarks` (named state kept by sync; no new table): a JSON list
of steps. `sync plan` lists them; `sync run` carries them out before its own mirror and plan:

    inactivate  an unknown promosync record in NetSuite (only when asked: --inactivate-unknown);
                a PATCH of isInactive, idempotent; its codes and their history stay
    forget_id   a code NetSuite no longer has loses its NetSuite id; the run's plan then pushes
                it again (an upsert by its external id)
    record_id   the store records the id NetSuite holds a code under
    adopt       a code NetSuite holds that the store lacks joins the store, in its chunk
    mirror      a NetSuite redemption the mirror missed marks the code redeemed here

The store steps are conditional (a code changed since verify is left alone) and go in one
transaction that also removes the plan (only if it is still the one read), so a run killed
before that transaction does them all again, and one killed after finds them done. Nothing
here marks a code unused or drops a redemption.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from connector.netsuite import NetSuiteClient
from connector.store import Store
from connector.store import schema as s
from connector.store.schema import utcnow
from connector.sync.local import apply_redemptions, store_read_back
from connector.sync.state import chunk_batch, set_watermark
from connector.sync.verify_model import Difference

log = logging.getLogger("promosync.sync")
NAME = "verify.repair"
STEPS = ("inactivate", "forget_id", "record_id", "adopt", "mirror")


def save_repairs(store: Store, differences: Iterable[Difference],
                 inactivate_unknown: bool = False) -> int:
    """Record the repair steps of the open differences (replacing an earlier plan); returns
    how many. Unknown records are inactivated only when `inactivate_unknown`."""
    steps = [{**d.repair, "promotion": d.promotion, "chunk": d.chunk, "reason": d.explain}
             for d in differences
             if d.repair is not None and not d.pending
             and (d.repair["step"] != "inactivate" or inactivate_unknown)]
    t = s.sync_watermarks
    with store.begin() as conn:
        conn.execute(t.delete().where(t.c.name == NAME))
        if steps:
            set_watermark(conn, store.dialect, NAME,
                          json.dumps({"written_at": utcnow().isoformat(), "steps": steps}))
    return len(steps)


def _read(conn: Connection) -> tuple[str | None, list[dict[str, Any]]]:
    t = s.sync_watermarks
    raw = conn.scalar(select(t.c.value).where(t.c.name == NAME))
    if raw is None:
        return None, []
    steps = json.loads(str(raw)).get("steps") or []
    return str(raw), [st for st in steps if isinstance(st, dict) and st.get("step") in STEPS]


def repair_steps(store: Store) -> list[dict[str, Any]]:
    """The steps `sync run` will carry out (what `sync plan` shows)."""
    with store.read() as conn:
        return _read(conn)[1]


def carry_out(store: Store, client: NetSuiteClient) -> dict[str, int]:
    """Carry out the recorded repair plan; returns how many steps of each kind changed
    something (empty when there is no plan)."""
    with store.read() as conn:
        raw, steps = _read(conn)
    if raw is None:
        return {}
    done = dict.fromkeys(STEPS, 0)
    for st in steps:
        if st["step"] == "inactivate":
            client.patch("promotionCode", str(st["netsuite_id"]), {"isInactive": True})
            done["inactivate"] += 1
    c, t = s.codes, s.sync_watermarks
    with store.begin() as conn:
        for st in steps:
            code = str(st.get("code") or "").upper()
            if st["step"] == "forget_id":
                done["forget_id"] += conn.execute(c.update().where(
                    c.c.code == code, c.c.netsuite_id == str(st["netsuite_id"]),
                    c.c.state == "active").values(netsuite_id=None)).rowcount
            elif st["step"] == "record_id":
                was = st.get("was")
                done["record_id"] += conn.execute(c.update().where(
                    c.c.code == code, or_(c.c.netsuite_id.is_(None), c.c.netsuite_id == was)
                    if was else c.c.netsuite_id.is_(None)).values(
                    netsuite_id=str(st["netsuite_id"]))).rowcount
            elif st["step"] == "adopt":
                done["adopt"] += _adopt(conn, store.dialect, st)
        mirror = [(str(st["code"]).upper(), st.get("transaction")) for st in steps
                  if st["step"] == "mirror"]
        done["mirror"] = apply_redemptions(conn, store.dialect, mirror)
        conn.execute(t.delete().where(and_(t.c.name == NAME, t.c.value == raw)))
    log.info("sync verify's repair plan carried out: %s", done)
    return {k: v for k, v in done.items() if v}


def _adopt(conn: Connection, dialect: str, st: dict[str, Any]) -> int:
    pid, chunk = int(st["promotion_id"]), int(st["chunk_index"])  # "chunk" is 1-based
    batch = chunk_batch(conn, dialect, pid, chunk, str(st["external_id"]),
                        f"netsuite:{st['record']}", 0)
    return store_read_back(conn, dialect, [(str(st["code"]).upper(), pid, batch, 1, chunk,
                                            str(st["netsuite_id"]))])
