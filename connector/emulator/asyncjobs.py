"""Asynchronous batch writes: jobs, tasks, results and idempotency keys (Oracle
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_161278579295.html).

A collection PUT/PATCH/DELETE with `Prefer: respond-async` becomes a job; the emulator runs it
at once but can report it "pending" for the first `async_pending_polls` status GETs so clients
exercise polling. A repeated X-NetSuite-Idempotency-Key gets 400 "Conflict" IDEMPOTENCY_ERROR
with the Location of the earlier job. Jobs live in the `_asyncjob` table.

UNCONFIRMED: the batch body shape {"items": [record, ...]} and the per-item result shape
{"status", "id", "externalId", "links" | "error"}; one task per job holding every item.
"""

from __future__ import annotations

import json
from typing import Any

from connector.emulator.apierror import ApiError, invalid_content
from connector.emulator.backend import NetSuiteBackend, record_spec
from connector.emulator.db import now_text
from connector.emulator.render import record_href
from connector.emulator.templates import Templates

ASYNC_PATH = "/services/rest/async/v1/job"


def job_href(base: str, job_id: int | str) -> str:
    return f"{base}{ASYNC_PATH}/{job_id}"


class AsyncJobs:
    """Runs batch jobs against the backend and answers the job/task endpoints."""

    def __init__(self, backend: NetSuiteBackend, templates: Templates) -> None:
        self.backend = backend
        self.templates = templates

    def submit(self, method: str, type_name: str, body: Any, idem_key: str | None,
               base: str, validation: str) -> int:
        """Validate and run a batch; return the job id (or raise the idempotency conflict)."""
        spec = record_spec(type_name)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise invalid_content('A batch body is {"items": [ ... ]} with at least one record.',
                                  "items")
        cap = self.backend.options.async_batch_max_items
        if len(items) > cap:
            raise invalid_content(f"A batch can hold at most {cap} records; {len(items)} sent.",
                                  "items")
        db = self.backend.db
        with db.lock:
            if idem_key:
                row = db.conn.execute("SELECT id FROM _asyncjob WHERE idem_key = ?",
                                      [idem_key]).fetchone()
                if row:
                    raise ApiError(400, "IDEMPOTENCY_ERROR",
                                   "A request with the same idempotency key has already been "
                                   "submitted.", title="Conflict",
                                   headers={"Location": job_href(base, row[0])})
            start = now_text()
            db.code_counts = {}  # the lock is held: no other write comes between the items
            try:
                results = [self._run_one(method, spec.name, item, i, base, validation)
                           for i, item in enumerate(items)]
            finally:
                db.code_counts = None
            cur = db.conn.execute(
                'INSERT INTO _asyncjob (idem_key, method, record_type, start, "end", result) '
                "VALUES (?, ?, ?, ?, ?, ?)",
                [idem_key, method, spec.name, start, now_text(), json.dumps(results)])
            return int(cur.lastrowid or 0)

    def _run_one(self, method: str, type_name: str, item: Any, index: int, base: str,
                 validation: str) -> dict[str, Any]:
        spec = record_spec(type_name)
        eid = item.get("externalId") if isinstance(item, dict) else None
        try:
            if not isinstance(item, dict):
                raise invalid_content("Each batch item must be a JSON object.", f"items[{index}]")
            if method == "PUT":
                if not isinstance(eid, str) or not eid:
                    raise invalid_content("A PUT batch item needs an externalId.",
                                          f"items[{index}].externalId")
                rid, _ = self.backend.upsert(type_name, eid, item, validation)
            else:
                ident = item.get("id")
                if ident is None:
                    raise invalid_content(f"A {method} batch item needs an id.",
                                          f"items[{index}].id")
                rid = int(self.backend.resolve_id(spec, str(ident)))
                if method == "PATCH":
                    self.backend.update(type_name, str(rid), item, validation)
                else:
                    self.backend.delete(type_name, str(rid))
        except ApiError as err:
            out: dict[str, Any] = {"status": err.status}
            if eid is not None:
                out["externalId"] = eid
            out["error"] = self.templates.error(err.status, err.code, err.detail, err.path)
            return out
        done: dict[str, Any] = {"status": 204, "id": str(rid)}
        if eid is not None:
            done["externalId"] = eid
        done["links"] = [self.templates.link("self", record_href(base, spec, rid))]
        return done

    def _load(self, job_id: str, count_poll: bool) -> tuple[bool, dict[str, Any]]:
        db = self.backend.db
        with db.lock:
            if count_poll:
                db.conn.execute("UPDATE _asyncjob SET polls = polls + 1 WHERE id = ?", [job_id])
            row = db.conn.execute('SELECT polls, start, "end", result FROM _asyncjob '
                                  "WHERE id = ?", [job_id]).fetchone()
        if row is None or not job_id.isdigit():
            raise ApiError(404, "NONEXISTENT_ID", f"The job {job_id} does not exist.")
        completed = row[0] > self.backend.options.async_pending_polls
        results = json.loads(row[3])
        failed = any(r["status"] >= 400 for r in results)
        return completed, {"start": row[1], "end": row[2], "results": results,
                           "progress": ("failed" if failed else "succeeded") if completed
                           else "pending"}

    def job(self, base: str, job_id: str) -> dict[str, Any]:
        completed, info = self._load(job_id, count_poll=True)
        return self.templates.job(job_href(base, job_id), job_id, completed, info["progress"])

    def tasks(self, base: str, job_id: str) -> dict[str, Any]:
        self._load(job_id, count_poll=False)
        href = job_href(base, job_id) + "/task"
        items = [{"links": [self.templates.link("self", href + "/1")], "id": "1"}]
        return self.templates.collection([self.templates.link("self", href)], items, 0, 1)

    def task(self, base: str, job_id: str, task_id: str) -> dict[str, Any]:
        completed, info = self._load(job_id, count_poll=False)
        self._check_task(job_id, task_id)
        href = f"{job_href(base, job_id)}/task/{task_id}"
        return self.templates.task(href, task_id, completed, info["progress"],
                                   _iso(info["start"]), _iso(info["end"]) if completed else None)

    def result(self, base: str, job_id: str, task_id: str) -> dict[str, Any]:
        completed, info = self._load(job_id, count_poll=False)
        self._check_task(job_id, task_id)
        if not completed:
            raise ApiError(404, "NONEXISTENT_ID", f"The task {task_id} has no result yet.")
        href = f"{job_href(base, job_id)}/task/{task_id}/result"
        items = info["results"]
        return self.templates.collection([self.templates.link("self", href)], items, 0,
                                         len(items))

    @staticmethod
    def _check_task(job_id: str, task_id: str) -> None:
        if task_id != "1":
            raise ApiError(404, "NONEXISTENT_ID", f"The job {job_id} has no task {task_id}.")


def _iso(stored: str) -> str:
    return stored.replace(" ", "T") + "Z"
