"""Output that is safe to open and never half-written: spreadsheet-safe cells, atomic files.

Spreadsheet safety (OWASP "CSV injection"): a cell that starts with ``=``, ``+``, ``-``, ``@``,
a TAB or a CR is read as a formula by Excel, LibreOffice and Google Sheets. Every cell of every
CSV export goes through `safe_cell`, which puts an apostrophe in front of such a cell; the csv
module quotes any cell holding a comma, a quote or a line break. The rule is applied to every
cell alike, coupon codes included. Imported codes can never start with one of these characters
(the importer refuses them), but a generated code can start with ``-`` when its pattern or prefix
does; such a code is written as ``'-...`` in the CSV exports (the export reports how many) and
as it is in the plain one-code-per-line export, which is not meant for a spreadsheet.

Atomic files: `AtomicFiles` writes each output to a temporary file beside its final path and
renames them all into place only when the whole export succeeded, so a failed export leaves
nothing, not a truncated file.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from connector.errors import InputError

FORMULA_TRIGGERS = frozenset("=+-@\t\r")
STDOUT = "-"
_BUFFER = 1 << 20


def safe_cell(value: str) -> str:
    """`value` with a leading apostrophe when a spreadsheet would read it as a formula."""
    if value[:1] in FORMULA_TRIGGERS:
        return "'" + value
    return value


def needs_guard(value: str) -> bool:
    return value[:1] in FORMULA_TRIGGERS


class AtomicFiles:
    """Temporary files that become their final paths together, or disappear together."""

    def __init__(self) -> None:
        self._open: list[tuple[TextIO, Path, Path]] = []

    def open(self, final: str | Path) -> TextIO:
        """A text stream whose content will appear at `final` on `commit()`; "-" is stdout."""
        if str(final) == STDOUT:
            return sys.stdout
        target = Path(final)
        if not target.parent.is_dir():
            raise InputError(f"cannot write {target}: the folder {target.parent} does not exist")
        if target.is_dir():
            raise InputError(f"cannot write {target}: it is a folder")
        try:
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        except OSError as exc:
            raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None
        os.chmod(tmp, _file_mode(target))  # mkstemp makes 0600; give what a new file gets
        stream = os.fdopen(fd, "w", encoding="utf-8", newline="", buffering=_BUFFER)
        self._open.append((stream, Path(tmp), target))
        return stream

    def commit(self) -> list[str]:
        """Flush every file to disk and rename it into place; returns the final paths."""
        done: list[str] = []
        try:
            for stream, _tmp, _final in self._open:
                stream.flush()
                os.fsync(stream.fileno())
                stream.close()
            for _stream, tmp, final in self._open:
                os.replace(tmp, final)
                done.append(str(final))
        except OSError as exc:
            self.abort()
            raise InputError(f"cannot write the export: {exc.strerror or exc}") from None
        self._open.clear()
        return done

    def abort(self) -> None:
        """Close and delete every temporary file (already renamed ones are left alone)."""
        for stream, tmp, _final in self._open:
            with contextlib.suppress(OSError):
                stream.close()
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self._open.clear()


def _file_mode(target: Path) -> int:
    """The mode of the file being replaced, else 0666 less the process umask."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@contextlib.contextmanager
def atomic_files() -> Iterator[AtomicFiles]:
    """`with atomic_files() as files:` commit on success; on any error, nothing is left behind."""
    files = AtomicFiles()
    try:
        yield files
    except BaseException:
        files.abort()
        raise
