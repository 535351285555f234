"""R33 contract: the same requests against the in-process emulator, the HTTP server on
127.0.0.1 and (with NETSUITE_SANDBOX=1) a real sandbox give NetSuite's statuses, headers and
JSON shapes (the Oracle pages each fixture names)."""

from __future__ import annotations

import time
import uuid

from requests_oauthlib import OAuth1

from .conftest import Target, oauth1

SINGULAR = "application/vnd.oracle.resource+json; type=singular"


def _eid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _create_customer(target: Target, **fields: object) -> str:
    body = {"companyName": "Contract Test Co", "externalId": _eid("ct"), **fields}
    r = target.call("POST", "/record/v1/customer", json=body)
    assert r.status_code in (200, 204), r.text
    return r.headers["Location"].rsplit("/", 1)[1]


def test_R33_create_returns_204_with_location(target: Target) -> None:
    r = target.call("POST", "/record/v1/customer",
                    json={"companyName": "Acme", "externalId": _eid("acme")})
    assert r.status_code == 204
    assert r.content == b""
    assert r.headers["Location"].startswith(target.rest + "/record/v1/customer/")
    assert r.headers["Location"].rsplit("/", 1)[1].isdigit()


def test_R33_get_record_has_singular_content_type_links_and_string_id(target: Target) -> None:
    rid = _create_customer(target, companyName="Shape Inc")
    r = target.call("GET", f"/record/v1/customer/{rid}")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith(SINGULAR)
    body = r.json()
    assert body["id"] == rid and body["companyName"] == "Shape Inc"
    assert body["links"][0]["rel"] == "self" and body["links"][0]["href"].endswith(f"/{rid}")


def test_R33_record_types_are_case_insensitive_in_the_url(target: Target) -> None:
    rid = _create_customer(target)
    assert target.call("GET", f"/record/v1/CUSTOMER/{rid}").status_code == 200
    assert target.call("GET", f"/record/v1/Customer/{rid}").json()["id"] == rid


def test_R33_upsert_by_external_id_creates_then_updates(target: Target) -> None:
    eid = _eid("up")
    first = target.call("PUT", f"/record/v1/customer/eid:{eid}", json={"companyName": "One"})
    assert first.status_code == 204
    second = target.call("PUT", f"/record/v1/customer/eid:{eid}", json={"companyName": "Two"})
    assert second.status_code == 204
    got = target.call("GET", f"/record/v1/customer/eid:{eid}").json()
    assert got["companyName"] == "Two" and got["externalId"] == eid
    assert first.headers["Location"] == second.headers["Location"]


def test_R33_patch_null_clears_a_field_and_keeps_the_others(target: Target) -> None:
    rid = _create_customer(target, companyName="Keep", email="a@example.com")
    r = target.call("PATCH", f"/record/v1/customer/{rid}", json={"email": None})
    assert r.status_code == 204
    got = target.call("GET", f"/record/v1/customer/{rid}").json()
    assert "email" not in got and got["companyName"] == "Keep"


def test_R33_list_with_q_filter_and_paging_links(target: Target) -> None:
    eid = _eid("q")
    rid = _create_customer(target, externalId=eid)
    r = target.call("GET", "/record/v1/customer", params={"q": f'externalId IS "{eid}"'})
    assert r.status_code == 200
    page = r.json()
    assert set(page) >= {"links", "count", "hasMore", "items", "offset", "totalResults"}
    assert [i["id"] for i in page["items"]] == [rid]
    assert page["count"] == 1 and page["hasMore"] is False and page["offset"] == 0
    assert {link["rel"] for link in page["links"]} >= {"self"}


def test_R33_unknown_id_is_404_with_error_body(target: Target) -> None:
    r = target.call("GET", "/record/v1/customer/999999999")
    assert r.status_code == 404
    body = r.json()
    assert body["status"] == 404 and body["o:errorDetails"][0]["o:errorCode"]


def test_R33_wrong_type_is_400_invalid_content_with_path(target: Target) -> None:
    r = target.call("POST", "/record/v1/customer", json={"companyName": 12345})
    assert r.status_code == 400
    detail = r.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INVALID_CONTENT"
    assert detail.get("o:errorPath") == "companyName"


