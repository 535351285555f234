"""HTTP translation: Request -> backend -> Response in NetSuite's recorded shapes.

One method per route of `routes.py`. Shapes come from `templates.py` (fixtures/netsuite):
create 204 + Location, singular records with `application/vnd.oracle.resource+json;
type=singular`, collections with self/next/previous/first/last links, SuiteQL pages, async jobs,
governanceLimits, the OAuth 2.0 token endpoint (each fixture names its Oracle page), and the
metadata catalog and select options (`metadata.py`). Every failure is an ApiError rendered as
Oracle's error body (section_156570709583).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from connector.emulator import metadata
from connector.emulator.apierror import ApiError, invalid_content
from connector.emulator.asyncjobs import AsyncJobs, job_href
from connector.emulator.auth import Authenticator, OAuthError
from connector.emulator.backend import NetSuiteBackend, record_spec
from connector.emulator.records import RECORD_TYPES
from connector.emulator.render import record_href, render_record, sublist_collection
from connector.emulator.suiteql_engine import MAX_LIMIT, MAX_RESULTS
from connector.emulator.templates import Templates
from connector.emulator.wire import Request, Response

Params = dict[str, str]


def _validation_mode(req: Request) -> str:
    # X-NetSuite-PropertyNameValidation: Error / Warning / Ignore, default Warning (2026.1
    # metadata overview, as public REST API Browser dumps show it).
    return str(req.headers.get("X-NetSuite-PropertyNameValidation", "Warning"))


def _wants_async(req: Request) -> bool:
    prefer = str(req.headers.get("Prefer", "")).lower()
    return "respond-async" in [p.strip() for p in prefer.replace(";", ",").split(",")]


def _form_request(req: Request) -> str | None:
    """"select-options" / "create-form" / "edit-form" when the Accept header asks for a form's
    metadata instead of a write (`application/vnd.oracle.resource+json; type=...`)."""
    accept = str(req.headers.get("Accept", "")).lower().replace(" ", "")
    for kind in ("select-options", "create-form", "edit-form"):
        if f"type={kind}" in accept:
            return kind
    return None


def _int_param(req: Request, name: str, default: int) -> int:
    raw = req.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, "INVALID_PARAMETER",
                       f"Invalid value for the query parameter {name}: {raw}.") from None


class Handlers:
    """The route handlers; each returns a Response or raises ApiError."""

    def __init__(self, backend: NetSuiteBackend, templates: Templates, auth: Authenticator,
                 jobs: AsyncJobs) -> None:
        self.backend = backend
        self.templates = templates
        self.auth = auth
        self.jobs = jobs
        self._singular = templates.content_types["record"]
        self._collection = templates.content_types["collection"]

    def error(self, err: ApiError) -> Response:
        body = self.templates.error(err.status, err.code, err.detail, err.path, err.title)
        return Response.of_json(err.status, body, self.templates.content_types["error"],
                                err.headers)

    def body(self, req: Request) -> Any:
        try:
            return req.json()
        except (ValueError, UnicodeDecodeError):
            # UNCONFIRMED: NetSuite's o:errorCode for unparseable JSON.
            raise invalid_content("The request body is not valid JSON.") from None

    # ---- records ----------------------------------------------------------------------------
    def list_records(self, req: Request, p: Params) -> Response:
        if _form_request(req):
            return self.form_metadata(req, p)
        spec = record_spec(p["type"])
        limit, offset = _int_param(req, "limit", MAX_LIMIT), _int_param(req, "offset", 0)
        if not 1 <= limit <= MAX_LIMIT or offset < 0 or offset + limit > MAX_RESULTS:
            raise ApiError(400, "INVALID_PARAMETER",
                           f"Invalid paging: limit must be 1 to {MAX_LIMIT}, offset 0 or more, "
                           f"and offset + limit at most {MAX_RESULTS:,}.")
        ids, total = self.backend.list_ids(spec, req.query.get("q"), limit, offset)
        items = [{"links": [self.templates.link("self", record_href(req.base_url, spec, i))],
                  "id": str(i)} for i in ids]
        links = self.page_links(req, limit, offset, total)
        body = self.templates.collection(links, items, offset, total)
        return Response.of_json(200, body, self._collection)

    def page_links(self, req: Request, limit: int, offset: int, total: int
                   ) -> list[dict[str, str]]:
        """Paging links in Oracle's example order (section_1540810951), other params kept."""
        others = [(k, v) for k, v in parse_qsl(req.url.partition("?")[2], keep_blank_values=True)
                  if k not in ("limit", "offset")]
        base = req.base_url + req.path

        def href(off: int) -> str:
            return base + "?" + urlencode([*others, ("limit", limit), ("offset", off)])

        last = max(0, (min(total, MAX_RESULTS) - 1) // limit * limit)
        links = []
        if offset > 0:
            links.append(self.templates.link("previous", href(max(0, offset - limit))))
        links.append(self.templates.link("first", href(0)))
        if offset + limit < total:
            links.append(self.templates.link("next", href(offset + limit)))
        links.append(self.templates.link("last", href(last)))
        links.append(self.templates.link("self", href(offset)))
        return links

    def get_record(self, req: Request, p: Params) -> Response:
        spec = record_spec(p["type"])
        row = self.backend.get_row(spec, p["id"])
        expand = req.query.get("expandSubResources", "").lower() == "true"
        body = render_record(self.backend, self.templates, spec, row, req.base_url, expand)
        return Response.of_json(200, body, self._singular)

    def get_sublist(self, req: Request, p: Params) -> Response:
        spec = record_spec(p["type"])
        row = self.backend.get_row(spec, p["id"])
        field = spec.by_name.get(p["sub"])
        if field is None or field.kind != "sublist":
            raise ApiError(404, "NONEXISTENT_ID", f"There is no sublist {p['sub']}.")
        href = f"{record_href(req.base_url, spec, row['id'])}/{p['sub']}"
        body = sublist_collection(self.templates, href, row.get(p["sub"]))
        return Response.of_json(200, body, self._collection)

    def _written(self, req: Request, type_name: str, rid: int, status: int = 204) -> Response:
        spec = record_spec(type_name)
        location = record_href(req.base_url, spec, rid)
        if status == 200:  # UNCONFIRMED variant: 200 with the record body
            row = self.backend.fetch(spec, rid) or {"id": rid}
            body = render_record(self.backend, self.templates, spec, row, req.base_url, False)
            return Response.of_json(200, body, self._singular, {"Location": location})
        return Response(204, {"Location": location})

    def create(self, req: Request, p: Params) -> Response:
        if _form_request(req):
            return self.form_metadata(req, p)
        rid = self.backend.create(p["type"], self.body(req), _validation_mode(req))
        return self._written(req, p["type"], rid, self.backend.options.create_status)

    def patch(self, req: Request, p: Params) -> Response:
        replace = frozenset(x for x in req.query.get("replace", "").split(",") if x)
        rid = self.backend.update(p["type"], p["id"], self.body(req), _validation_mode(req),
                                  replace)
        return self._written(req, p["type"], rid)

    def put(self, req: Request, p: Params) -> Response:
        if not p["id"].startswith("eid:"):
            # Upsert works only with PUT + eid: (Oracle section_156335203191).
            raise ApiError(400, "INVALID_PARAMETER",
                           "PUT is supported only with an external id: .../{type}/eid:{id}.")
        rid, _created = self.backend.upsert(p["type"], p["id"][4:], self.body(req),
                                            _validation_mode(req))
        return self._written(req, p["type"], rid)

    def delete(self, req: Request, p: Params) -> Response:
        self.backend.delete(p["type"], p["id"])
        return Response(204)

    def batch(self, req: Request, p: Params) -> Response:
        """Collection PUT/PATCH/DELETE: only as an async job (Oracle subsect_161278579295),
        and only where the account offers them (option async_batch_offered)."""
        o = self.backend.options
        if not o.async_batch_offered:
            # UNCONFIRMED: how an account without batch writes answers them.
            raise ApiError(o.async_batch_refused_status, "INVALID_METHOD",
                           f"The method {req.method} is not allowed on the {p['type']} "
                           "collection: batch operations are not available on this account.")
        if not _wants_async(req):
            raise ApiError(400, "INVALID_PARAMETER",
                           "Batch operations on a collection require the header "
                           "Prefer: respond-async.")
        key = req.headers.get("X-NetSuite-Idempotency-Key")
        job_id = self.jobs.submit(req.method, p["type"], self.body(req), key, req.base_url,
                                  _validation_mode(req))
        return Response(202, {"Preference-Applied": "respond-async",
                              "Location": job_href(req.base_url, job_id)})

    # ---- metadata catalog and form metadata ------------------------------------------------
    def catalog(self, req: Request, p: Params) -> Response:
        """GET .../metadata-catalog/[type]: JSON Schema, OpenAPI, or the list of records."""
        o = self.backend.options
        if o.metadata_catalog_delay_seconds > 0:
            time.sleep(o.metadata_catalog_delay_seconds)
        if o.metadata_catalog_error_status is not None:
            raise ApiError(o.metadata_catalog_error_status, "UNEXPECTED_ERROR",
                           "An unexpected error occurred while reading the metadata catalog.")
        accept = str(req.headers.get("Accept", "")).lower()
        name = p.get("mtype")
        if "swagger+json" in accept:
            names = [name] if name else [n for n in req.query.get("select", "").split(",") if n]
            specs = [record_spec(n) for n in names] if names else list(RECORD_TYPES.values())
            body = metadata.openapi(specs, o, req.base_url)
            return Response.of_json(200, body, "application/swagger+json")
        if name is None:
            return Response.of_json(200, metadata.catalog_list(req.base_url), self._collection)
        body = metadata.record_schema(record_spec(name), o)
        return Response.of_json(200, body, "application/schema+json")

    def form_metadata(self, req: Request, p: Params) -> Response:
        """Select options of a record's create form; other form metadata is not played."""
        spec = record_spec(p["type"])
        if _form_request(req) == "select-options" and self.backend.options.select_options_offered:
            body = metadata.select_options(spec, self.backend.options)
            return Response.of_json(200, body, "application/vnd.oracle.resource+json; "
                                    "type=select-options")
        # UNCONFIRMED: how an account that does not offer form metadata answers.
        raise ApiError(400, "INVALID_PARAMETER",
                       f"The requested media type ({req.headers.get('Accept')}) is not "
                       f"supported for {spec.name}.")

    # ---- async jobs --------------------------------------------------------------------------
    def job(self, req: Request, p: Params) -> Response:
        return Response.of_json(200, self.jobs.job(req.base_url, p["job"]))

    def tasks(self, req: Request, p: Params) -> Response:
        return Response.of_json(200, self.jobs.tasks(req.base_url, p["job"]), self._collection)

    def task(self, req: Request, p: Params) -> Response:
        return Response.of_json(200, self.jobs.task(req.base_url, p["job"], p["task"]))

    def task_result(self, req: Request, p: Params) -> Response:
        body = self.jobs.result(req.base_url, p["job"], p["task"])
        return Response.of_json(200, body, self._collection)

    # ---- SuiteQL, governance, OAuth 2.0 ------------------------------------------------------
    def suiteql(self, req: Request, p: Params) -> Response:
        limit, offset = _int_param(req, "limit", MAX_LIMIT), _int_param(req, "offset", 0)
        body = self.body(req)
        query = body.get("q") if isinstance(body, dict) else None
        items, count, total = self.backend.suiteql_json(query, limit, offset)
        links = self.page_links(req, limit, offset, total)
        page = self.templates.collection_text(links, items, count, offset, total)
        return Response(200, {"Content-Type": self._collection}, page.encode("utf-8"))

    def governance(self, req: Request, p: Params) -> Response:
        o = self.backend.options
        body = self.templates.governance(o.account_concurrency_limit,
                                         o.unallocated_concurrency_limit,
                                         o.integration_concurrency_limit)
        return Response.of_json(200, body)

    def token(self, req: Request, p: Params) -> Response:
        form = dict(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))
        try:
            token, seconds = self.auth.issue_token(form)
        except OAuthError as err:
            return Response.of_json(400, {"error": err.code})
        return Response.of_json(200, self.templates.token(token, seconds))
