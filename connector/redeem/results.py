"""What the redemption API returns: a transaction (`Sale`), its codes, a payment's outcomes.

Plain frozen dataclasses; `asdict()` of any of them is what `--json` prints.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.redeem.discount import Line

MODES = ("normal", "returns", "transfers")


@dataclass(frozen=True)
class HeldCode:
    """A code on a transaction. state: held, expired (its hold ran out: remove it), committed
    (redeemed at payment), unused (zero discount at payment, R16)."""

    code: str
    promotion: str
    state: str
    discount: Decimal
    auto: bool
    override: Decimal | None
    expires_on: date | None
    held_until: datetime


@dataclass(frozen=True)
class CheckedCode:
    """What a code would give on a cart if it were scanned now (`Register.check`): nothing is
    held. `override` is the code's own amount, `expires_on` its last valid day."""

    code: str
    promotion: str
    discount: Decimal
    override: Decimal | None
    expires_on: date | None


@dataclass(frozen=True)
class Sale:
    """A register's or web store's transaction (mode normal, returns or transfers)."""

    id: str
    mode: str
    state: str  # open | paid | cancelled
    customer: str | None
    lines: tuple[Line, ...]
    shipping: Decimal
    subtotal: Decimal
    discount: Decimal  # what the codes give (open), or gave (paid)
    codes: tuple[HeldCode, ...]
    opened_at: datetime
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CodeOutcome:
    """What one code did at payment: "redeemed" with its discount, or "not used" and why."""

    code: str
    outcome: str
    discount: Decimal
    reason: str | None = None


@dataclass(frozen=True)
class Payment:
    sale: str
    customer: str | None
    discount: Decimal
    outcomes: tuple[CodeOutcome, ...]
    paid_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CustomerChange:
    """R15/R17: the codes a customer change removed, and those auto-apply added."""

    sale: str
    customer: str | None
    removed: tuple[str, ...]
    applied: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
