"""R41: the API's answers as JSON: gateway.plain, the fast path every answer takes, gives what
values.jsonable (the CLI's --json) gives, for every kind of value an endpoint returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum

from connector.models import EventKind
from connector.redeem import CheckedCode, CodeOutcome, HeldCode, Line, Payment, Sale
from connector.serve.gateway import plain
from connector.values import jsonable

NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)


class Colour(Enum):
    RED = "red"


@dataclass(frozen=True)
class Odd:
    kinds: frozenset[str]
    colour: Colour
    event: EventKind


def test_R41_answers_encode_as_jsonable_does() -> None:
    held = HeldCode("SU-A", "P", "held", Decimal("5.00"), False, None, date(2026, 4, 1), NOW)
    sale = Sale("TXN-1", "normal", "open", "C1", (Line("SHIRT", Decimal("40.00"), 2),),
                Decimal("0"), Decimal("40.00"), Decimal("5.00"), (held,), NOW)
    paid = Payment("TXN-1", None, Decimal("5.00"),
                   (CodeOutcome("SU-A", "redeemed", Decimal("5.00")),), NOW)
    values = [
        sale, paid, held,
        CheckedCode("SU-A", "P", Decimal("1.50"), Decimal("2"), None),
        {"lists": [{"n": 1, "ok": True, "x": 1.5, "none": None}], 7: (date(2026, 1, 2),)},
        Odd(frozenset({"a"}), Colour.RED, EventKind.REDEEMED),
        "text", 3, None,
    ]
    for value in values:
        assert plain(value) == jsonable(value)
    assert plain(sale)["codes"][0]["held_until"] == "2026-03-10T12:30:00+00:00"
    assert plain(paid)["outcomes"][0]["discount"] == "5.00"
