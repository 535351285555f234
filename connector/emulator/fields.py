"""Field and record-type descriptions, and the conversions JSON body <-> SQLite columns.

A `RecordSpec` says which REST fields a record type has (the 2026.1 REST metadata, as dumped by
public REST API Browser exports), which SQLite column holds each (or the JSON `extra` column),
and its kind. `to_columns` checks a request body (wrong types or a select value outside the
field's enum -> 400 INVALID_CONTENT with o:errorPath, Oracle section_156570709583; unknown names
per X-NetSuite-PropertyNameValidation, or always with `strict`: 400 NONEXISTENT_FIELD);
`render_scalar` turns a stored value back into NetSuite's JSON (enums {id, refName}, booleans,
dates, datetimes in UTC).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connector.emulator.apierror import ApiError, invalid_content
from connector.emulator.dates import utc_iso

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
KINDS = {"string", "integer", "number", "boolean", "date", "datetime", "ref", "enum", "form",
         "any", "sublist"}


@dataclass(frozen=True)
class FieldSpec:
    """One REST body field. `column` None means it lives in the record's `extra` JSON."""

    name: str
    kind: str
    column: str | None = None
    ref_type: str | None = None  # record-type key for kind "ref"
    enum: dict[str, str] = field(default_factory=dict)  # value -> refName for kind "enum"
    readonly: bool = False
    required: bool = False
    transient: bool = False  # accepted on write, never stored (numberToGenerate)
    line_fields: tuple[str, ...] = ()  # for kind "sublist": the fields of one line


@dataclass(frozen=True)
class RecordSpec:
    """A REST record type backed by one SQLite table."""

    key: str  # lower-case URL name
    name: str  # canonical camelCase URL name
    table: str
    fields: tuple[FieldSpec, ...]
    ref_name: str  # column whose value is the refName
    fixed: tuple[tuple[str, str], ...] = ()  # (column, value) a row of this type always has

    @property
    def by_name(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.fields}

    @property
    def by_column(self) -> dict[str, FieldSpec]:
        return {f.column: f for f in self.fields if f.column}


Resolver = Callable[[FieldSpec, dict[str, Any], str], int]


@dataclass
class Converted:
    """A request body split into column values, extra-JSON values and transient values."""

    columns: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    transient: dict[str, Any] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)


def to_columns(spec: RecordSpec, body: object, resolve: Resolver, *, validation: str,
               readonly_error: bool, strict: bool = False,
               enums: dict[str, dict[str, str]] | None = None) -> Converted:
    """Check `body` against `spec` and convert it; raise ApiError on the first problem.

    `strict`: an unknown field (or sublist line field) is an error whatever the validation
    header says; `enums` replaces the value sets of some select fields (field name -> values).
    """
    if not isinstance(body, dict):
        raise invalid_content("The request body must be a JSON object.")
    out = Converted()
    fields = spec.by_name
    for name, value in body.items():
        if name in ("id", "links", "refName"):
            continue  # read-only envelope keys are ignored on write
        fs = fields.get(name)
        if fs is None:
            out.unknown.append(name)
            continue
        if strict and fs.kind == "sublist" and fs.line_fields and value is not None:
            _check_lines(fs, value)
        if fs.readonly:
            if readonly_error:
                raise invalid_content(f"The field {name} is read-only and cannot be set.", name)
            continue
        enum = (enums or {}).get(name)
        stored = None if value is None else convert_value(fs, value, resolve, name, enum)
        if fs.transient:
            out.transient[name] = stored
        elif fs.column:
            out.columns[fs.column] = stored
        else:
            out.extra[name] = stored
    # X-NetSuite-PropertyNameValidation (2026.1 metadata overview): Error rejects unknown
    # names; Warning (the default) and Ignore drop them. UNCONFIRMED: how NetSuite reports
    # the warning.
    if out.unknown and (strict or validation.lower() == "error"):
        bad = out.unknown[0]
        raise ApiError(400, "NONEXISTENT_FIELD",
                       f"Invalid field name {bad}. The field does not exist on this record type.",
                       bad)
    return out


def _check_lines(fs: FieldSpec, value: Any) -> None:
    """Every line of a sublist is an object holding only the sublist's line fields."""
    lines = value.get("items", []) if isinstance(value, dict) else value
    if not isinstance(lines, list):
        raise invalid_content(f"Invalid value type for field {fs.name}: expected a collection "
                              '{"items": [...]}.', fs.name)
    allowed = set(fs.line_fields) | {"links", "refName"}
    for i, line in enumerate(lines):
        path = f"{fs.name}.items[{i}]"
        if not isinstance(line, dict):
            raise invalid_content(f"Invalid value type for {path}: expected an object.", path)
        for key in line:
            if key not in allowed:
                raise ApiError(400, "NONEXISTENT_FIELD",
                               f"Invalid field name {key} in {path}. The field does not exist "
                               "on this sublist.", f"{path}.{key}")


def convert_value(fs: FieldSpec, value: Any, resolve: Resolver, path: str,
                  enum: dict[str, str] | None = None) -> Any:
    """One non-null JSON value to its stored form, or 400 INVALID_CONTENT at `path`."""
    kind = fs.kind
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return "T" if value else "F"
    if kind == "date" and isinstance(value, str) and _DATE.fullmatch(value[:10]):
        return value[:10]
    if kind == "ref":
        return _convert_ref(fs, value, resolve, path)
    if kind == "enum":
        raw = value.get("id") if isinstance(value, dict) else value
        values = fs.enum if enum is None else enum
        if isinstance(raw, str) and raw in values:
            return raw
        allowed = ", ".join(values)
        raise invalid_content(f"Invalid value {raw!r} for field {path}; use one of {allowed}.",
                              path)
    if kind == "form":
        raw = value.get("id") if isinstance(value, dict) else value
        try:
            return int(str(raw))
        except ValueError:
            raise invalid_content(f"Invalid reference for field {path}.", path) from None
    if kind in ("any", "sublist") and isinstance(value, dict | list):
        return value
    raise invalid_content(
        f"Error while accessing a resource. Invalid value type for field {path}: "
        f"expected {kind}, got {type(value).__name__}.", path)


def _convert_ref(fs: FieldSpec, value: Any, resolve: Resolver, path: str) -> int:
    if isinstance(value, str | int) and not isinstance(value, bool):
        value = {"id": value}
    if not isinstance(value, dict) or not ({"id", "externalId"} & value.keys()):
        raise invalid_content(f"Invalid reference for field {path}: expected {{\"id\": ...}}.",
                              path)
    return resolve(fs, value, path)


def render_date(stored: str) -> str:
    return stored[:10]


def render_scalar(fs: FieldSpec, value: Any, tz: str = "UTC",
                  labels: dict[str, str] | None = None) -> Any:
    """Stored value to REST JSON for kinds that need no lookup. Datetimes are stored in the
    account's time zone `tz` and shown in UTC; `labels` replaces an enum's refNames."""
    if fs.kind == "boolean":
        return value == "T"
    if fs.kind == "date":
        return render_date(str(value))
    if fs.kind == "datetime":
        return utc_iso(str(value), tz)
    if fs.kind == "enum":
        return {"id": value, "refName": (fs.enum if labels is None else labels).get(value, value)}
    if fs.kind == "form":
        return {"id": str(value)}
    return value
