"""`--report FILE` of the sync commands: its folder checked before any work, and the JSON
written atomically (a temporary file in the same folder, then renamed over FILE), so a reader
never sees half a report and a report is never left saying what an earlier run did."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from connector.errors import ConfigError


def checked(path: str, what: str = "the report") -> Path:
    """FILE, once its folder is known to exist and take a new file (exit 2 otherwise); `what`
    names the file in the error."""
    target = Path(path).expanduser()
    folder = target.parent
    if not folder.is_dir():
        raise ConfigError(f"cannot write {what} {path}: the folder {folder} does not exist")
    if target.is_dir():
        raise ConfigError(f"cannot write {what} {path}: it is a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{target.name}.",
                                         suffix=".check") as probe:
            probe.write(b"{}")
    except OSError as exc:
        raise ConfigError(f"cannot write {what} {path}: {exc.strerror} "
                          f"(folder {folder})") from None
    return target


def _mode(target: Path) -> int:
    """The mode of the report being replaced, or of a new file under the current umask."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def write(target: Path, data: dict[str, Any]) -> None:
    """Write the report atomically."""
    write_atomically(target, json.dumps(data, indent=2, default=str) + "\n", "the report")


def write_atomically(target: Path, text: str, what: str) -> None:
    """Write `text` to a temporary file beside `target`, flushed to disk, renamed over it (a
    reader sees the old file or the new one, never half of one); `what` names it in an error."""
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _mode(target))  # mkstemp makes 0600: keep what a plain write would give
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise ConfigError(f"cannot write {what} {target}: {exc.strerror}") from None
        raise
