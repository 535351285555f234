"""The run ledger (R39, R40): `sync_runs` read back as history rows and one run's report,
pruned by age, and the error list that `sync errors` and `sync retry` work from.

Every run, retry and mirror leaves a row with its JSON report (sync.engine), and so does every
rebaseline (sync.rebaseline). Errors are not a table of their own: they are read from those
reports, in order. A promotion that failed (or was refused) opens an error on its item (the
promotion, a chunk's record, or the codes of a chunk), which counts every failure until a later
run finds that promotion done or in step: that run resolves it. A run stopped by an error opens
a run-level error, resolved by the next run that gets to its end; a mirror that could not push
local redemptions, likewise; a failed rebaseline opens its own, which only a rebaseline that
ends resolves.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from connector.store import Store
from connector.store import schema as s
from connector.store.schema import utcnow

KEEP_DAYS = 90  # default for PROMOSYNC_SYNC_HISTORY_DAYS
ACTION_COUNTS = {"create": "created", "update": "updated", "recreate": "re-created",
                 "inactivate": "inactivated"}
HISTORY_COLUMNS = ["run", "command", "started", "seconds", "outcome", "created", "updated",
                   "re-created", "inactivated", "codes_pushed", "codes_read_back",
                   "codes_mirrored", "requests", "rate_limited"]
ERROR_COLUMNS = ["promotion", "item", "error_code", "detail", "path", "first_failed",
                 "last_failed", "times"]


def prune_runs(conn: Connection, keep_days: int) -> int:
    """Delete the runs that started more than `keep_days` days ago; how many went."""
    cutoff = utcnow() - timedelta(days=keep_days)
    done = conn.execute(s.sync_runs.delete().where(s.sync_runs.c.started_at < cutoff))
    return int(done.rowcount or 0)


def record_refused(store: Store, command: str, report: dict[str, Any], keep_days: int,
                   outcome: str = "refused") -> int:
    """Record a run that never started its work (the lock was held, settings or credentials
    were refused; or, as `aborted`, a signal came first): a row started and finished now."""
    now = utcnow()
    with store.begin() as conn:
        prune_runs(conn, keep_days)
        key = conn.execute(s.sync_runs.insert().values(
            command=command, owner=f"{socket.gethostname()}:{os.getpid()}", started_at=now,
            finished_at=now, status=outcome, report=report)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _rows(conn: Connection, newest_first: bool, limit: int | None = None) -> list[Any]:
    t = s.sync_runs
    query = select(t).order_by(t.c.id.desc() if newest_first else t.c.id)
    return list(conn.execute(query.limit(limit) if limit else query))


def _outcome(row: Any, live_owner: str | None) -> str:
    """The row's outcome; a row still `running` whose process no longer holds the lock ended
    without a word (killed): aborted."""
    if row.status == "running" and row.owner != live_owner:
        return "aborted"
    return str(row.status)


def _seconds(row: Any) -> float | None:
    if row.finished_at is None:
        return None
    return round(float((row.finished_at - row.started_at).total_seconds()), 1)


def history_row(row: Any, live_owner: str | None) -> dict[str, Any]:
    """One run as `sync history` shows it: when, how long, how it ended, what it did."""
    report: dict[str, Any] = row.report or {}
    done = dict.fromkeys(ACTION_COUNTS.values(), 0)
    for p in report.get("promotions", []):
        if p.get("status") == "ok":
            for a in p.get("actions", []):
                label = ACTION_COUNTS.get(a.get("action"))
                if label:
                    done[label] += 1
    codes = report.get("codes") or {}
    outcome = _outcome(row, live_owner)
    reason = report.get("reason")
    if outcome == "aborted" and row.status == "running":
        reason = "ended without recording how (the process was killed?)"
    return {"run": int(row.id), "command": row.command, "started": row.started_at,
            "seconds": _seconds(row), "outcome": outcome, **done,
            "codes_pushed": int(codes.get("pushed") or 0),
            "codes_read_back": int(codes.get("read_back") or 0),
            "codes_mirrored": sum(int(m.get("redeemed") or 0) for m in report.get("mirror", [])),
            "requests": report.get("requests"), "rate_limited": report.get("rate_limited"),
            "reason": reason}


def _live_owner(conn: Connection) -> str | None:
    return conn.scalar(select(s.sync_lock.c.owner).where(s.sync_lock.c.name == "sync"))


def history(store: Store, limit: int | None = None) -> list[dict[str, Any]]:
    """The runs kept, newest first (at most `limit`)."""
    with store.read() as conn:
        live = _live_owner(conn)
        return [history_row(r, live) for r in _rows(conn, newest_first=True, limit=limit)]


def run_report(store: Store, run: int) -> dict[str, Any] | None:
    """One run's history row and its full report; None when there is no such run."""
    with store.read() as conn:
        row = conn.execute(select(s.sync_runs).where(s.sync_runs.c.id == run)).first()
        live = _live_owner(conn)
    if row is None:
        return None
    return {**history_row(row, live), "finished": row.finished_at, "report": row.report or {}}


