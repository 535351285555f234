"""Imports and exports (R10-R12): customer files, customers, coupon codes in and out.

Readers stream their file and check every line before one store transaction (all or nothing,
with line numbers); exports stream from the store to files written atomically, with
spreadsheet-safe cells. See readers.py, customers.py, imports.py, exports.py and csvsafe.py.
"""

from connector.files.csvsafe import safe_cell
from connector.files.customers import import_customers
from connector.files.exports import FORMATS, chunk_paths, export_codes, export_row_count
from connector.files.imports import import_codes, parse_code_file
from connector.files.readers import read_customer_codes
from connector.files.summary import ExportSummary, ImportSummary

__all__ = [
    "FORMATS",
    "ExportSummary",
    "ImportSummary",
    "chunk_paths",
    "export_codes",
    "export_row_count",
    "import_codes",
    "import_customers",
    "parse_code_file",
    "read_customer_codes",
    "safe_cell",
]
