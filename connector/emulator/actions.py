"""What happens in the account outside promosync's requests: web-store orders and their codes,
later edits, cancellations, seeded customers and items, and a summary of the state.

`AccountActions` is a part of `NetSuiteBackend` (a mixin): tests call these methods in-process
and the control API (`control.py`, under /__emulator__/) calls them over HTTP. Times are stored
as the account's wall time (option `timezone`); `at` arguments take 'YYYY-MM-DD HH:MM:SS'
(account-local) or ISO 8601 with Z or an offset.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from connector.emulator import coupons, orders, suiteql_engine
from connector.emulator.apierror import ApiError
from connector.emulator.dates import now_text, stored_text
from connector.emulator.db import Database
from connector.emulator.options import EmulatorOptions

# Sample records `seed_samples` adds (internal ids fixed so that docs and demos can name them).
SAMPLE_CUSTOMERS = ((1001, "CUST-1001", "Ada Lovelace", "ada@example.com"),
                    (1002, "CUST-1002", "Grace Hopper", "grace@example.com"),
                    (1003, "CUST-1003", "Alan Turing", "alan@example.com"))
SAMPLE_ITEMS = ((10, "PROMO-DISCOUNT", "Promotion discount", "Discount"),
                (150, "TSHIRT-150", "T-shirt", "InvtPart"),
                (200, "MUG-200", "Mug", "InvtPart"))


class AccountActions:
    """Orders, edits, cancellations, seeding and dumps on the backend's database."""

    db: Database
    options: EmulatorOptions

    def now(self) -> str:
        """The account's wall time now, as stored."""
        return now_text(self.options.timezone)

    def when(self, at: str | datetime | None) -> str:
        """`at` as stored text (None = now); 400 when unreadable."""
        if at is None:
            return self.now()
        try:
            return stored_text(at, self.options.timezone)
        except ValueError as exc:
            raise ApiError(400, "INVALID_CONTENT", str(exc), "at") from None

    def settle(self) -> None:
        """Generated codes whose delay has passed become visible (option
        `generation_delay_seconds`); cheap when nothing is pending."""
        due = self.db.next_due
        if due is None or time.time() < due:
            return
        with self.db.tx() as conn:
            coupons.settle_pending(conn, time.time())
            self.db.next_due = coupons.next_pending_due(conn)

    # ---- orders ---------------------------------------------------------------------------
    def simulate_redemption(self, code: str, customer_id: int | None = None,
                            at: str | datetime | None = None) -> int:
        """A web-store sales order uses `code` (the code becomes used, a tranPromotion row);
        `at` places the order (and its last modification) in the past."""
        self.settle()
        when = self.when(at)
        with self.db.tx() as conn:
            return orders.redeem(conn, code, customer_id, when)

    def simulate_order(self, customer_id: int | None = None,
                       at: str | datetime | None = None) -> int:
        """A web-store sales order without a code, placed at `at` (default now)."""
        when = self.when(at)
        with self.db.tx() as conn:
            return orders.new_order(conn, customer_id, when)

    def add_coupon_to_transaction(self, transaction_id: int, code: str) -> None:
        """An existing order is edited to use `code`: a new tranPromotion row, the order keeps
        its id, its lastmodifieddate moves to now."""
        self.settle()
        with self.db.tx() as conn:
            orders.add_coupon(conn, transaction_id, code, self.now())

    def cancel_transaction(self, transaction_id: int) -> None:
        """Cancel an order: status C; its single-use code STAYS used."""
        with self.db.tx() as conn:
            orders.cancel(conn, transaction_id, self.now())

    def generate_codes(self, promotion_id: int, pattern: str, count: int) -> int:
        """Generate `count` codes of `pattern` for a promotion, as numberToGenerate does."""
        with self.db.tx() as conn:
            made = coupons.generate(conn, self.options, promotion_id, pattern, count, self.now())
            self.db.next_due = coupons.next_pending_due(conn)
            return made

    def discount_meaning(self, promotion_id: int) -> str | None:
        """What NetSuite understood a promotion's discountType as: "percent", "amount", or None
        (no discountType stored)."""
        with self.db.lock:
            row = self.db.conn.execute("SELECT discounttype FROM promotioncode WHERE id = ?",
                                       [promotion_id]).fetchone()
        if row is None:
            raise ApiError(404, "NONEXISTENT_ID", f"There is no promotion {promotion_id}.")
        return None if row[0] is None else self.options.discount_value_meanings().get(row[0])

    # ---- SuiteQL ----------------------------------------------------------------------------
    def suiteql(self, query: object, limit: int = 1000, offset: int = 0
                ) -> tuple[list[dict[str, Any]], int]:
        """POST /query/v1/suiteql: one page of string-valued items and the total."""
        self.settle()
        return suiteql_engine.run(self.db, self.options, query, limit, offset)

    def suiteql_json(self, query: object, limit: int = 1000, offset: int = 0
                     ) -> tuple[str, int, int]:
        """The same page as its items' JSON array text, the item count and the total."""
        self.settle()
        return suiteql_engine.run_json(self.db, self.options, query, limit, offset)

    # ---- seeding and dumps ----------------------------------------------------------------
    def seed(self, customers: int = 0, items: int = 0, discount_items: int = 0
             ) -> dict[str, list[int]]:
        """Add simple customers and items; returns their ids by kind."""
        now = self.now()
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

    def seed_samples(self) -> dict[str, list[int]]:
        """The sample account: customers 1001-1003, discount item 10, items 150 and 200 (the
        ids `emulator serve` prints). Records already there are left as they are."""
        now = self.now()
        with self.db.tx() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO customer (id, entityid, companyname, email, "
                "lastmodifieddate) VALUES (?, ?, ?, ?, ?)",
                [(*c, now) for c in SAMPLE_CUSTOMERS])
            conn.executemany(
                "INSERT OR IGNORE INTO item (id, itemid, displayname, itemtype, "
                "lastmodifieddate) VALUES (?, ?, ?, ?, ?)", [(*i, now) for i in SAMPLE_ITEMS])
        return {"customer": [c[0] for c in SAMPLE_CUSTOMERS],
                "inventoryItem": [i[0] for i in SAMPLE_ITEMS if i[3] == "InvtPart"],
                "discountItem": [i[0] for i in SAMPLE_ITEMS if i[3] == "Discount"]}

    def dump(self) -> dict[str, Any]:
        """Counts per table and a summary per promotion (never the rows of a million codes)."""
        self.settle()
        with self.db.lock:
            promos = self.db.conn.execute(
                "SELECT p.id, p.externalid, p.name, p.usetype, COUNT(c.id), "
                "SUM(CASE WHEN c.used = 'T' THEN 1 ELSE 0 END) FROM promotioncode p "
                "LEFT JOIN couponcode c ON c.promotion = p.id GROUP BY p.id ORDER BY p.id "
                "LIMIT 1000").fetchall()
            return {"counts": self.db.counts(), "promotions": [
                {"id": str(r[0]), "externalId": r[1], "name": r[2], "useType": r[3],
                 "codes": r[4], "used": r[5] or 0} for r in promos]}
