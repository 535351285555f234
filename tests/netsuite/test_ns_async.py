"""R26/R27 async batch writes: Prefer: respond-async, a stable idempotency key, job polling,
per-item errors, and following the earlier job on an IDEMPOTENCY_ERROR conflict."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests
import responses
from urllib3.exceptions import ProtocolError

from connector.errors import InputError
from connector.netsuite import AsyncJobResult, NetSuiteClient, NetSuiteJobTimeout

from .conftest import JOBS, RECORDS, FakeTime


def _job_routes(wire: responses.RequestsMock, job: str, tasks: dict[str, dict[str, Any]]) -> None:
    """A job that is pending once, then complete, with the given task results."""
    wire.get(f"{JOBS}/{job}", json={"id": job, "completed": False, "progress": "pending"})
    wire.get(f"{JOBS}/{job}", json={"id": job, "completed": True, "progress": "succeeded"})
    wire.get(f"{JOBS}/{job}/task", json={
        "items": [{"id": tid, "links": []} for tid in tasks], "hasMore": False, "offset": 0,
        "count": len(tasks), "totalResults": len(tasks)})
    for tid, result in tasks.items():
        progress = "failed" if "o:errorDetails" in result else "succeeded"
        wire.get(f"{JOBS}/{job}/task/{tid}", json={"id": tid, "completed": True,
                                                    "progress": progress})
        wire.get(f"{JOBS}/{job}/task/{tid}/result", json=result)


def test_R26_async_batch_submits_polls_and_reads_results(
    wire: responses.RequestsMock, client: NetSuiteClient, fake_time: FakeTime
) -> None:
    wire.put(f"{RECORDS}/couponCode", status=202,
             headers={"Location": "/services/rest/async/v1/job/55",
                      "Preference-Applied": "respond-async"})
    _job_routes(wire, "55", {"1": {"id": "501"}, "2": {"id": "502"}})
    items = [{"externalId": "c-1", "code": "A"}, {"externalId": "c-2", "code": "B"}]
    result = client.async_batch("PUT", "couponCode", items)
    assert result == AsyncJobResult(job_id="55", succeeded=True, progress="succeeded",
                                    task_count=2, errors=(), results=({"id": "501"},
                                                                      {"id": "502"}))
    submit = wire.calls[0].request
    assert submit.headers["Prefer"] == "respond-async"
    assert uuid.UUID(submit.headers["X-NetSuite-Idempotency-Key"]).version == 4
    assert submit.headers["Content-Type"].startswith("application/vnd.oracle.resource+json")
    assert json.loads(submit.body) == {"items": items}
    assert fake_time.sleeps == [2.0]  # one poll interval while the job was pending


def test_R26_async_batch_reports_per_item_errors(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.patch(f"{RECORDS}/couponCode", status=202,
               headers={"Location": f"{JOBS}/56"})
    failure = {"title": "Bad Request", "status": 400, "o:errorDetails": [{
        "detail": "Invalid value for code.", "o:errorCode": "INVALID_CONTENT",
        "o:errorPath": "code"}]}
    _job_routes(wire, "56", {"1": {"id": "501"}, "2": failure})
    result = client.async_batch("PATCH", "couponCode", [{"id": "501"}, {"id": "502"}])
    assert not result.succeeded
    assert [(e.task_id, e.error_code, e.error_path) for e in result.errors] == [
        ("2", "INVALID_CONTENT", "code")]
    assert result.errors[0].detail == "Invalid value for code."


def test_R27_retried_batch_follows_the_earlier_job_on_idempotency_conflict(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.put(f"{RECORDS}/couponCode", body=requests.ConnectionError(
        ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))))
    wire.put(f"{RECORDS}/couponCode", status=400, headers={"Location": f"{JOBS}/77"}, json={
        "title": "Conflict", "status": 400, "o:errorDetails": [{
            "detail": "The request with this idempotency key was already processed.",
            "o:errorCode": "IDEMPOTENCY_ERROR"}]})
    _job_routes(wire, "77", {"1": {"id": "601"}})
    result = client.async_batch("PUT", "couponCode", [{"externalId": "c-1", "code": "A"}])
    assert (result.job_id, result.succeeded, result.deduplicated) == ("77", True, True)
    keys = [c.request.headers["X-NetSuite-Idempotency-Key"] for c in wire.calls
            if c.request.method == "PUT"]
    assert len(keys) == 2 and keys[0] == keys[1]


def test_R26_each_batch_gets_its_own_idempotency_key(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.delete(f"{RECORDS}/couponCode", status=202, headers={"Location": f"{JOBS}/80"})
    _job_routes(wire, "80", {"1": {}})
    client.async_batch("DELETE", "couponCode", [{"id": "1"}])
    wire.delete(f"{RECORDS}/couponCode", status=202, headers={"Location": f"{JOBS}/80"})
    _job_routes(wire, "80", {"1": {}})
    client.async_batch("DELETE", "couponCode", [{"id": "2"}])
    keys = {c.request.headers["X-NetSuite-Idempotency-Key"] for c in wire.calls
            if c.request.method == "DELETE"}
    assert len(keys) == 2


def test_R26_job_that_never_completes_times_out(
    wire: responses.RequestsMock, make_client: Any, fake_time: FakeTime
) -> None:
    wire.put(f"{RECORDS}/couponCode", status=202, headers={"Location": f"{JOBS}/90"})
    wire.get(f"{JOBS}/90", json={"id": "90", "completed": False, "progress": "pending"})
    client = make_client(poll_interval=2.0, poll_timeout=5.0)
    with pytest.raises(NetSuiteJobTimeout, match="did not complete within 5s"):
        client.async_batch("PUT", "couponCode", [{"externalId": "c-1"}])
    assert fake_time.sleeps == [2.0, 2.0]


def test_R26_batch_size_and_method_are_checked(client: NetSuiteClient) -> None:
    with pytest.raises(InputError, match="1 to 100"):
        client.async_batch("PUT", "couponCode", [{"externalId": str(i)} for i in range(101)])
    with pytest.raises(InputError, match="method"):
        client.async_batch("GET", "couponCode", [{"id": "1"}])


def test_R26_task_result_listing_each_item_reports_failed_items(
    wire: responses.RequestsMock, client: NetSuiteClient
) -> None:
    wire.put(f"{RECORDS}/couponCode", status=202, headers={"Location": f"{JOBS}/60"})
    error = {"title": "Bad Request", "status": 400, "o:errorDetails": [{
        "detail": "Duplicate code.", "o:errorCode": "INVALID_CONTENT", "o:errorPath": "code"}]}
    result_body = {"items": [
        {"status": 204, "id": "701", "externalId": "c-1", "links": []},
        {"status": 400, "externalId": "c-2", "error": error},
    ], "hasMore": False, "count": 2, "offset": 0, "totalResults": 2}
    _job_routes(wire, "60", {"1": result_body})
    result = client.async_batch("PUT", "couponCode", [{"externalId": "c-1"},
                                                      {"externalId": "c-2"}])
    assert not result.succeeded and result.task_count == 1
    assert len(result.results) == 2
    [failed] = result.errors
    assert (failed.index, failed.external_id, failed.status) == (1, "c-2", 400)
    assert (failed.error_code, failed.detail, failed.error_path) == (
        "INVALID_CONTENT", "Duplicate code.", "code")
