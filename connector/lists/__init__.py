"""Coupon lists (R20-R23): hand codes to users for campaigns, once per user and campaign a day.

    from connector.lists import Distributor
    lists = Distributor(store, timezone="Europe/Berlin")
    lists.create("spring", codes=read_code_file("codes.txt"), warning_limit=100)
    given = lists.assign("spring", user="u-42", campaign="newsletter")

Modules: distributor (the API: create, assign, status, history, export), values (what it
returns), files (the code file a unique list is made from, the usage export).
"""

from connector.files.csvsafe import safe_cell
from connector.lists.distributor import Distributor
from connector.lists.files import EXPORT_COLUMNS, read_code_file
from connector.lists.values import Assignment, Campaign, ListStatus, ListWarning, UserCode

__all__ = [
    "EXPORT_COLUMNS",
    "Assignment",
    "Campaign",
    "Distributor",
    "ListStatus",
    "ListWarning",
    "UserCode",
    "read_code_file",
    "safe_cell",
]
