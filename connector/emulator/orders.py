"""Sales orders and the codes they use: web-store redemptions, later edits, cancellations, and
the rules for a salesOrder written through REST. Called inside the backend's transaction.

Public evidence: a transaction-promotion link (`tranPromotion`: transaction, couponcode,
promocode, ...) records which order used which code; an order can be edited later to add a
code, and then keeps its id while its lastmodifieddate moves; a single-use code on an order
that is cancelled stays used ("becomes invalid and cannot be reused", Oracle
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1519291829.html).
Oracle's example of applying a promotion to a sales order sends `entity`, item lines and the
promotion (section_159795372138); whether a coupon code set on an order consumes it is
UNCONFIRMED (option `sales_order_consumes_code`).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from connector.emulator.apierror import ApiError, invalid_content


def _customer_exists(conn: sqlite3.Connection, customer_id: int | None) -> None:
    if customer_id is not None and conn.execute(
            "SELECT 1 FROM customer WHERE id = ?", [customer_id]).fetchone() is None:
        raise ApiError(404, "NONEXISTENT_ID", f"There is no customer {customer_id}.")


def new_order(conn: sqlite3.Connection, customer_id: int | None, at: str) -> int:
    """A web-store sales order (no code yet) placed at `at` (stored local text)."""
    _customer_exists(conn, customer_id)
    cur = conn.execute(
        'INSERT INTO "transaction" (type, status, customer, entity, trandate, createddate, '
        "lastmodifieddate) VALUES ('SalesOrd', 'B', ?, ?, ?, ?, ?)",
        [customer_id, customer_id, at[:10], at, at])
    tid = int(cur.lastrowid or 0)
    conn.execute('UPDATE "transaction" SET tranid = ? WHERE id = ?', [f"SO{tid}", tid])
    return tid


def coupon_id(conn: sqlite3.Connection, code: str) -> int:
    row = conn.execute("SELECT id FROM couponcode WHERE code = ? ORDER BY id LIMIT 1",
                       [code]).fetchone()
    if row is None:
        raise ApiError(404, "NONEXISTENT_ID", f"There is no coupon code {code}.")
    return int(row[0])


def redeem(conn: sqlite3.Connection, code: str, customer_id: int | None, at: str) -> int:
    """A web-store order placed at `at` uses `code`: a transaction + tranPromotion row."""
    cid = coupon_id(conn, code)
    tid = new_order(conn, customer_id, at)
    apply_coupon_to_order(conn, tid, cid, at)
    return tid


def add_coupon(conn: sqlite3.Connection, transaction_id: int, code: str, now: str) -> None:
    """An existing order is edited to use `code`: a new tranPromotion row; the order keeps its
    id and its lastmodifieddate becomes `now`."""
    row = conn.execute('SELECT 1 FROM "transaction" WHERE id = ?', [transaction_id]).fetchone()
    if row is None:
        raise ApiError(404, "NONEXISTENT_ID", f"There is no transaction {transaction_id}.")
    apply_coupon_to_order(conn, transaction_id, coupon_id(conn, code), now)


def apply_coupon_to_order(conn: sqlite3.Connection, transaction_id: int, coupon: int,
                          now: str) -> None:
    """Mark the code used, count the use, link order and promotion; the order is modified."""
    row = conn.execute("SELECT c.used, c.promotion, p.promotiontype, c.code FROM couponcode c "
                       "JOIN promotioncode p ON p.id = c.promotion WHERE c.id = ?",
                       [coupon]).fetchone()
    if row is None:
        raise invalid_content("The referenced couponCode does not exist.", "couponCode")
    if row[0] == "T":
        raise ApiError(400, "USER_ERROR", f"The coupon code {row[3]} has already been used.",
                       "couponCode")
    conn.execute("UPDATE couponcode SET used = 'T', usecount = usecount + 1, "
                 "lastmodifieddate = ? WHERE id = ?", [now, coupon])
    conn.execute('UPDATE "transaction" SET couponcode = COALESCE(couponcode, ?), '
                 "promocode = COALESCE(promocode, ?), lastmodifieddate = ? WHERE id = ?",
                 [coupon, row[1], now, transaction_id])
    conn.execute('INSERT INTO tranpromotion ("transaction", couponcode, promocode, '
                 "promotiontype, purchasediscount, applicabilitystatus) "
                 "VALUES (?, ?, ?, ?, 0, 'APPLIED')",
                 [transaction_id, coupon, row[1], row[2]])


def cancel(conn: sqlite3.Connection, transaction_id: int, now: str) -> None:
    """Status C (Cancelled); the code stays used."""
    cur = conn.execute('UPDATE "transaction" SET status = \'C\', lastmodifieddate = ? '
                       "WHERE id = ?", [now, transaction_id])
    if cur.rowcount == 0:
        raise ApiError(404, "NONEXISTENT_ID", f"There is no transaction {transaction_id}.")


def check_sales_order(conn: sqlite3.Connection, cols: dict[str, Any],
                      lines: list[Any]) -> None:
    """A new salesOrder needs a customer (`entity`) and at least one item line whose item
    exists (Oracle's example sends entity, item lines and the promotion)."""
    if cols.get("entity") is None:
        raise ApiError(400, "USER_ERROR", "Please enter value(s) for: Customer (entity).",
                       "entity")
    if not lines:
        raise ApiError(400, "USER_ERROR", "You must enter at least one line item for this "
                       "transaction (item.items is empty).", "item")
    for i, line in enumerate(lines):
        path = f"item.items[{i}]"
        ref = line.get("item") if isinstance(line, dict) else None
        raw = ref.get("id") if isinstance(ref, dict) else ref
        if raw is None:
            raise ApiError(400, "USER_ERROR", f"Please enter value(s) for: Item ({path}.item).",
                           f"{path}.item")
        if not str(raw).isdigit() or conn.execute(
                "SELECT 1 FROM item WHERE id = ?", [int(str(raw))]).fetchone() is None:
            raise invalid_content(f"Invalid value for the resource or sub-resource field "
                                  f"'{path}.item'. The referenced item does not exist.",
                                  f"{path}.item")
        quantity = line.get("quantity") if isinstance(line, dict) else None
        if quantity is not None and (isinstance(quantity, bool)
                                     or not isinstance(quantity, int | float) or quantity <= 0):
            raise invalid_content(f"Invalid value for {path}.quantity: a number above 0.",
                                  f"{path}.quantity")


def order_coupons(cols: dict[str, Any], promotions: list[Any]) -> list[int]:
    """The coupon codes an order body names: body couponCode, then promotions lines."""
    found: list[int] = []
    if cols.get("couponcode") is not None:
        found.append(int(cols["couponcode"]))
    for line in promotions:
        ref = line.get("couponCode") if isinstance(line, dict) else None
        raw = ref.get("id") if isinstance(ref, dict) else ref
        if raw is not None and str(raw).isdigit() and int(str(raw)) not in found:
            found.append(int(str(raw)))
    return found
