"""A dry run of a scan (R13): would this code apply to this cart now, and what would it give.

`Register.check` answers without a transaction: nothing is held, counted or written, and the
code's history does not change. It reads the store once, in one read transaction: the store's
switches, the customer, the code with its promotion, group and limits, and the customer's uses.
Its refusals are the ones a scan of the code onto a new transaction with this cart would give:
R13's rules from rules.py, in their order, with the same error, message and detail (all but
"already scanned", which only a transaction can hold; tests/redeem/test_dry_run.py walks every
other rule through both). Its discount is the one that scan would show: the code alone on the
cart. A customer's bound codes that auto-apply (R17) would put on a real transaction are not
part of the answer.

Here the read is checks.py's queries and the checks are checks.py's; on PostgreSQL
(server_functions.py) it is one SELECT of the server functions' own read-only parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from connector.redeem import checks, sales
from connector.redeem.discount import Line, stacked
from connector.redeem.results import CheckedCode
from connector.redeem.rules import refused
from connector.redeem.station import Station
from connector.store.statements import Statement
from connector.store.transactions import online

SWITCHES = Statement(select(*checks.SWITCH_COLUMNS))


def check(
    station: Station,
    text: str,
    *,
    customer: str | None,
    mode: str,
    lines: Sequence[Line],
    shipping: Decimal,
) -> CheckedCode:
    """R13 for the normalised code `text` on a cart, read only; raises the refusal a scan
    would (InputError for an unknown customer, as opening the transaction would)."""
    with online(), station.store.read() as conn:
        customer_id = sales.customer_id_of(conn, customer) if customer is not None else None
        switches = checks.switches_from(SWITCHES.first(conn))
        scene = checks.Scene(mode, customer_id, station.today())
        checks.check_mode(scene)
        checks.check_format(text, switches)
        info = checks.FAST_BY_CODE.first(conn, {"code": text})
        if info is None:
            raise refused("unknown", text)
        checks.check_promotion(info, switches)
        checks.check_usable(conn, info, scene)
    return checked_code(info, stacked([checks.terms_of(info)], lines, shipping)[-1])


def checked_code(info: Any, discount: Decimal) -> CheckedCode:
    """The answer for a code (a row with checks.CODE_COLUMNS' names) that would give
    `discount`."""
    return CheckedCode(
        code=info.code,
        promotion=info.promotion,
        discount=discount,
        override=None if info.amount is None else Decimal(info.amount),
        expires_on=info.expires_on if info.expires_on is not None else info.g_end,
    )
