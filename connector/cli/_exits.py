"""How a command ends: the exit code and the one line said for each error (main and --report).

0 success; 1 a rule refused the work (bad input, some promotions failed); 2 settings, credentials,
the store or a host that cannot be used; 3 another sync run holds the lock; 130 interrupted
(SIGINT), 143 stopped (SIGTERM); 70 an internal error (a bug).
"""

from __future__ import annotations

import re
import signal
import sys
from types import FrameType

import click

from connector.errors import ConnectorError, StoreError
from connector.text import SHOWN_CHARACTERS, shown

EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 128 + signal.SIGTERM


class Terminated(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """SIGTERM, raised in the main thread so that `finally` blocks and reports still run."""


def raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated("stopped by SIGTERM")


def store_failure(exc: BaseException) -> bool:
    """A database driver error (only possible once SQLAlchemy has been loaded)."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return sa_exc is not None and isinstance(exc, sa_exc.DBAPIError)


def ending(exc: BaseException) -> tuple[int, str]:
    """(exit code, the line said on stderr) for an exception that ends a command; the line is
    empty for a plain exit. Internal errors say only their class and text."""
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code, ""
    if isinstance(exc, SystemExit):
        code = exc.code
        return (code if isinstance(code, int) else (0 if code is None else 1)), ""
    if isinstance(exc, click.exceptions.Abort):
        return EXIT_INTERRUPTED, "aborted"
    if isinstance(exc, click.ClickException):
        return exc.exit_code, f"error: {click_message(exc)}"
    if isinstance(exc, ConnectorError):
        # the store cannot be opened or used: like settings, nothing a rerun alone can fix
        code = 2 if isinstance(exc, StoreError) and exc.exit_code == 1 else exc.exit_code
        return code, f"error: {exc}"
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted"
    if isinstance(exc, Terminated):
        return EXIT_TERMINATED, "stopped by SIGTERM"
    if store_failure(exc):  # the store went away mid-command; its transaction rolled back
        orig = getattr(exc, "orig", None)
        first = (str(orig) if orig is not None else str(exc)).strip().splitlines()
        reason = first[0] if first else type(exc).__name__
        return 2, f"error: lost the connection to the store ({reason}); nothing was stored"
    return EXIT_INTERNAL, (f"internal error: {type(exc).__name__}: {exc} "
                           "(PROMOSYNC_DEBUG=1 shows details)")


_QUOTED = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"")


def click_message(exc: click.ClickException) -> str:
    """Click's message in the CLI's style: one line, lower case first, no closing period, and
    whatever it quotes of the user's input cut short (connector.text.shown)."""
    text = " ".join(exc.format_message().split())
    text = _QUOTED.sub(_cut, text)
    return (text[:1].lower() + text[1:]).removesuffix(".")


def _cut(quoted: re.Match[str]) -> str:
    inside = quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
    # shown() itself leaves SHOWN_CHARACTERS and an ellipsis: such a text is short enough
    return shown(inside) if len(inside) > SHOWN_CHARACTERS + 1 else quoted.group(0)
