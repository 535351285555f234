"""Imports and exports (R10-R12): customer files, customers, coupon codes in and out.

Readers stream their file and check every line before one store transaction (all or nothing,
with line numbers); exports stream from the store to files written atomically, with
spreadsheet-safe cells. See readers.py, customers.py, imports.py, exports.py and csvsafe.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector._lazy import lazy_getattr

if TYPE_CHECKING:
    from connector.files.csvsafe import safe_cell
    from connector.files.customers import import_customers
    from connector.files.exports import chunk_paths, export_codes, export_row_count
    from connector.files.imports import import_codes, parse_code_file
    from connector.files.readers import read_customer_codes
    from connector.files.summary import FORMATS, ExportSummary, ImportSummary

# Resolved on first use, so the command line can name formats without loading the store.
_EXPORTS = {
    "FORMATS": "summary", "ExportSummary": "summary", "ImportSummary": "summary",
    "chunk_paths": "exports", "export_codes": "exports", "export_row_count": "exports",
    "import_codes": "imports", "import_customers": "customers", "parse_code_file": "imports",
    "read_customer_codes": "readers", "safe_cell": "csvsafe",
}

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


__getattr__ = lazy_getattr(__name__, {n: f"connector.files.{m}" for n, m in _EXPORTS.items()},
                           globals())
