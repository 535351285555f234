"""`--log-format json` (R45): stderr as one JSON object per line, for a scheduler's log reader.

Each log record becomes {"time": ISO 8601 UTC, "level", "logger", "message", ...extra fields}.
Everything else a command writes on stderr (the CLI's warnings and its closing error line,
progress lines, the human lines `--json` moves to stderr) is wrapped the same way, one object
per line, with the logger `promosync.cli`: a reader of stderr never meets a line that is not
JSON. stdout is left as it is: it holds what the command was asked for (its table, its --json
document, a sync run's summary), which a scheduler reads as the command's result, not as logs.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

FORMATS = ("text", "json")
FORMAT_ENV = "PROMOSYNC_LOG_FORMAT"
_json_mode = False  # set by setup() for main()'s closing line
# attributes every LogRecord has: anything else on a record is an extra field
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


def line(text: str, level: str | None = None) -> str:
    """A plain stderr line as the JSON object it becomes (its level read from its start)."""
    words = text.strip()
    if level is None:
        head = words.split(":", 1)[0].lower()
        level = ("error" if head in ("error", "internal error", "aborted", "interrupted")
                 or head.startswith("stopped by") else
                 "warning" if head == "warning" else "info")
    return json.dumps({"time": _now(), "level": level, "logger": "promosync.cli",
                       "message": words}, ensure_ascii=False)


class JsonLines(io.TextIOBase):
    """A stderr that turns every line written to it into a JSON object (a line that already
    is one, a log record, passes as it is)."""

    def __init__(self, under: TextIO) -> None:
        self.under = under
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._partial += text
        *whole, self._partial = self._partial.split("\n")
        for one in whole:
            if one.strip():
                self.under.write(one + "\n" if _is_json(one) else line(one) + "\n")
        self.under.flush()
        return len(text)

    def flush(self) -> None:
        self.under.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.under, "encoding", None) or "utf-8"

    def fileno(self) -> int:
        return self.under.fileno()

    def end(self) -> TextIO:
        """Write what is left of a last line; the stream it wraps."""
        if self._partial.strip():
            self.under.write(line(self._partial) + "\n")
        self._partial = ""
        self.under.flush()
        return self.under


def _is_json(text: str) -> bool:
    if not text.startswith("{"):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def setup(level: int, fmt: str) -> None:
    """Logging at `level` on stderr, as text or JSON (JSON: stderr wrapped, see JsonLines)."""
    global _json_mode
    _json_mode = fmt == "json"
    if fmt == "json":
        if not isinstance(sys.stderr, JsonLines):
            sys.stderr = JsonLines(sys.stderr)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level, handlers=[handler])
    else:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: "
                            "%(message)s", stream=sys.stderr)


def said(text: str, argv: list[str]) -> str:
    """The command's closing line (`error: ...`) as stderr takes it in the chosen format (also
    when the command line was refused before --log-format took effect)."""
    asked = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--log-format"),
                 next((a.partition("=")[2] for a in argv if a.startswith("--log-format=")),
                      os.environ.get(FORMAT_ENV, "")))
    wanted = _json_mode or asked.strip().lower() == "json"
    return line(text) if wanted and not _is_json(text) else text


def forget() -> None:
    global _json_mode
    _json_mode = False


def restore() -> None:
    """Undo the stderr wrapping (a command run in-process, as tests do, leaves none behind)."""
    if isinstance(sys.stderr, JsonLines):
        sys.stderr = sys.stderr.end()
