"""The metadata catalog: what an account says about its records (JSON Schema, OpenAPI, select
options), built from the emulator's record specs and the account options.

Shapes: `GET /services/rest/record/v1/metadata-catalog/` lists the records; `.../{type}` with
`Accept: application/schema+json` is a JSON Schema ({"type": "object", "properties": {...},
"x-ns-filterable": [...]}, the keys public NetSuite clients read: jacobsvante/netsuite
rest_api.py, Airbyte source-netsuite, hotglue tap-netsuite-rest); with
`Accept: application/swagger+json` an OpenAPI 3 document with the record's `paths` and
`components.schemas`. Field names, labels (`title`), types and enum values follow the 2026.1
REST metadata as public REST API Browser dumps show it (wsjmnh/netsuite-record-rest-docs).

Select fields are {"type": "object", "properties": {"id": {..., "enum": [values]},
"refName": {...}}}. Labels of enum values are UNCONFIRMED in the schema: only with option
`discount_labels_in_metadata` does the `id` schema carry them, as
"x-ns-enum-labels": {value: label}. Select options (`Accept: application/vnd.oracle.resource+json;
type=select-options`) answer {field: {"_selectOptions": [{"id", "refName"}]}} - the
`nsResourceSelectOptions` definition of that metadata - only with `select_options_offered`.
"""

from __future__ import annotations

from typing import Any

from connector.emulator.fields import FieldSpec, RecordSpec
from connector.emulator.options import EmulatorOptions
from connector.emulator.records import RECORD_TYPES

Json = dict[str, Any]
CATALOG_PATH = "/services/rest/record/v1/metadata-catalog"
RECORD_PATH = "/services/rest/record/v1"
# Labels ("title") of the 2026.1 metadata; fields without one have none there either.
TITLES: dict[str, dict[str, str]] = {
    "promotioncode": {
        "canBeAutoApplied": "Can be Automatically Applied", "cannotBeCombined":
        "Exclusive Promotion", "code": "Coupon Code", "codePattern": "Code Pattern",
        "description": "Description", "displayLineDiscounts": "Display Line Discounts",
        "endDate": "End Date", "excludeItems": "Exclude Items", "externalId": "External ID",
        "fixedPrice": "Fixed Price", "isInactive": "Inactive",
        "isPublic": "Available to all Customers", "itemQuantifier": "Item Quantity",
        "lastModifiedDate": "Last Modified Date", "minimumOrderAmountCheck":
        "Minimum Order Amount", "name": "Name", "numberToGenerate": "Codes to Generate",
        "rate": "Rate", "repeatDiscount": "Repeat discount incrementally",
        "specificItemsCheck": "Specific Items", "startDate": "Start Date",
        "useCachedCustomerGroup": "Use Cached Customer Group"},
    "couponcode": {"code": "Code", "dateSent": "Date Sent", "externalId": "External ID",
                   "useCount": "Used Count", "used": "Used"},
    "salesorder": {"externalId": "External ID", "tranId": "Transaction Number",
                   "tranDate": "Date", "memo": "Memo", "email": "Email",
                   "otherRefNum": "PO/Check Number", "discountRate": "Rate",
                   "shipDate": "Ship Date", "startDate": "Start Date", "endDate": "End Date",
                   "createdDate": "Date Created", "lastModifiedDate": "Date Last Modified"},
}
# Fields the emulator serves that the 2026.1 metadata does not list.
NOT_IN_METADATA: dict[str, frozenset[str]] = {"couponcode": frozenset({"lastModifiedDate"})}
# Formats that differ from the kind's usual one (promotionCode.lastModifiedDate is a date).
FORMATS: dict[tuple[str, str], str] = {("promotioncode", "lastModifiedDate"): "date"}
_SCALARS: dict[str, Json] = {
    "string": {"type": "string"}, "integer": {"type": "integer", "format": "int64"},
    "number": {"type": "number", "format": "double"}, "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"}}
_LINKS: Json = {"title": "Links", "type": "array", "readOnly": True,
                "items": {"type": "object", "properties": {
                    "rel": {"title": "Relationship", "type": "string"},
                    "href": {"title": "Hypertext Reference", "type": "string"}}}}
_REF_NAME: Json = {"title": "Reference Name", "type": "string"}


def enum_values(spec: RecordSpec, fs: FieldSpec, options: EmulatorOptions) -> dict[str, str]:
    """A select field's values and labels on this account."""
    if spec.key == "promotioncode" and fs.name == "discountType":
        return {v: options.discount_label(v) for v in options.discount_type_values.values()}
    return dict(fs.enum)


def _resource() -> Json:
    return {"type": "object", "properties": {
        "id": {"title": "Internal identifier", "type": "string"},
        "externalId": {"title": "External identifier", "type": "string"},
        "refName": dict(_REF_NAME), "links": dict(_LINKS)}}


def _line(names: tuple[str, ...]) -> Json:
    props: Json = {n: (_resource() if n not in ("quantity", "rate", "amount", "minimumOrderAmount")
                       else dict(_SCALARS["number"])) for n in names}
    props.update({"refName": dict(_REF_NAME), "links": dict(_LINKS)})
    return {"type": "object", "properties": props}


