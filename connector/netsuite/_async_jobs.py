"""Asynchronous batch writes: submit with an idempotency key, poll the job, read task results.

Oracle's "Batch Operations" (help article_0127092747) and asynchronous request pages: a
collection-level POST/PUT/PATCH/DELETE with `Prefer: respond-async` and body `{"items": [...]}`
answers `202 Accepted` + `Location: /services/rest/async/v1/job/{id}`
(https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_161278579295.html);
`X-NetSuite-Idempotency-Key` (a uuid4 kept across retries of the same batch) makes a
resubmission answer `400 IDEMPOTENCY_ERROR` with the Location of the earlier job, which is then
followed instead (https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_164494900632.html).
The job is polled at `/job/{id}` until `completed`, then `/job/{id}/task/` lists its tasks and
`/task/{tid}/result` gives each item's outcome (`/task/{tid}` itself is read only when the result
does not list items with their status; https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_161252896355.html).
Oracle caps a batch at 100 records.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from connector.errors import (
    InputError,
    NetSuiteBadResponse,
    NetSuiteError,
    NetSuiteIdempotencyConflict,
    NetSuiteJobTimeout,
)
from connector.netsuite._errors_table import parse_error_body
from connector.netsuite._pagination import offset_pages
from connector.netsuite._urls import id_from_location, job_path, record_path

BATCH_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
COLLECTION_TYPE = "application/vnd.oracle.resource+json; type=collection"
DEFAULT_MAX_ITEMS = 100


@dataclass(frozen=True)
class AsyncItemError:
    """One failed item (or task) of a batch job, with NetSuite's error code, detail and path.

    `index` and `external_id` are set when the task result lists items one by one.
    """

    task_id: str
    error_code: str | None
    detail: str | None
    error_path: str | None = None
    index: int | None = None
    external_id: str | None = None
    status: int | None = None


@dataclass(frozen=True)
class AsyncJobResult:
    """The end of an async batch job: `succeeded` only when every task succeeded."""

    job_id: str
    succeeded: bool
    progress: str
    task_count: int
    errors: tuple[AsyncItemError, ...] = ()
    results: tuple[dict[str, Any], ...] = field(default=(), repr=False)  # per item or per task
    deduplicated: bool = False  # NetSuite had this idempotency key: the earlier job was followed


class Caller(Protocol):
    """The client's retried request function."""

    def __call__(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                 data: str | None = None, headers: dict[str, str] | None = None,
                 idempotent: bool = True) -> requests.Response: ...


JsonOf = Callable[[requests.Response], dict[str, Any]]


