"""Redeeming codes at registers and web stores (R13-R19) and the usage limits of R2-R4.

    from connector.redeem import Register
    reg = Register(store, timezone="Europe/Berlin", hold_minutes=15)
    sale = reg.open(customer="C042", lines=["SHIRT:40.00"])
    reg.scan(sale.id, "SU-A8B2C4D6E1F3G5H7")
    reg.pay(sale.id)

Modules: register (the API, and the path chosen once: Python or the PostgreSQL server
functions), station (what a path needs of its register), rules (the one ordered table of
refusals: R13's rules, R14's reasons), checks (the R13 checks in Python), holds (scan and
auto-apply in Python), dry_run (a scan that holds nothing: Register.check), pay (R14 in
Python), server_functions (scan, pay and the dry run on PostgreSQL's server), commit (the
conditional counters), sales (transactions in the store), discount (R16), results (what the
API returns). The database plumbing they run on belongs to the store
(connector/store: statements, transactions, pg_batch, thread_connections).
"""

from connector.redeem.checks import SETTING_FORMAT
from connector.redeem.commit import set_group_limits
from connector.redeem.discount import Line
from connector.redeem.register import Register
from connector.redeem.results import (
    CheckedCode,
    CodeOutcome,
    CustomerChange,
    HeldCode,
    Payment,
    Sale,
)

__all__ = [
    "SETTING_FORMAT",
    "CheckedCode",
    "CodeOutcome",
    "CustomerChange",
    "HeldCode",
    "Line",
    "Payment",
    "Register",
    "Sale",
    "set_group_limits",
]