def field_schema(spec: RecordSpec, fs: FieldSpec, options: EmulatorOptions) -> Json:
    """One property of the record's JSON Schema."""
    node: Json = {}
    title = TITLES.get(spec.key, {}).get(fs.name)
    if title:
        node["title"] = title
    if fs.kind in _SCALARS:
        node.update(_SCALARS[fs.kind])
        if (spec.key, fs.name) in FORMATS:
            node["format"] = FORMATS[(spec.key, fs.name)]
        node["nullable"] = True
    elif fs.kind == "enum":
        values = enum_values(spec, fs, options)
        ident: Json = {"title": "Internal identifier", "type": "string", "enum": list(values)}
        if options.discount_labels_in_metadata:
            ident["x-ns-enum-labels"] = values
        node.update({"type": "object", "properties": {"id": ident, "refName": dict(_REF_NAME)}})
    elif fs.kind == "sublist":
        node.update({"type": "object", "properties": {
            "count": {"title": "Count", "type": "integer", "format": "int64", "readOnly": True},
            "hasMore": {"title": "Has More Results", "type": "boolean", "readOnly": True},
            "items": {"type": "array", "items": _line(fs.line_fields)},
            "links": dict(_LINKS),
            "offset": {"title": "Query Offset", "type": "integer", "format": "int64",
                       "readOnly": True},
            "totalResults": {"title": "Total Results", "type": "integer", "format": "int64",
                             "readOnly": True}}})
    else:  # ref, form, any: an nsResource {id, externalId, refName, links}
        node.update(_resource())
    node["x-ns-custom-field"] = False
    return node


def record_schema(spec: RecordSpec, options: EmulatorOptions) -> Json:
    """The record's JSON Schema (Accept: application/schema+json)."""
    hidden = NOT_IN_METADATA.get(spec.key, frozenset())
    fields = [f for f in spec.fields if f.name not in hidden]
    props: Json = {"id": {"title": "Internal ID", "type": "string", "nullable": True}}
    props.update({f.name: field_schema(spec, f, options) for f in fields})
    props.update({"refName": dict(_REF_NAME), "links": dict(_LINKS)})
    filterable = ["id", *(f.name for f in fields if f.column and f.kind != "sublist")]
    return {"type": "object", "properties": dict(sorted(props.items())),
            "x-ns-filterable": sorted(filterable)}


def catalog_list(base: str) -> Json:
    """GET .../metadata-catalog/: every record type with its links."""
    items = []
    for spec in RECORD_TYPES.values():
        href = f"{base}{CATALOG_PATH}/{spec.key}"
        items.append({"name": spec.name, "links": [
            {"rel": "canonical", "href": href, "mediaType": "application/json"},
            {"rel": "alternate", "href": href, "mediaType": "application/swagger+json"},
            {"rel": "alternate", "href": href, "mediaType": "application/schema+json"},
            {"rel": "describes", "href": f"{base}{RECORD_PATH}/{spec.key}"}]})
    return {"links": [{"rel": "self", "href": f"{base}{CATALOG_PATH}"}], "items": items}


def _operation(summary: str, *, prefer: bool = False, path_id: bool = False) -> Json:
    params: list[Json] = []
    if path_id:
        params.append({"name": "id", "in": "path", "required": True,
                       "schema": {"type": "string"}})
    if prefer:
        params.append({"name": "Prefer", "in": "header", "required": True,
                       "schema": {"type": "string", "enum": ["respond-async"]}})
    return {"summary": summary, "parameters": params,
            "responses": {"202" if prefer else "204": {"description": "Accepted" if prefer
                                                       else "No Content"}}}


def openapi(specs: list[RecordSpec], options: EmulatorOptions, base: str) -> Json:
    """OpenAPI 3 (Accept: application/swagger+json). Collection-level batch `put` / `patch` /
    `delete` (Prefer: respond-async required) appear only when the account offers them."""
    paths: Json = {}
    schemas: Json = {}
    for spec in specs:
        collection: Json = {"get": _operation(f"Get list of {spec.name} records."),
                            "post": _operation(f"Insert {spec.name} record.")}
        if options.async_batch_offered:
            for method, verb in (("put", "Upsert"), ("patch", "Update"), ("delete", "Remove")):
                collection[method] = _operation(f"{verb} {spec.name} records in a batch.",
                                                prefer=True)
        paths[f"/{spec.name}"] = collection
        paths[f"/{spec.name}/{{id}}"] = {
            m: _operation(f"{m.upper()} one {spec.name} record.", path_id=True)
            for m in ("get", "patch", "put", "delete")}
        schemas[spec.name] = record_schema(spec, options)
    return {"openapi": "3.0.1",
            "info": {"title": "NetSuite REST Record API", "version": "v1"},
            "servers": [{"url": f"{base}{RECORD_PATH}"}],
            "paths": paths, "components": {"schemas": schemas}}


def select_options(spec: RecordSpec, options: EmulatorOptions) -> Json:
    """Select options of a record's enum fields: {field: {"_selectOptions": [{id, refName}]}}."""
    return {f.name: {"_selectOptions": [{"id": v, "refName": label} for v, label
                                        in enum_values(spec, f, options).items()]}
            for f in spec.fields if f.kind == "enum"}
