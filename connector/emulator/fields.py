"""Field and record-type descriptions, and the conversions JSON body <-> SQLite columns.

A `RecordSpec` says which REST fields a record type has (NETSUITE.md §1.2, §2.1), which SQLite
column holds each (or the JSON `extra` column), and its kind. `to_columns` checks a request body
(wrong types -> 400 INVALID_CONTENT with o:errorPath, §5.2; unknown names per
X-NetSuite-PropertyNameValidation, §3.6); `render_value` turns a stored value back into NetSuite's
JSON (references {links,id,refName}, enums {id,refName}, booleans, dates).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connector.emulator.apierror import ApiError, invalid_content

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
               readonly_error: bool) -> Converted:
    """Check `body` against `spec` and convert it; raise ApiError on the first problem."""
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
        if fs.readonly:
            if readonly_error:
                raise invalid_content(f"The field {name} is read-only and cannot be set.", name)
            continue
        stored = None if value is None else convert_value(fs, value, resolve, name)
        if fs.transient:
            out.transient[name] = stored
        elif fs.column:
            out.columns[fs.column] = stored
        else:
            out.extra[name] = stored
    # §3.6 X-NetSuite-PropertyNameValidation: Error rejects unknown names; Warning (the
    # default) and Ignore drop them. UNCONFIRMED: how NetSuite reports the warning.
    if out.unknown and validation.lower() == "error":
        bad = out.unknown[0]
        raise ApiError(400, "NONEXISTENT_FIELD",
                       f"Invalid field name {bad}. The field does not exist on this record type.",
                       bad)
    return out


def convert_value(fs: FieldSpec, value: Any, resolve: Resolver, path: str) -> Any:
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
        if isinstance(raw, str) and raw in fs.enum:
            return raw
        allowed = ", ".join(fs.enum)
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


def render_datetime(stored: str) -> str:
    """Stored 'YYYY-MM-DD HH:MM:SS' (UTC) -> REST 'YYYY-MM-DDTHH:MM:SSZ'."""
    return stored.replace(" ", "T") + "Z" if " " in stored else stored


def render_scalar(fs: FieldSpec, value: Any) -> Any:
    """Stored value to REST JSON for kinds that need no lookup."""
    if fs.kind == "boolean":
        return value == "T"
    if fs.kind == "date":
        return render_date(str(value))
    if fs.kind == "datetime":
        return render_datetime(str(value))
    if fs.kind == "enum":
        return {"id": value, "refName": fs.enum.get(value, value)}
    if fs.kind == "form":
        return {"id": str(value)}
    return value
