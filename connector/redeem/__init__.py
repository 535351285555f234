"""Redeeming codes at registers and web stores (R13-R19) and the usage limits of R2-R4.

    from connector.redeem import Register
    reg = Register(store, timezone="Europe/Berlin", hold_minutes=15)
    sale = reg.open(customer="C042", lines=["SHIRT:40.00"])
    reg.scan(sale.id, "SU-A8B2C4D6E1F3G5H7")
    reg.pay(sale.id)

Modules: checks (the ordered R13 checks), discount (R16), commit (the conditional UPDATEs),
sales (transactions in the store), register (the API), pay (R14), history (R3 events).
"""

from connector.redeem.checks import SETTING_FORMAT
from connector.redeem.commit import set_group_limits
from connector.redeem.discount import Line
from connector.redeem.register import Register
from connector.redeem.results import CodeOutcome, CustomerChange, HeldCode, Payment, Sale

__all__ = [
    "SETTING_FORMAT",
    "CodeOutcome",
    "CustomerChange",
    "HeldCode",
    "Line",
    "Payment",
    "Register",
    "Sale",
    "set_group_limits",
]
