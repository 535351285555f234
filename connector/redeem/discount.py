"""What a code gives on a cart (R16): order, item, shipping, fixed-price and free-gift discounts.

Pure functions over a cart (lines and shipping) and a promotion's terms. A code's override amount
(R3) replaces the promotion's discount: the code then gives that amount, capped by what its
promotion applies to on this cart, so a cart where nothing qualifies still gives zero. Codes of
one transaction stack in scan order, each capped by what the earlier ones left of the cart.

On PostgreSQL, promosync_stacked in connector/store/redeem_functions.sql does the same
arithmetic: a change here is a change there (tests/redeem/test_server_path.py compares them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connector.errors import InputError
from connector.text import shown

CENT = Decimal("0.01")
ZERO = Decimal("0")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value: object, what: str = "amount") -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise InputError(f"the {what} {shown(value)} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise InputError(f"the {what} {shown(value)} must be a number of zero or more")
    return money(amount)


@dataclass(frozen=True)
class Line:
    """A cart line: an item, the line's total amount, and how many units it holds."""

    item: str
    amount: Decimal
    quantity: int = 1

    @classmethod
    def make(cls, item: str, amount: object, quantity: object = 1) -> Line:
        name = str(item).strip()
        if not name:
            raise InputError("a line needs an item")
        try:
            qty = int(str(quantity))
        except ValueError:
            raise InputError(f"the quantity {shown(quantity)} is not a whole number") from None
        if qty < 1:
            raise InputError(f"the quantity of {shown(name)} must be at least 1")
        return cls(name, parse_amount(amount, f"amount of {shown(name)}"), qty)

    @classmethod
    def parse(cls, text: str) -> Line:
        """ITEM:AMOUNT or ITEM:AMOUNT:QUANTITY, as the CLI takes them."""
        parts = text.rsplit(":", 2) if text.count(":") >= 2 else text.rsplit(":", 1)
        if len(parts) < 2:
            raise InputError(f"a line is ITEM:AMOUNT[:QUANTITY], not {shown(text)}")
        return cls.make(*parts)

    @property
    def unit_price(self) -> Decimal:
        return self.amount / self.quantity

    def to_json(self) -> dict[str, Any]:
        return {"item": self.item, "amount": str(self.amount), "quantity": self.quantity}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Line:
        return cls(str(data["item"]), Decimal(str(data["amount"])), int(data.get("quantity", 1)))


@dataclass(frozen=True)
class Terms:
    """The parts of a promotion (R1) and of a code (R3) that decide a discount."""

    kind: str
    percent: bool
    rate: Decimal
    min_order: Decimal | None = None
    items: tuple[str, ...] = ()
    gift_item: str | None = None
    override: Decimal | None = None


def _qualifies(line: Line, items: Sequence[str]) -> bool:
    return not items or line.item.upper() in {i.upper() for i in items}


def _rated(base: Decimal, terms: Terms) -> Decimal:
    if terms.percent:
        return base * terms.rate / 100
    return min(terms.rate, base)


def _base_and_promotion(
    terms: Terms, lines: Sequence[Line], shipping: Decimal
) -> tuple[Decimal, Decimal]:
    """(what the promotion applies to on this cart, what the promotion itself gives)."""
    kind = terms.kind
    if kind == "order":
        base = sum((ln.amount for ln in lines), ZERO)
        return base, _rated(base, terms)
    if kind == "shipping":
        return shipping, _rated(shipping, terms)
    listed = [ln for ln in lines if _qualifies(ln, terms.items)]
    if kind == "item":
        base = sum((ln.amount for ln in listed), ZERO)
        if terms.percent:
            return base, base * terms.rate / 100
        return base, sum((min(terms.rate * ln.quantity, ln.amount) for ln in listed), ZERO)
    if kind == "fixed_price":
        base = sum((ln.amount for ln in listed), ZERO)
        gives = sum((max(ln.amount - terms.rate * ln.quantity, ZERO) for ln in listed), ZERO)
        return base, gives
    if kind == "free_gift":
        gift = (terms.gift_item or (terms.items[0] if terms.items else "")).upper()
        prices = [ln.unit_price for ln in lines if ln.item.upper() == gift]
        price = max(prices) if prices else ZERO
        return price, price
    raise InputError(f"unknown promotion kind {shown(kind)}")


def code_discount(terms: Terms, lines: Sequence[Line], shipping: Decimal) -> Decimal:
    """What one code gives on this cart on its own (before stacking), in cents."""
    subtotal = sum((ln.amount for ln in lines), ZERO)
    if terms.min_order is not None and subtotal < terms.min_order:
        return ZERO
    base, gives = _base_and_promotion(terms, lines, shipping)
    if base <= 0:
        return ZERO
    if terms.override is not None and terms.override > 0:
        gives = min(terms.override, base)
    return money(max(gives, ZERO))


def stacked(all_terms: Iterable[Terms], lines: Sequence[Line], shipping: Decimal) -> list[Decimal]:
    """Each code's discount in scan order, each capped by what the earlier codes left (R15)."""
    left = sum((ln.amount for ln in lines), ZERO) + shipping
    result: list[Decimal] = []
    for terms in all_terms:
        given = min(code_discount(terms, lines, shipping), left)
        result.append(money(given))
        left -= given
    return result