@dataclass
class AsyncBatchRunner:
    """Runs one batch job to its end through the client's retried `call`."""

    call: Caller
    json_of: JsonOf
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    poll_interval: float = 1.0
    poll_timeout: float = 900.0
    max_items: int = DEFAULT_MAX_ITEMS

    def run(self, method: str, record_type: str, items: Sequence[dict[str, Any]]) -> AsyncJobResult:
        verb = method.upper()
        if verb not in BATCH_METHODS:
            raise InputError(f"async batch method must be one of {sorted(BATCH_METHODS)}")
        if not items or len(items) > self.max_items:
            raise InputError(f"an async batch holds 1 to {self.max_items} items, not {len(items)}")
        job_id, deduplicated = self._submit(verb, record_type, list(items))
        job = self._wait(job_id)
        return self._collect(job_id, job, deduplicated)

    def _submit(self, verb: str, record_type: str, items: list[dict[str, Any]]) -> tuple[str, bool]:
        headers = {"Prefer": "respond-async", "X-NetSuite-Idempotency-Key": str(uuid.uuid4()),
                   "Content-Type": COLLECTION_TYPE}
        try:
            resp = self.call(verb, record_path(record_type), data=json.dumps({"items": items}),
                             headers=headers, idempotent=True)
        except NetSuiteIdempotencyConflict as conflict:
            job_id = id_from_location(conflict.location)
            if job_id is None:
                raise
            return job_id, True
        job_id = id_from_location(resp.headers.get("Location"))
        if job_id is None:
            raise NetSuiteBadResponse(
                f"NetSuite accepted the batch ({resp.status_code}) but sent no job Location",
                status=resp.status_code, method=verb, url=resp.url)
        return job_id, False

    def _wait(self, job_id: str) -> dict[str, Any]:
        deadline = self.clock() + self.poll_timeout
        while True:
            job = self.json_of(self.call("GET", job_path(job_id)))
            if job.get("completed") is True:
                return job
            if self.clock() + self.poll_interval > deadline:
                raise NetSuiteJobTimeout(
                    f"async job {job_id} did not complete within {self.poll_timeout:.0f}s "
                    f"(progress {job.get('progress')!r})", url=job_path(job_id))
            self.sleep(self.poll_interval)

    def _task_ids(self, job_id: str) -> list[str]:
        def fetch(limit: int, offset: int) -> dict[str, Any]:
            params = {"limit": limit, "offset": offset}
            return self.json_of(self.call("GET", job_path(job_id, "task"), params=params))

        ids: list[str] = []
        for page in offset_pages(fetch, page_size=1000, what=f"async job {job_id} tasks"):
            for item in page["items"]:
                tid = item.get("id") if isinstance(item, dict) else None
                if tid is None and isinstance(item, dict):
                    hrefs = [link.get("href") for link in item.get("links", [])]
                    tid = id_from_location(hrefs[0] if hrefs else None)
                if tid is None:
                    raise NetSuiteBadResponse(f"async job {job_id}: a task has no id")
                ids.append(str(tid))
        return ids

    def _collect(self, job_id: str, job: dict[str, Any], deduplicated: bool) -> AsyncJobResult:
        errors: list[AsyncItemError] = []
        results: list[dict[str, Any]] = []
        task_ids = self._task_ids(job_id)
        for tid in task_ids:
            result = self._task_result(job_id, tid)
            items = result.get("items")
            if isinstance(items, list):
                # Each item carries its own status: the task itself need not be read.
                results.extend(item for item in items if isinstance(item, dict))
                errors.extend(_task_errors(tid, {}, result))
                continue
            task = self.json_of(self.call("GET", job_path(job_id, "task", tid)))
            results.append(result)
            errors.extend(_task_errors(tid, task, result))
        progress = str(job.get("progress", ""))
        ok = not errors and progress.lower() not in ("failed", "error")
        return AsyncJobResult(job_id=job_id, succeeded=ok, progress=progress,
                              task_count=len(task_ids), errors=tuple(errors),
                              results=tuple(results), deduplicated=deduplicated)

    def _task_result(self, job_id: str, tid: str) -> dict[str, Any]:
        try:
            resp = self.call("GET", job_path(job_id, "task", tid, "result"))
        except NetSuiteError as exc:
            if exc.status is None or exc.retryable:
                raise
            return {"o:errorDetails": [{"detail": exc.detail, "o:errorCode": exc.error_code,
                                        "o:errorPath": exc.error_path}]}
        if not resp.text.strip():
            return {}
        return self.json_of(resp)


def _task_errors(tid: str, task: dict[str, Any], result: dict[str, Any]
                 ) -> list[AsyncItemError]:
    """Errors of one task. Two result shapes are accepted (neither confirmed by Oracle's pages):
    an error body for the task, or a collection whose items each carry a `status` and an
    `error` body.
    """
    if isinstance(result.get("items"), list):
        return [_item_error(tid, index, item) for index, item in enumerate(result["items"])
                if isinstance(item, dict) and (item.get("error") or _status(item) >= 400)]
    if "o:errorDetails" in result:
        body = parse_error_body(json.dumps(result))
        return [AsyncItemError(tid, body.error_code if body else None,
                               body.detail if body else None, body.error_path if body else None,
                               status=_status(result) or None)]
    progress = str(task.get("progress", "")).lower()
    if progress in ("failed", "error") or task.get("completed") is False:
        return [AsyncItemError(tid, None, f"task {tid} ended with progress {progress!r}")]
    return []


def _status(item: dict[str, Any]) -> int:
    value = item.get("status")
    return value if isinstance(value, int) else 0


def _item_error(tid: str, index: int, item: dict[str, Any]) -> AsyncItemError:
    error = item.get("error")
    body = parse_error_body(json.dumps(error)) if isinstance(error, dict) else None
    eid = item.get("externalId")
    return AsyncItemError(
        tid, body.error_code if body else None,
        (body.detail if body else None) or f"item {index} failed with status {_status(item)}",
        body.error_path if body else None, index=index,
        external_id=str(eid) if eid is not None else None, status=_status(item) or None)
