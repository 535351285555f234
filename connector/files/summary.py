"""What an import or an export reports back: counts, files, warnings (printed by the CLI)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# The export formats of R11, by the names users type (`codes export --format`).
FORMATS = ("plain", "customers", "netsuite-csv", "usage")


@dataclass
class ImportSummary:
    """`added` new rows, `updated` existing rows, from `lines` data lines of the file."""

    added: int
    updated: int
    lines: int
    warnings: list[str] = field(default_factory=list)
    batch_id: int | None = None  # the code batch of a codes import

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ExportSummary:
    """`rows` data rows (headers not counted) written to `files` ("-" is stdout)."""

    rows: int
    files: list[str]
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