def test_R33_malformed_json_is_400(target: Target) -> None:
    r = target.call("POST", "/record/v1/customer", data=b"{not json",
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["title"] == "Bad Request"


def test_R33_unknown_field_rejected_only_with_validation_error(target: Target) -> None:
    body = {"companyName": "Fields", "noSuchField": 1, "externalId": _eid("f")}
    strict = target.call("POST", "/record/v1/customer", json=body,
                         headers={"X-NetSuite-PropertyNameValidation": "Error"})
    assert strict.status_code == 400
    assert strict.json()["o:errorDetails"][0].get("o:errorPath") == "noSuchField"
    lenient = target.call("POST", "/record/v1/customer", json=body)  # default: Warning
    assert lenient.status_code == 204


def test_R33_unsigned_request_is_401_invalid_login(target: Target) -> None:
    r = target.call("GET", "/record/v1/customer", auth=None)
    assert r.status_code == 401
    body = r.json()
    assert body["title"] == "Unauthorized"
    assert body["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"


def test_R33_realm_must_keep_its_case(target: Target) -> None:
    wrong = target.creds.account_id.lower()
    r = target.call("GET", "/record/v1/customer", auth=oauth1(target.creds, realm=wrong))
    assert r.status_code == 401


def test_R33_wrong_secret_is_401(target: Target) -> None:
    r = target.call("GET", "/record/v1/customer",
                    auth=oauth1(target.creds, client_secret="not-the-secret"))
    assert r.status_code == 401


def test_R33_reused_nonce_is_401(target: Target) -> None:
    fixed = OAuth1(target.creds.consumer_key, target.creds.consumer_secret,
                   target.creds.token_id, target.creds.token_secret,
                   signature_method="HMAC-SHA256", realm=target.creds.account_id,
                   nonce="fixed-nonce-" + uuid.uuid4().hex, timestamp=str(int(time.time())))
    assert target.call("GET", "/record/v1/customer", auth=fixed,
                       params={"limit": 1}).status_code == 200
    assert target.call("GET", "/record/v1/customer", auth=fixed,
                       params={"limit": 1}).status_code == 401


def test_R33_stale_timestamp_is_401(target: Target) -> None:
    stale = OAuth1(target.creds.consumer_key, target.creds.consumer_secret,
                   target.creds.token_id, target.creds.token_secret,
                   signature_method="HMAC-SHA256", realm=target.creds.account_id,
                   timestamp=str(int(time.time()) - 3600))
    assert target.call("GET", "/record/v1/customer", auth=stale).status_code == 401


def test_R33_suiteql_page_shape_and_string_values(target: Target) -> None:
    rid = _create_customer(target)
    r = target.call("POST", "/query/v1/suiteql", params={"limit": 5},
                    json={"q": f"SELECT id, isinactive FROM customer WHERE id = {rid}"},
                    headers={"Prefer": "transient"})
    assert r.status_code == 200
    page = r.json()
    assert set(page) >= {"links", "count", "hasMore", "items", "offset", "totalResults"}
    assert page["items"] == [{"links": [], "id": rid, "isinactive": "F"}]


def test_R33_suiteql_past_100000_results_is_400(target: Target) -> None:
    r = target.call("POST", "/query/v1/suiteql", params={"limit": 1000, "offset": 100000},
                    json={"q": "SELECT id FROM customer"}, headers={"Prefer": "transient"})
    assert r.status_code == 400


def test_R33_suiteql_syntax_error_is_400_not_500(target: Target) -> None:
    r = target.call("POST", "/query/v1/suiteql", json={"q": "SELEKT nothing FROM"},
                    headers={"Prefer": "transient"})
    assert r.status_code == 400
    assert r.json()["o:errorDetails"][0]["detail"]


def test_R33_governance_limits_shape(target: Target) -> None:
    r = target.call("GET", "/system/v1/governanceLimits")
    assert r.status_code == 200
    body = r.json()
    assert isinstance(body["accountConcurrencyLimit"], int)
    assert "integrationLimitType" in body


def test_R33_async_batch_upsert_job_and_results(target: Target) -> None:
    eids = [_eid("b"), _eid("b")]
    r = target.call("PUT", "/record/v1/customer",
                    json={"items": [{"externalId": e, "companyName": e} for e in eids]},
                    headers={"Prefer": "respond-async",
                             "X-NetSuite-Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 202
    assert r.headers["Preference-Applied"] == "respond-async"
    job_url = r.headers["Location"]
    assert "/services/rest/async/v1/job/" in job_url
    deadline = time.monotonic() + 60
    job = {}
    while time.monotonic() < deadline:
        job = target.call("GET", job_url.split("/services/rest", 1)[1]).json()
        if job["completed"]:
            break
        time.sleep(1)
    assert job["completed"] is True and job["progress"] == "succeeded"
    for eid in eids:
        assert target.call("GET", f"/record/v1/customer/eid:{eid}").status_code == 200
