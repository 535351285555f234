"""Response shapes loaded from fixtures/netsuite/*.json and filled in by the handlers.

Each fixture keeps NetSuite's documented example (its `source` names the page); the functions
here copy the example's key order and replace its values, so the emulator never answers with a
shape that is not in a recorded example (the metadata catalog, built by `metadata.py`, aside).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from connector._resources import data_dir

Json = dict[str, Any]
_ITEMS = "\u0000items\u0000"  # stands for the items in `collection_text` (never in a value)


def _collection(links: list[Json], items: object, count: int, offset: int, total: int) -> Json:
    return {"links": links, "count": count, "hasMore": offset + count < total, "items": items,
            "offset": offset, "totalResults": total}


def fixtures_dir(override: str | None = None) -> Path:
    """Where the templates live: an explicit directory, else fixtures/netsuite of this install."""
    if override:
        return Path(override)
    return data_dir("fixtures") / "netsuite"


@lru_cache(maxsize=64)
def load(name: str, directory: str | None = None) -> Json:
    """The whole fixture file `name`.json (cached; treat as read-only)."""
    path = fixtures_dir(directory) / f"{name}.json"
    with path.open(encoding="utf-8") as fh:
        data: Json = json.load(fh)
    return data


class Templates:
    """Builders for every body shape the emulator sends."""

    def __init__(self, directory: str | None = None) -> None:
        self._dir = directory
        err = load("error", directory)
        self.error_types: dict[int, tuple[str, str]] = {
            int(k): (v[0], v[1]) for k, v in err["statuses"].items()
        }
        self.content_types = {
            n: str(load(n, directory).get("content_type", "application/json"))
            for n in ("record", "collection", "error", "suiteql")
        }
        self._keys = {
            name: list(load(name, directory)["example"].keys())
            for name in ("record", "collection", "suiteql", "error", "async_job", "async_task",
                         "governance_limits", "oauth2_token")
        }

    def keys(self, name: str) -> list[str]:
        return self._keys[name]

    def error(self, status: int, code: str, detail: str, path: str | None = None,
              title: str | None = None) -> Json:
        """Oracle's error body (section_156570709583): {type, title, status, o:errorDetails}."""
        type_uri, default_title = self.error_types.get(
            status, ("https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html", "Error"))
        if title == "Conflict":  # idempotency conflict (subsect_164494900632): 409's link
            type_uri = load("idempotency_conflict", self._dir)["example"]["type"]
        item: Json = {"detail": detail, "o:errorCode": code}
        if path is not None:
            item["o:errorPath"] = path
        return {"type": type_uri, "title": title or default_title, "status": status,
                "o:errorDetails": [item]}

    @staticmethod
    def link(rel: str, href: str) -> Json:
        return {"rel": rel, "href": href}

    def reference(self, href: str, rid: str, ref_name: str | None) -> Json:
        """A reference to another record (Oracle section_1545141500): {links, id, refName}."""
        ref: Json = {"links": [self.link("self", href)], "id": rid}
        if ref_name is not None:
            ref["refName"] = ref_name
        return ref

    def collection(self, links: list[Json], items: list[Json], offset: int, total: int) -> Json:
        """A collection (Oracle section_1540810951): {links, count, hasMore, items, offset,
        totalResults}."""
        return _collection(links, items, len(items), offset, total)

    def collection_text(self, links: list[Json], items: str, count: int, offset: int,
                        total: int) -> str:
        """The same collection as JSON text, around `items` already rendered as a JSON array
        of `count` objects (a SuiteQL page built by SQLite, spliced in as it is)."""
        body = _collection(links, _ITEMS, count, offset, total)
        head, _, tail = json.dumps(body, separators=(",", ":")).rpartition(json.dumps(_ITEMS))
        return head + items + tail

    def job(self, job_href: str, job_id: str, completed: bool, progress: str) -> Json:
        """Async job status (Oracle subsect_161252896355)."""
        return {"links": [self.link("self", job_href)], "completed": completed, "id": job_id,
                "progress": progress, "task": {"links": [self.link("related", job_href + "/task")]}}

    def task(self, task_href: str, task_id: str, completed: bool, progress: str,
             start: str, end: str | None) -> Json:
        """Async task status (Oracle subsect_161252896355) with a `related` link to its result."""
        body: Json = {"links": [self.link("self", task_href),
                                self.link("related", task_href + "/result")],
                      "completed": completed}
        if end is not None:
            body["endTime"] = end
        body.update({"id": task_id, "progress": progress, "startTime": start})
        return body

    def governance(self, account_limit: int, unallocated: int, integration: int | None) -> Json:
        """governanceLimits (Oracle article_0625010817)."""
        body: Json = {"accountConcurrencyLimit": account_limit,
                      "accountUnallocatedConcurrencyLimit": unallocated}
        if integration is not None:
            body["integrationConcurrencyLimit"] = integration
            body["integrationLimitType"] = "integrationSpecific"
        else:
            body["integrationLimitType"] = "accountLimit"
        return body

    @staticmethod
    def token(access_token: str, seconds: int) -> Json:
        """Token endpoint answer (Oracle section_162755359851)."""
        return {"access_token": access_token, "expires_in": str(seconds), "token_type": "bearer"}
