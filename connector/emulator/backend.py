"""NetSuiteBackend: the emulator's state and NetSuite's record rules, with no HTTP in it.

Records live in the SQLite database of `db.py`. The rules (each citing NETSUITE.md):
externalId unique per record type and PUT eid: upserts (§3.2); PATCH with null clears (§3.2);
useType/customForm immutable and customForm from a known set (§1.4, options); single-use codes
from codePattern + numberToGenerate (§1.2, §2.2) up to a per-promotion cap (§2.3); a promotion
used in a transaction cannot be deleted (§1.6, option). Coupon rules and redemptions live in
`coupons.py`; SuiteQL in `suiteql.py`.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from connector.emulator import coupons, suiteql
from connector.emulator.apierror import ApiError, invalid_content, not_found
from connector.emulator.db import Database, now_text
from connector.emulator.drawer import Drawer
from connector.emulator.fields import Converted, FieldSpec, RecordSpec, to_columns
from connector.emulator.options import EmulatorOptions
from connector.emulator.qfilter import where_clause
from connector.emulator.records import RECORD_TYPES, spec_for

Row = dict[str, Any]


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


class NetSuiteBackend:
    """All emulator state and rules. Thread-safe: every method holds the database lock."""

    def __init__(self, options: EmulatorOptions | None = None) -> None:
        self.options = options or EmulatorOptions()
        self.db = Database()
        self.drawer = Drawer()

    # ---- reading -------------------------------------------------------------------------
    def resolve_id(self, spec: RecordSpec, ident: str) -> int:
        """Internal id of `ident` ("123" or "eid:abc"), or 404 (§3.2)."""
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
        """One page of ids matching `q` (§3.3, §3.4) and the total count."""
        where, params = where_clause(spec, q)
        with self.db.lock:
            total = int(self.db.conn.execute(
                f"SELECT COUNT(*) FROM {spec.table} WHERE {where}", params).fetchone()[0])
            rows = self.db.conn.execute(
                f"SELECT id FROM {spec.table} WHERE {where} ORDER BY id LIMIT ? OFFSET ?",
                [*params, limit, offset]).fetchall()
        return [int(r[0]) for r in rows], total

    # ---- writing -------------------------------------------------------------------------
    def convert(self, spec: RecordSpec, body: object, validation: str) -> Converted:
        return to_columns(spec, body, self._resolve_ref, validation=validation,
                          readonly_error=self.options.readonly_field_error)

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
        """POST /record/v1/{type} (§3.2): the new internal id."""
        spec = record_spec(type_name)
        drawn = self._draw_ahead(spec, body)
        with self.db.tx() as conn:
            conv = self.convert(spec, body, validation)
            return self._insert(conn, spec, conv, drawn)

    def upsert(self, type_name: str, external_id: str, body: object,
               validation: str = "Warning") -> tuple[int, bool]:
        """PUT /record/v1/{type}/eid:{x} (§3.2): (id, created)."""
        spec = record_spec(type_name)
        drawn = self._draw_ahead(spec, body)
        with self.db.tx() as conn:
            conv = self.convert(spec, body, validation)
            given = conv.columns.get("externalid")
            if given is not None and given != external_id:
                raise invalid_content("The externalId in the body differs from the URL.",
                                      "externalId")
            conv.columns["externalid"] = external_id
            rid = self.find_by_external_id(spec, external_id)
            if rid is None:
                return self._insert(conn, spec, conv, drawn), True
            self._update(conn, spec, rid, conv, drawn=drawn)
            return rid, False

    def update(self, type_name: str, ident: str, body: object,
               validation: str = "Warning", replace: frozenset[str] | None = None) -> int:
        """PATCH /record/v1/{type}/{id} (§3.2): omitted fields unchanged, null clears."""
        spec = record_spec(type_name)
        drawn = self._draw_ahead(spec, body)
        with self.db.tx() as conn:
            rid = self.resolve_id(spec, ident)
            conv = self.convert(spec, body, validation)
            self._update(conn, spec, rid, conv, replace, drawn)
            return rid

    def delete(self, type_name: str, ident: str) -> None:
        """DELETE /record/v1/{type}/{id} (§1.6)."""
        spec = record_spec(type_name)
        with self.db.tx() as conn:
            rid = self.resolve_id(spec, ident)
            if spec.key == "promotioncode":
                coupons.check_promotion_deletable(conn, self.options, rid)
                conn.execute("DELETE FROM couponcode WHERE promotion = ?", [rid])
            conn.execute(f"DELETE FROM {spec.table} WHERE id = ?", [rid])

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
            coupons.check_coupon(conn, self.options, cols, None)
        missing = [f.name for f in spec.fields if f.required and cols.get(f.column or "") is None]
        if missing:
            raise ApiError(400, "USER_ERROR",
                           f"Please enter value(s) for: {', '.join(missing)}", missing[0])
        cols.update(dict(spec.fixed))
        cols["lastmodifieddate"] = now_text()
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
            coupons.check_coupon(conn, self.options, {**current, **cols}, rid)
        for fs in spec.fields:
            if fs.required and fs.column in cols and cols[fs.column] is None:
                raise ApiError(400, "USER_ERROR", f"Please enter value(s) for: {fs.name}", fs.name)
        if conv.extra:
            cols["extra"] = json.dumps(self._merge_extra(conn, spec, rid, conv.extra, replace))
        if spec.key == "salesorder" and "entity" in cols:
            cols["customer"] = cols["entity"]
        cols["lastmodifieddate"] = now_text()
        sets = ", ".join(f"{c} = ?" for c in cols)
        conn.execute(f"UPDATE {spec.table} SET {sets} WHERE id = ?", [*cols.values(), rid])
        self._after_write(conn, spec, rid, conv, created=False, drawn=drawn)

    @staticmethod
    def _merge_extra(conn: sqlite3.Connection, spec: RecordSpec, rid: int,
                     changes: dict[str, Any], replace: frozenset[str] | None) -> dict[str, Any]:
        """Merge PATCH values into the extra JSON: null deletes (§3.2); sublist lines are
        appended unless the sublist is named in ?replace= (§3.5, non-keyed sublists)."""
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
            coupons.maybe_generate(conn, self.options, rid, conv, drawn)
        elif spec.key == "salesorder" and created and conv.columns.get("couponcode"):
            coupons.apply_coupon_to_order(conn, rid, int(conv.columns["couponcode"]))

    def _check_external_id(self, spec: RecordSpec, eid: str | None, rid: int | None) -> None:
        """§3.2: one external id per record of a type. UNCONFIRMED: NetSuite's error code."""
        if eid is None:
            return
        other = self.find_by_external_id(spec, eid)
        if other is not None and other != rid:
            raise ApiError(400, "USER_ERROR",
                           f"A {spec.name} record with the external ID {eid} already exists.",
                           "externalId")

    # ---- redemptions and control ------------------------------------------------------------
    def simulate_redemption(self, code: str, customer_id: int | None = None) -> int:
        """A sales order in NetSuite uses `code`: the code becomes used (§2.3, §2.5)."""
        with self.db.tx() as conn:
            return coupons.redeem(conn, code, customer_id)

    def cancel_transaction(self, transaction_id: int) -> None:
        """Cancel an order: status C; its single-use code STAYS used (§2.3)."""
        with self.db.tx() as conn:
            coupons.cancel(conn, transaction_id)

    def generate_codes(self, promotion_id: int, pattern: str, count: int) -> int:
        """Generate `count` codes of `pattern` for a promotion, as numberToGenerate does."""
        with self.db.tx() as conn:
            return coupons.generate(conn, self.options, promotion_id, pattern, count)

    def suiteql(self, query: object, limit: int = 1000, offset: int = 0
                ) -> tuple[list[dict[str, Any]], int]:
        """POST /query/v1/suiteql (§4): one page of string-valued items and the total."""
        return suiteql.run(self.db, self.options, query, limit, offset)

    def suiteql_json(self, query: object, limit: int = 1000, offset: int = 0
                     ) -> tuple[str, int, int]:
        """The same page as its items' JSON array text, the item count and the total."""
        return suiteql.run_json(self.db, self.options, query, limit, offset)

    def reset(self) -> None:
        """Forget every record, job, nonce and token."""
        self.db.reset()

    def close(self) -> None:
        """End the code-drawing helper process, if one was started."""
        self.drawer.close()

    def seed(self, customers: int = 0, items: int = 0, discount_items: int = 0
             ) -> dict[str, list[int]]:
        """Add simple customers and items; returns their ids by kind."""
        now = now_text()
        out: dict[str, list[int]] = {"customer": [], "inventoryItem": [], "discountItem": []}
        with self.db.tx() as conn:
            for i in range(customers):
                cur = conn.execute(
                    "INSERT INTO customer (entityid, companyname, email, lastmodifieddate) "
                    "VALUES (?, ?, ?, ?)", [f"CUST{i + 1:05d}", f"Customer {i + 1}",
                                            f"customer{i + 1}@example.com", now])
                out["customer"].append(int(cur.lastrowid or 0))
            for kind, item_type, n in (("inventoryItem", "InvtPart", items),
                                       ("discountItem", "Discount", discount_items)):
                for i in range(n):
                    cur = conn.execute(
                        "INSERT INTO item (itemid, displayname, itemtype, lastmodifieddate) "
                        "VALUES (?, ?, ?, ?)", [f"{kind}-{i + 1}", f"{kind} {i + 1}",
                                                item_type, now])
                    out[kind].append(int(cur.lastrowid or 0))
        return out

    def dump(self) -> dict[str, Any]:
        """Counts per table and a summary per promotion (never the rows of a million codes)."""
        with self.db.lock:
            promos = self.db.conn.execute(
                "SELECT p.id, p.externalid, p.name, p.usetype, COUNT(c.id), "
                "SUM(CASE WHEN c.used = 'T' THEN 1 ELSE 0 END) FROM promotioncode p "
                "LEFT JOIN couponcode c ON c.promotion = p.id GROUP BY p.id ORDER BY p.id "
                "LIMIT 1000").fetchall()
            return {"counts": self.db.counts(), "promotions": [
                {"id": str(r[0]), "externalId": r[1], "name": r[2], "useType": r[3],
                 "codes": r[4], "used": r[5] or 0} for r in promos]}
