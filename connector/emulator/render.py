"""Stored rows to NetSuite's singular-record JSON (Oracle section_1545141500, section_1545141947).

References become {links, id, refName}; enums {id, refName}; booleans JSON booleans; empty
fields are omitted; sublists are a `links` object unless `expandSubResources=true`, then a
collection. `useCount` is a string, as the 2026.1 schema types it.
"""

from __future__ import annotations

from typing import Any

from connector.emulator.backend import NetSuiteBackend, sublist_lines
from connector.emulator.fields import RecordSpec, render_scalar
from connector.emulator.records import RECORD_TYPES
from connector.emulator.templates import Templates

RECORD_PATH = "/services/rest/record/v1"


def record_href(base: str, spec: RecordSpec, rid: int | str) -> str:
    # UNCONFIRMED: NetSuite's links use the lower-case record type (Oracle's examples only
    # show `customer`); clients read the trailing id either way.
    return f"{base}{RECORD_PATH}/{spec.key}/{rid}"


def render_record(backend: NetSuiteBackend, templates: Templates, spec: RecordSpec,
                  row: dict[str, Any], base: str, expand: bool) -> dict[str, Any]:
    """The GET /record/v1/{type}/{id} body for `row` (from NetSuiteBackend.fetch)."""
    rid = row["id"]
    href = record_href(base, spec, rid)
    out: dict[str, Any] = {"links": [templates.link("self", href)]}
    for fs in spec.fields:
        if fs.transient:
            continue
        value = row.get(fs.column) if fs.column else row.get(fs.name)
        if value is None:
            continue
        if fs.kind == "ref":
            target = RECORD_TYPES[fs.ref_type or ""]
            out[fs.name] = templates.reference(record_href(base, target, value), str(value),
                                               backend.ref_name(target.key, int(value)))
        elif fs.kind == "sublist":
            out[fs.name] = _sublist(templates, href + "/" + fs.name, value, expand)
        elif fs.name == "useCount":
            out[fs.name] = str(value)
        else:
            out[fs.name] = render_scalar(fs, value, backend.options.timezone,
                                         backend.enum_labels(spec, fs))
    out["id"] = str(rid)
    ref_name = row.get(spec.ref_name)
    if ref_name is not None:
        out["refName"] = str(ref_name)
    return out


def _sublist(templates: Templates, href: str, value: Any, expand: bool) -> dict[str, Any]:
    if not expand:
        return {"links": [templates.link("self", href)]}
    return sublist_collection(templates, href, value)


def sublist_collection(templates: Templates, href: str, value: Any) -> dict[str, Any]:
    """Each sublist is {count, hasMore, items, links, offset, totalResults} (2026.1 metadata)."""
    lines = sublist_lines(value)
    return templates.collection([templates.link("self", href)], lines, 0, len(lines))
