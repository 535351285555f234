"""How messages show what a user gave: quoted and cut short, counted with plurals, one line.

Every message that echoes input (a pattern, a code, a name, a file's cell) goes through `shown`,
so that a 20,000-character pattern or a 100,000-character code is quoted by its first few dozen
characters and its length, never whole. `plural` writes counts the one way the CLI writes them
("1 code", "2 codes", "100,510 requests"). `one_line` refuses text holding a control character
(newline, tab, NUL, ...) for names and texts that go to NetSuite or into a one-line table.

Pure: no store, no I/O, importable before anything else is loaded.
"""

from __future__ import annotations

import re

from connector.errors import InputError

SHOWN_CHARACTERS = 40
# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_NAMES = {"\n": "a line break", "\r": "a line break", "\t": "a tab", "\x00": "a NUL"}


def shown(value: object, limit: int = SHOWN_CHARACTERS, *, quote: bool = True) -> str:
    """`value` quoted for a message; past `limit` characters, cut and followed by its length.

    >>> shown("A" * 20_000)
    "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA…' (20,000 characters)"

    `quote=False` leaves text the message names as itself (a code format: "[AN.4]") unquoted.
    """
    text = str(value)
    head = text if len(text) <= limit else text[:limit] + "…"
    head = repr(head) if quote else head
    return head if len(text) <= limit else f"{head} ({len(text):,} characters)"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` with thousands separators and the noun in the right number ("1 code", "2 codes")."""
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"


def control_character(value: str) -> str | None:
    """What the first control character of `value` is ("a tab", "U+0007"), None if it has none."""
    found = _CONTROL.search(value)
    if found is None:
        return None
    char = found.group()
    return _CONTROL_NAMES.get(char, f"the control character U+{ord(char):04X}")


def one_line(value: str, what: str) -> str:
    """`value` unchanged, or an InputError naming `what` when it holds a control character."""
    bad = control_character(value)
    if bad is not None:
        raise InputError(f"{what} {shown(value)} holds {bad}; it must be one line of text")
    return value
