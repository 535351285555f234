"""Codes redeemed at a local register, written to NetSuite as sales orders (where allowed).

A NetSuite sales order needs a customer (`entity`) and item lines; Oracle's example of applying a
promotion to an order sends both with the promotion. The store knows the sale's lines (their
items are NetSuite item ids when the register uses them) but no NetSuite customer ids, so the
customer is the mapping's `redemptions.push_customer`. A redemption that lacks either is not
sent: it is reported, with the reason, and stays pending. Every order is keyed by an external id
made from the local event, so a resent order changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector.errors import NetSuiteError
from connector.netsuite import NetSuiteClient
from connector.store import Store
from connector.sync.local import count_unpushed_local, local_redemptions_to_push, mark_events_pushed
from connector.sync.remote import unordered_map

_Todo = tuple[int, str, str | None, Any]


@dataclass
class PushResult:
    pushed: int = 0
    not_pushed: int = 0
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def order_body(code: str, coupon_id: str, lines: Any, customer: str
               ) -> tuple[dict[str, Any] | None, str | None]:
    """The sales order that records one redemption, or (None, why it cannot be sent)."""
    if not customer:
        return None, (f"{code}: not sent: a sales order needs a customer; set "
                      "redemptions.push_customer in the mapping")
    if not isinstance(lines, list) or not lines:
        return None, f"{code}: not sent: the store has no item lines for its sale"
    items = []
    for line in lines:
        item = str(line.get("item", "")) if isinstance(line, dict) else ""
        if not item.isdigit():
            return None, (f"{code}: not sent: item {item[:30]!r} of its sale is not a NetSuite "
                          "internal id")
        entry: dict[str, Any] = {"item": {"id": item},
                                 "quantity": int(line.get("quantity") or 1)}
        if line.get("amount") is not None:
            entry["amount"] = float(line["amount"])
        items.append(entry)
    return {"entity": {"id": customer}, "item": {"items": items},
            "couponCode": {"id": coupon_id},
            "memo": f"promosync: {code} redeemed at the point of sale"}, None


def push_local_redemptions(store: Store, client: NetSuiteClient, customer: str) -> PushResult:
    result = PushResult()
    with store.read() as conn:
        todo = [t for t in local_redemptions_to_push(conn) if t[2]]
    ready: list[tuple[int, str, dict[str, Any]]] = []
    for event_id, code, nid, lines in todo:
        body, why = order_body(code, str(nid), lines, customer)
        if body is None:
            result.skipped.append(str(why))
        else:
            ready.append((event_id, code, body))

    def one(item: tuple[int, str, dict[str, Any]]) -> tuple[int, str | None]:
        event_id, code, body = item
        try:
            client.upsert("salesOrder", f"promosync-redemption-{event_id}", body)
        except NetSuiteError as exc:
            return event_id, f"{code}: {exc}"
        return event_id, None

    pushed = []
    for _item, (event_id, error) in unordered_map(one, ready, client.concurrency):
        if error:
            result.errors.append(error)
        else:
            pushed.append(event_id)
    with store.begin() as conn:
        mark_events_pushed(conn, pushed)
        result.pushed = len(pushed)
        result.not_pushed = count_unpushed_local(conn)
    return result
