"""`NetSuiteClient`: the door to NetSuite REST records, SuiteQL, async batches and governance.

Every call goes `client -> _retry (one tenacity policy) -> _transport (one signed attempt under
the shared concurrency semaphore) -> requests.Session`. Behaviour follows Oracle's REST
pages (records, paging, headers, SuiteQL, errors, concurrency, auth; see
docs/netsuite-facts.md). POST create is the only non-idempotent call and is not retried
blindly (prefer `upsert`, a PUT on `eid:`, when a write must be safe to repeat).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from connector.errors import (
    InputError,
    NetSuiteBadResponse,
    NetSuiteError,
    NetSuiteNotFound,
    NetSuiteRateLimited,
)
from connector.netsuite._async_jobs import DEFAULT_MAX_ITEMS, AsyncBatchRunner, AsyncJobResult
from connector.netsuite._errors_table import NetSuiteConnectFailed, json_object
from connector.netsuite._pagination import keyset_rows, offset_pages
from connector.netsuite._retry import RetryPolicy, restate
from connector.netsuite._settings import client_kwargs_from_settings
from connector.netsuite._transport import Transport
from connector.netsuite._urls import (
    GOVERNANCE_PATH,
    RECORD_PREFIX,
    SUITEQL_PATH,
    default_base_url,
    eid_path,
    id_from_location,
    normalize_base_url,
    record_path,
    segment,
)

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger("promosync.netsuite.client")


class NetSuiteClient:
    """A thread-safe NetSuite REST client; build it with keywords or `from_settings`."""

    def __init__(
        self,
        *,
        account_id: str,
        auth: AuthBase,
        base_url: str | None = None,
        concurrency: int = 5,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        poll_interval: float = 1.0,
        poll_timeout: float = 900.0,
        async_max_items: int = DEFAULT_MAX_ITEMS,
    ) -> None:
        if concurrency < 1:
            raise InputError("NETSUITE_CONCURRENCY must be at least 1")
        self.account_id = account_id
        self._base_url = normalize_base_url(base_url or default_base_url(account_id))
        self._concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self._owns_session = session is None
        self.session = session or self._new_session(concurrency, self._base_url)
        self.auth = auth
        use_base_url = getattr(auth, "use_base_url", None)
        if callable(use_base_url):
            use_base_url(self._base_url)
        self.transport = Transport(session=self.session, auth=auth, timeout=timeout,
                                   concurrency=concurrency)
        self._async = AsyncBatchRunner(
            call=self._call, json_of=self._json, sleep=self.retry.sleep, clock=self.retry.clock,
            poll_interval=poll_interval, poll_timeout=poll_timeout, max_items=async_max_items)

    @classmethod
    def from_settings(cls, settings: object, **overrides: Any) -> NetSuiteClient:
        """Build from a Settings object (NETSUITE_* values); ConfigError names what is missing."""
        kwargs = client_kwargs_from_settings(settings)
        kwargs.update(overrides)
        return cls(**kwargs)

    @staticmethod
    def _new_session(concurrency: int, base_url: str) -> requests.Session:
        """A pooled session that reads proxy and CA settings from the environment once.

        requests re-reads the whole environment for proxies on every request when trust_env is
        on (measured: about a third of the client's own time per GET); a sync job's environment
        does not change while it runs, so we resolve it here and turn the per-request walk off.
        """
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(10, concurrency))
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.proxies.update(requests.utils.get_environ_proxies(base_url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            session.verify = bundle
        session.trust_env = False
        return session

    def __repr__(self) -> str:
        return (f"NetSuiteClient(base_url={self._base_url!r}, concurrency={self._concurrency}, "
                f"auth={self.auth!r})")

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def concurrency(self) -> int:
        return self._concurrency

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> NetSuiteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
              json_body: Any = None, data: str | None = None,
              headers: dict[str, str] | None = None, idempotent: bool = True,
              timeout: float | None = None, retry: RetryPolicy | None = None
              ) -> requests.Response:
        """One logical request: retried by the policy (or `retry`), each attempt signed afresh;
        `timeout` (seconds) overrides the client's for this request."""
        url = self._base_url + path

        def attempt(number: int) -> requests.Response:
            return self.transport.send(method, url, params=params, json_body=json_body,
                                       data=data, headers=headers, attempt=number,
                                       timeout=timeout)

        return (retry or self.retry).call(attempt, idempotent=idempotent,
                                          describe=f"{method} {path}",
                                          before_retry=self._before_retry)

    def _before_retry(self, error: NetSuiteError) -> None:
        if error.status == 401:  # an OAuth 2.0 token may have been revoked: mint a new one
            invalidate = getattr(self.auth, "invalidate", None)
            if callable(invalidate):
                invalidate()

    @staticmethod
    def _json(resp: requests.Response) -> dict[str, Any]:
        return json_object(resp.status_code, resp.content, method=str(resp.request.method),
                           url=str(resp.url))

    def _written_id(self, resp: requests.Response) -> str | None:
        """Id from Location (204), else from a 200/201 record body (Oracle: any 2xx succeeds)."""
        found = id_from_location(resp.headers.get("Location"))
        if found is None and resp.content.strip():
            body = self._json(resp)
            found = str(body["id"]) if body.get("id") is not None else None
        return found

    # -- records (create, read, update, upsert, list) ------------------------------------

    def create(self, record_type: str, body: dict[str, Any]) -> str:
        """POST a new record; the id comes from Location. Not retried once it may have landed."""
        try:
            resp = self._call("POST", record_path(record_type), json_body=body, idempotent=False)
        except NetSuiteError as exc:
            if not exc.retryable or isinstance(exc, NetSuiteConnectFailed | NetSuiteRateLimited):
                raise
            raise restate(exc, f"{exc}; not retried: the {record_type} may have been created, "
                               "check before creating it again (or use upsert by external id)"
                          ) from exc
        found = self._written_id(resp)
        if found is None:
            raise NetSuiteBadResponse(
                f"NetSuite created a {record_type} ({resp.status_code}) but sent no Location/id",
                status=resp.status_code, method="POST", url=resp.url)
        return found

    def get(self, record_type: str, id: str | int, *, expand: bool = False) -> dict[str, Any]:
        """GET one record by internal id; `expand` adds expandSubResources=true."""
        params = {"expandSubResources": "true"} if expand else None
        return self._json(self._call("GET", record_path(record_type, id), params=params))

    def get_by_external_id(self, record_type: str, eid: str) -> dict[str, Any] | None:
        """GET .../eid:{externalId}; None when NetSuite answers 404."""
        try:
            return self._json(self._call("GET", eid_path(record_type, eid)))
        except NetSuiteNotFound:
            return None

    def upsert(self, record_type: str, external_id: str, body: dict[str, Any], *,
               resend: bool = True, timeout: float | None = None) -> str | None:
        """PUT .../eid:{externalId}: create or update by external id (idempotent, retried).

        `resend=False` is for a write that is not idempotent although keyed (one that makes
        NetSuite generate codes): a dropped connection or a timeout is raised at once, for the
        caller to find out what landed, instead of sending the write again."""
        return self._written_id(self._call("PUT", eid_path(record_type, external_id),
                                           json_body=body, idempotent=resend, timeout=timeout))

    def patch(self, record_type: str, id: str | int, body: dict[str, Any], *,
              replace: str | Sequence[str] | None = None) -> None:
        """PATCH fields; `replace` names sublists whose lines are replaced."""
        params = None
        if replace:
            names = [replace] if isinstance(replace, str) else list(replace)
            params = {"replace": ",".join(names)}
        self._call("PATCH", record_path(record_type, id), params=params, json_body=body)

    def delete(self, record_type: str, id: str | int) -> None:
        """DELETE one record by internal id (204)."""
        self._call("DELETE", record_path(record_type, id))

    def list_ids(self, record_type: str, *, q: str | None = None,
                 page_size: int = 1000) -> Iterator[str]:
        """Internal ids from the record list, paged by offset (<= 100,000 rows)."""
        path = record_path(record_type)

        def fetch(limit: int, offset: int) -> dict[str, Any]:
            params: dict[str, Any] = {"limit": limit, "offset": offset}
            if q:
                params["q"] = q
            return self._json(self._call("GET", path, params=params))

        hint = "narrow q= or use suiteql_keyset() (WHERE id > {after} ORDER BY id)"
        for page in offset_pages(fetch, page_size=page_size, what=f"{record_type} list",
                                 hint=hint):
            for item in page["items"]:
                found = _row(item).get("id")
                if found is None:
                    raise NetSuiteBadResponse(f"{record_type} list: a row without an id")
                yield str(found)

    # -- SuiteQL -------------------------------------------------------------------------

    def _suiteql_post(self, query: str, limit: int, offset: int) -> requests.Response:
        """POST suiteql?limit=&offset= with Prefer: transient and {"q": ...}."""
        return self._call("POST", SUITEQL_PATH, params={"limit": limit, "offset": offset},
                          json_body={"q": query}, headers={"Prefer": "transient"})

    def suiteql_page(self, query: str, *, limit: int, offset: int) -> dict[str, Any]:
        """One raw page of a SuiteQL query, parsed."""
        return self._json(self._suiteql_post(query, limit, offset))

    def suiteql_page_or(self, query: str, *, limit: int, offset: int,
                        take: Callable[[str], T | None]) -> T | dict[str, Any]:
        """One page as `suiteql_page` gets it, offered first to `take` as the body's text:
        what `take` returns, or (when it returns None, or the body is not UTF-8) the parsed
        page. A caller that can use the body as it came (sync's read-back hands whole pages
        to SQLite) so skips building a Python object per row."""
        resp = self._suiteql_post(query, limit, offset)
        try:
            taken = take(resp.content.decode("utf-8"))
        except UnicodeDecodeError:
            taken = None
        return self._json(resp) if taken is None else taken

    def suiteql(self, query: str, *, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """Rows of a query paged by offset; refuses past 100,000 rows (use suiteql_keyset)."""

        def fetch(limit: int, offset: int) -> dict[str, Any]:
            return self.suiteql_page(query, limit=limit, offset=offset)

        for page in offset_pages(fetch, page_size=page_size, what="SuiteQL query"):
            yield from (_row(item) for item in page["items"])

    def suiteql_keyset(self, query_template: str, *, key: str = "id", start_after: int | str = 0,
                       page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """Rows of `WHERE key > {after} ... ORDER BY key` pages, offset 0 each time; no cap."""
        if "{after}" not in query_template:
            raise InputError("a keyset SuiteQL query needs '{after}' where the last key goes, "
                             f"e.g. WHERE {key} > {{after}} ORDER BY {key}")

        def fetch(after: str) -> dict[str, Any]:
            query = query_template.replace("{after}", after)
            return self.suiteql_page(query, limit=page_size, offset=0)

        rows = keyset_rows(fetch, key=key, start_after=start_after, page_size=page_size,
                           what="SuiteQL keyset query")
        yield from (_row(item) for item in rows)

    # -- async batches, governance, concurrency ----------------------------------------------

    def async_batch(self, method: str, record_type: str,
                    items: Sequence[dict[str, Any]]) -> AsyncJobResult:
        """Collection write with Prefer: respond-async; polls the job to its end."""
        return self._async.run(method, record_type, items)

    def metadata_catalog(self, record_type: str, *, openapi: bool = False,
                         timeout: float | None = None,
                         retry: RetryPolicy | None = None) -> dict[str, Any]:
        """The account's description of a record: JSON Schema, or OpenAPI with `openapi`
        (GET .../record/v1/metadata-catalog/{type}; it can be slow, hence `timeout`)."""
        accept = "application/swagger+json" if openapi else "application/schema+json"
        path = f"{RECORD_PREFIX}/metadata-catalog/{segment(record_type)}"
        return self._json(self._call("GET", path, headers={"Accept": accept}, timeout=timeout,
                                     retry=retry))

    def governance_limits(self) -> dict[str, Any]:
        """GET /services/rest/system/v1/governanceLimits (admin roles only)."""
        return self._json(self._call("GET", GOVERNANCE_PATH))

    def map_concurrent(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Run `fn` over `items` on `concurrency` threads; results in input order.

        Every item runs even if some fail; then the error of the first failing item (in input
        order) is raised. Requests stay within the shared semaphore whatever `fn` does.
        """
        work = list(items)
        if not work:
            return []
        with ThreadPoolExecutor(max_workers=self._concurrency,
                                thread_name_prefix="netsuite") as pool:
            futures = [pool.submit(fn, item) for item in work]
            wait(futures)
        for future in futures:
            error = future.exception()
            if error is not None:
                raise error
        return [future.result() for future in futures]


def _row(item: object) -> dict[str, Any]:
    """A SuiteQL row without its (empty) `links` list; a row that is not an object is refused."""
    if not isinstance(item, dict):
        raise NetSuiteBadResponse(f"NetSuite sent a row that is not an object "
                                  f"({type(item).__name__})")
    return {k: v for k, v in item.items() if k != "links"}
