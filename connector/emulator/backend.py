"""NetSuiteBackend: the emulator's state and NetSuite's record rules, with no HTTP in it.

Records live in the SQLite database of `db.py`. The rules: externalId unique per record type,
of letters, digits, _ and - only (Oracle section_156334828635, option), and PUT eid: upserts
(Oracle section_156335203191); PATCH omits unchanged fields and null clears (section_1545142173);
useType/customForm immutable and customForm from a known set (section_76112913770); single-use
codes from codePattern + numberToGenerate up to a per-promotion cap; a salesOrder needs entity
and item lines (section_159795372138, option); a promotion used in a transaction cannot be
deleted (UNCONFIRMED, option). Coupon rules live in `coupons.py`, orders in `orders.py`, what
happens outside promosync's requests in `actions.py`, SuiteQL in `suiteql_engine.py`.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from typing import Any

from connector.emulator import coupons, orders
from connector.emulator.actions import AccountActions
from connector.emulator.apierror import ApiError, invalid_content, not_found
from connector.emulator.db import Database
from connector.emulator.drawer import Drawer
from connector.emulator.fields import Converted, FieldSpec, RecordSpec, to_columns
from connector.emulator.options import EmulatorOptions
from connector.emulator.qfilter import where_clause
from connector.emulator.records import RECORD_TYPES, spec_for

Row = dict[str, Any]
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9_-]+")
# Record types whose bodies are checked against the schema (option strict_body_fields).
STRICT_TYPES = frozenset({"promotioncode", "couponcode", "salesorder"})


def sublist_lines(value: Any) -> list[Any]:
    """A sublist as sent ({"items": [...]} or a bare list) -> its lines."""
    if isinstance(value, dict):
        value = value.get("items", [])
    return list(value) if isinstance(value, list) else []


def record_spec(type_name: str) -> RecordSpec:
    spec = spec_for(type_name)
    if spec is None:
        # UNCONFIRMED: NetSuite's answer for an unknown record type in the URL.
        raise ApiError(404, "NONEXISTENT_ID", f"Record type '{type_name}' does not exist.")
    return spec


class NetSuiteBackend(AccountActions):
    """All emulator state and rules. Thread-safe: every method holds the database lock."""

    def __init__(self, options: EmulatorOptions | None = None) -> None:
        self.options = options or EmulatorOptions()
        self.db = Database()
        self.drawer = Drawer()

    @property
    def enums(self) -> dict[str, dict[str, str]]:
        """Select fields whose values and labels the account sets: {field: {value: label}}."""
        o = self.options
        return {"discountType": {v: o.discount_label(v) for v in o.discount_type_values.values()}}

    # ---- reading -------------------------------------------------------------------------
    def resolve_id(self, spec: RecordSpec, ident: str) -> int:
        """Internal id of `ident` ("123" or "eid:abc"), or 404."""
        with self.db.lock:
            if ident.startswith("eid:"):
                rid = self.find_by_external_id(spec, ident[4:])
                if rid is None:
                    raise not_found(spec.name, ident)
                return rid
            if not ident.isdigit() or self.fetch(spec, int(ident)) is None:
                raise not_found(spec.name, ident)
            return int(ident)

    def get_row(self, spec: RecordSpec, ident: str) -> Row:
        """The stored row for "123" or "eid:abc", or 404 (one query for internal ids)."""
        row = self.fetch(spec, int(ident)) if ident.isdigit() else None
        if row is None:
            row = self.fetch(spec, self.resolve_id(spec, ident))
        if row is None:
            raise not_found(spec.name, ident)
        return row

    def find_by_external_id(self, spec: RecordSpec, eid: str) -> int | None:
        where, params = where_clause(spec, None)
        sql = f"SELECT id FROM {spec.table} WHERE externalid = ? AND {where}"
        with self.db.lock:
            row = self.db.conn.execute(sql, [eid, *params]).fetchone()
        return int(row[0]) if row else None

    def fetch(self, spec: RecordSpec, rid: int) -> Row | None:
        """The stored row as {column: value} (extra JSON merged under REST names), or None."""
        self.settle()
        where, params = where_clause(spec, None)
        with self.db.lock:
            cur = self.db.conn.execute(
                f"SELECT * FROM {spec.table} WHERE id = ? AND {where}", [rid, *params])
            row = cur.fetchone()
            if row is None:
                return None
            names = [d[0] for d in cur.description]
        data = dict(zip(names, row, strict=True))
        extra = data.pop("extra", None)
        if extra:
            data.update(json.loads(extra))
        return data

    def ref_name(self, type_key: str, rid: int) -> str | None:
        spec = RECORD_TYPES[type_key]
        with self.db.lock:
            row = self.db.conn.execute(
                f"SELECT {spec.ref_name} FROM {spec.table} WHERE id = ?", [rid]).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def list_ids(self, spec: RecordSpec, q: str | None, limit: int, offset: int
                 ) -> tuple[list[int], int]:
        """One page of ids matching `q` (Oracle section_1545222128) and the total count."""
        self.settle()
        where, params = where_clause(spec, q, self.options.timezone)
        with self.db.lock:
            total = int(self.db.conn.execute(
                f"SELECT COUNT(*) FROM {spec.table} WHERE {where}", params).fetchone()[0])
            rows = self.db.conn.execute(
                f"SELECT id FROM {spec.table} WHERE {where} ORDER BY id LIMIT ? OFFSET ?",
                [*params, limit, offset]).fetchall()
        return [int(r[0]) for r in rows], total

    # ---- writing -------------------------------------------------------------------------
    def convert(self, spec: RecordSpec, body: object, validation: str) -> Converted:
        strict = self.options.strict_body_fields and spec.key in STRICT_TYPES
        conv = to_columns(spec, body, self._resolve_ref, validation=validation,
                          readonly_error=self.options.readonly_field_error, strict=strict,
                          enums=self.enums if spec.key == "promotioncode" else None)
        self.check_external_id_text(conv.columns.get("externalid"), "externalId")
        return conv

    def check_external_id_text(self, eid: object, path: str) -> None:
        """Letters, digits, _ and - only (Oracle section_156334828635; option)."""
        if self.options.strict_external_ids and isinstance(eid, str) and \
                not _EXTERNAL_ID.fullmatch(eid):
            raise invalid_content(f"Invalid value {eid!r} for field {path}: an external ID may "
                                  "contain only letters, digits, underscores (_) and dashes (-).",
                                  path)

    def enum_labels(self, spec: RecordSpec, fs: FieldSpec) -> dict[str, str] | None:
        """refNames of a select field when the account sets them (discountType)."""
        return self.enums.get(fs.name) if spec.key == "promotioncode" else None

    def _resolve_ref(self, fs: FieldSpec, value: dict[str, Any], path: str) -> int:
        target = RECORD_TYPES[fs.ref_type or ""]
        if "id" in value:
            raw = str(value["id"])
            rid = int(raw) if raw.isdigit() else None
        else:
            rid = self.find_by_external_id(target, str(value["externalId"]))
        if rid is None or self.fetch(target, rid) is None:
            raise invalid_content(
                f"Invalid value for the resource or sub-resource field '{path}'. "
                f"The referenced {target.name} does not exist.", path)
        return rid

    def create(self, type_name: str, body: object, validation: str = "Warning") -> int:
        """POST /record/v1/{type} (Oracle section_1545141395): the new internal id."""
        spec = record_spec(type_name)
        drawn = self._draw_ahead(spec, body)
        self.settle()
        with self.db.tx() as conn:
            conv = self.convert(spec, body, validation)
            rid = self._insert(conn, spec, conv, drawn)
        self._generation_time(spec, body)
        return rid

    def upsert(self, type_name: str, external_id: str, body: object,
               validation: str = "Warning") -> tuple[int, bool]:
        """PUT /record/v1/{type}/eid:{x} (Oracle section_156335203191): (id, created)."""
        spec = record_spec(type_name)
        self.check_external_id_text(external_id, "externalId")
        drawn = self._draw_ahead(spec, body)
        self.settle()
        with self.db.tx() as conn:
            conv = self.convert(spec, body, validation)
            given = conv.columns.get("externalid")
            if given is not None and given != external_id:
                raise invalid_content("The externalId in the body differs from the URL.",
                                      "externalId")
            conv.columns["externalid"] = external_id
            rid = self.find_by_external_id(spec, external_id)
            created = rid is None
            if rid is None:
                rid = self._insert(conn, spec, conv, drawn)
            else:
                self._update(conn, spec, rid, conv, drawn=drawn)
        self._generation_time(spec, body)
        return rid, created

    def update(self, type_name: str, ident: str, body: object,
               validation: str = "Warning", replace: frozenset[str] | None = None) -> int:
        """PATCH /record/v1/{type}/{id}: omitted fields unchanged, null clears."""
        spec = record_spec(type_name)
        if ident.startswith("eid:"):
            self.check_external_id_text(ident[4:], "externalId")
        drawn = self._draw_ahead(spec, body)
        self.settle()
        with self.db.tx() as conn:
            rid = self.resolve_id(spec, ident)
            conv = self.convert(spec, body, validation)
            self._update(conn, spec, rid, conv, replace, drawn)
        self._generation_time(spec, body)
        return rid

    def delete(self, type_name: str, ident: str) -> None:
        """DELETE /record/v1/{type}/{id} (Oracle section_1545142287)."""
        spec = record_spec(type_name)
        if ident.startswith("eid:"):
            self.check_external_id_text(ident[4:], "externalId")
        self.settle()
        with self.db.tx() as conn:
            rid = self.resolve_id(spec, ident)
            if spec.key == "promotioncode":
                coupons.check_promotion_deletable(conn, self.options, rid)
                conn.execute("DELETE FROM couponcode WHERE promotion = ?", [rid])
                conn.execute("DELETE FROM _pendingcode WHERE promotion = ?", [rid])
            conn.execute(f"DELETE FROM {spec.table} WHERE id = ?", [rid])

    def _generation_time(self, spec: RecordSpec, body: object) -> None:
        """A generating write answers only after its (simulated) generation time; its codes are
        in already (option generation_seconds_per_100k). Notes pending codes' due time."""
        if spec.key != "promotioncode" or not isinstance(body, dict):
            return
        count = body.get("numberToGenerate")
        if type(count) is not int or count <= 0:
            return
        if self.options.generation_delay_seconds > 0:
            with self.db.lock:
                self.db.next_due = coupons.next_pending_due(self.db.conn)
        seconds = self.options.generation_seconds_per_100k * count / 100_000
        if seconds > 0:
            time.sleep(seconds)

    def _draw_ahead(self, spec: RecordSpec, body: object) -> coupons.Drawn | None:
        """Codes a promotion write will generate, drawn before the lock (coupons.draw_ahead)."""
        if spec.key != "promotioncode":
            return None
        return coupons.draw_ahead(self.options, body, self.drawer)

    def _insert(self, conn: sqlite3.Connection, spec: RecordSpec, conv: Converted,
                drawn: coupons.Drawn | None = None) -> int:
        self._check_external_id(spec, conv.columns.get("externalid"), None)
        cols = dict(conv.columns)
        if spec.key == "promotioncode":
            coupons.check_promotion(self.options, conv, None)
        elif spec.key == "couponcode":
            coupons.check_coupon(conn, self.options, cols, None, self.db.code_counts)
        missing = [f.name for f in spec.fields if f.required and cols.get(f.column or "") is None]
        if missing:
            raise ApiError(400, "USER_ERROR",
                           f"Please enter value(s) for: {', '.join(missing)}", missing[0])
        if spec.key == "salesorder" and self.options.sales_order_requires_lines:
            orders.check_sales_order(conn, cols, sublist_lines(conv.extra.get("item")))
        cols.update(dict(spec.fixed))
        cols["lastmodifieddate"] = self.now()
        if conv.extra:
            sublists = {f.name for f in spec.fields if f.kind == "sublist"}
            cols["extra"] = json.dumps({k: sublist_lines(v) if k in sublists else v
                                        for k, v in conv.extra.items() if v is not None})
        if spec.key == "salesorder":
            cols["customer"] = cols.get("entity")
            cols.setdefault("status", "B")
            cols.setdefault("createddate", cols["lastmodifieddate"])
        names = ", ".join(cols)
        cur = conn.execute(f"INSERT INTO {spec.table} ({names}) VALUES "
                           f"({', '.join('?' * len(cols))})", list(cols.values()))
        rid = int(cur.lastrowid or 0)
        self._after_write(conn, spec, rid, conv, created=True, drawn=drawn)
        return rid

    def _update(self, conn: sqlite3.Connection, spec: RecordSpec, rid: int,
                conv: Converted, replace: frozenset[str] | None = None,
                drawn: coupons.Drawn | None = None) -> None:
        current = self.fetch(spec, rid) or {}
        if "externalid" in conv.columns:
            self._check_external_id(spec, conv.columns["externalid"], rid)
        cols = dict(conv.columns)
        if spec.key == "promotioncode":
            coupons.check_promotion(self.options, conv, current)
        elif spec.key == "couponcode":
            coupons.check_coupon(conn, self.options, {**current, **cols}, rid,
                                 self.db.code_counts)
        for fs in spec.fields:
            if fs.required and fs.column in cols and cols[fs.column] is None:
                raise ApiError(400, "USER_ERROR", f"Please enter value(s) for: {fs.name}", fs.name)
        if conv.extra:
            cols["extra"] = json.dumps(self._merge_extra(conn, spec, rid, conv.extra, replace))
        if spec.key == "salesorder" and "entity" in cols:
            cols["customer"] = cols["entity"]
        cols["lastmodifieddate"] = self.now()
        sets = ", ".join(f"{c} = ?" for c in cols)
        conn.execute(f"UPDATE {spec.table} SET {sets} WHERE id = ?", [*cols.values(), rid])
        self._after_write(conn, spec, rid, conv, created=False, drawn=drawn)

    @staticmethod
    def _merge_extra(conn: sqlite3.Connection, spec: RecordSpec, rid: int,
                     changes: dict[str, Any], replace: frozenset[str] | None) -> dict[str, Any]:
        """Merge PATCH values into the extra JSON: null deletes; sublist lines are appended
        unless the sublist is named in ?replace= (Oracle section_1545297048, non-keyed)."""
        row = conn.execute(f"SELECT extra FROM {spec.table} WHERE id = ?", [rid]).fetchone()
        merged: dict[str, Any] = json.loads(row[0]) if row and row[0] else {}
        sublists = {f.name for f in spec.fields if f.kind == "sublist"}
        for name, value in changes.items():
            if value is None:
                merged.pop(name, None)
            elif name in sublists and name not in (replace or frozenset()):
                merged[name] = sublist_lines(merged.get(name)) + sublist_lines(value)
            else:
                merged[name] = sublist_lines(value) if name in sublists else value
        return merged

    def _after_write(self, conn: sqlite3.Connection, spec: RecordSpec, rid: int,
                     conv: Converted, *, created: bool,
                     drawn: coupons.Drawn | None = None) -> None:
        if spec.key == "promotioncode":
            coupons.maybe_generate(conn, self.options, rid, conv, self.now(), drawn)
        elif spec.key == "salesorder" and self.options.sales_order_consumes_code:
            promotions = sublist_lines(conv.extra.get("promotions"))
            for coupon in orders.order_coupons(conv.columns, promotions):
                linked = conn.execute(
                    'SELECT 1 FROM tranpromotion WHERE "transaction" = ? AND couponcode = ?',
                    [rid, coupon]).fetchone()
                if linked is None:
                    orders.apply_coupon_to_order(conn, rid, coupon, self.now())

    def _check_external_id(self, spec: RecordSpec, eid: str | None, rid: int | None) -> None:
        """One external id per record of a type (Oracle section_N3532463). UNCONFIRMED:
        NetSuite's error code for a second one."""
        if eid is None:
            return
        other = self.find_by_external_id(spec, eid)
        if other is not None and other != rid:
            raise ApiError(400, "USER_ERROR",
                           f"A {spec.name} record with the external ID {eid} already exists.",
                           "externalId")

    def reset(self) -> None:
        """Forget every record, pending code, job, nonce and token."""
        self.db.reset()

    def close(self) -> None:
        """End the code-drawing helper process, if one was started."""
        self.drawer.close()