def errors(store: Store, include_resolved: bool = False) -> list[dict[str, Any]]:
    """The errors of the runs kept: open ones (and resolved ones if asked), oldest first."""
    with store.read() as conn:
        rows = _rows(conn, newest_first=False)
    book = _Book()
    for row in rows:
        if row.status != "running":
            book.read(row)
    found = list(book.open.values()) + (book.resolved if include_resolved else [])
    return sorted(found, key=lambda e: (e["first_failed"], e["promotion"], e["item"]))


class _Book:
    """Errors opened, counted and resolved as the runs are read in order."""

    def __init__(self) -> None:
        self.open: dict[tuple[str, str], dict[str, Any]] = {}
        self.resolved: list[dict[str, Any]] = []

    def read(self, row: Any) -> None:
        report: dict[str, Any] = row.report or {}
        when: datetime = row.started_at
        for p in report.get("promotions", []):
            name = str(p.get("promotion"))
            if p.get("status") in ("failed", "refused"):
                f = p.get("failure") or {"item": "promotion", "detail": p.get("error")}
                self._fail(name, str(f.get("item") or "promotion"), row.id, when,
                           p.get("error"), f)
            elif p.get("status") in ("ok", "nothing"):
                self._resolve(lambda key, n=name: key[0] == n, row.id)
        item = row.command if row.command in ("mirror", "rebaseline") else "run"
        if row.status == "failed":
            self._fail("", item, row.id, when, report.get("reason"),
                       {"detail": report.get("reason")})
        elif row.status in ("ok", "partial"):
            self._resolve(lambda key, i=item: key == ("", i), row.id)
        mirrors = report.get("mirror", [])
        pushes = [why for m in mirrors for why in m.get("push_errors", [])]
        if pushes:
            self._fail("", "mirror push", row.id, when, pushes[0],
                       {"detail": f"{len(pushes)} local redemptions not pushed: {pushes[0]}"})
        elif mirrors and row.status in ("ok", "partial"):
            self._resolve(lambda key: key == ("", "mirror push"), row.id)

    def _fail(self, promotion: str, item: str, run: int, when: datetime, message: Any,
              failure: dict[str, Any]) -> None:
        entry = self.open.setdefault((promotion, item), {
            "promotion": promotion, "item": item, "first_failed": when, "first_run": run,
            "times": 0, "resolved_by": None})
        entry.update(last_failed=when, last_run=run, times=entry["times"] + 1,
                     message=message, external_id=failure.get("external_id"),
                     status=failure.get("status"), error_code=failure.get("error_code"),
                     detail=failure.get("detail"), path=failure.get("path"))

    def _resolve(self, which: Any, run: int) -> None:
        for key in [k for k in self.open if which(k)]:
            entry = self.open.pop(key)
            entry["resolved_by"] = run
            self.resolved.append(entry)
