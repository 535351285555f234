"""Code formats and generation (R5-R8): pure, no store, no I/O beyond the OS random source.

A format compiles to a list of segments: literal text, or a run of `n` random characters drawn
from an alphabet. Three ways to say a format:

* a NetSuite pattern (R5): ``ABC-[AN.3]-[A.3]-[N.3]``; tokens ``[A.n]`` (23 letters),
  ``[N.n]`` (8 digits), ``[AN.n]`` (31 letters or digits), never 1, 0, I, L or O;
* the point-of-sale format (R6): ``SU-`` and 16 characters from A-Z and 0-9;
* generic options (R7): length, allowed characters, prefix, suffix.

Randomness comes from ``os.urandom`` (the OS CSPRNG). Bytes are mapped to an alphabet by
rejection sampling (bytes at or above the largest multiple of the alphabet size are dropped), so
every character is equally likely; the mapping runs in C through ``bytes.translate``, which is
what makes a million codes a fraction of a second.
"""

from __future__ import annotations

import gc
import math
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from connector.errors import MAX_BATCH, MSG_COUNT_NOT_POSITIVE, MSG_COUNT_TOO_LARGE, InputError
from connector.text import one_line, shown

LETTERS = "ABCDEFGHJKMNPQRSTUVWXYZ"  # 23: no I, L, O
DIGITS = "23456789"  # 8: no 0, 1
ALNUM = LETTERS + DIGITS  # 31
SU_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"  # R6: A-Z and 0-9
SU_PREFIX = "SU-"
SU_LENGTH = 16

TOKEN_ALPHABETS = {"A": LETTERS, "N": DIGITS, "AN": ALNUM}
NAMED_CHARSETS = {
    "safe": ALNUM,
    "alnum": SU_ALPHABET,
    "alpha": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "digits": "0123456789",
    "hex": "0123456789ABCDEF",
}
# Literal text a code may hold. Codes are stored upper-case (R3), so literals are upper-cased.
_LITERAL_OK = re.compile(r"[A-Z0-9._\-]+")
_TOKEN = re.compile(r"\[([A-Za-z]+)\.(\d+)\]")
MAX_CODE_LENGTH = 64
# Any code a generator or an import can store, and the point-of-sale format (R6), matched whole.
ANY_CODE = re.compile(rf"[A-Z0-9._\-]{{1,{MAX_CODE_LENGTH}}}")
SU_CODE = re.compile(rf"{SU_PREFIX}[A-Z0-9]{{{SU_LENGTH}}}")
CODE_CHARACTERS = f"A-Z, 0-9, . _ -, up to {MAX_CODE_LENGTH}"  # ANY_CODE in words

# Guessability (R8). The chance that one random guess hits a live code is codes / capacity.
# Above 1 in 10,000 we warn; above 1 in 100 a brute-force guesser wins within minutes of an
# online form, and rejection sampling slows down, so we refuse unless the caller insists.
WARN_DENSITY = 1e-4
REFUSE_DENSITY = 1e-2

RandomBytes = Callable[[int], bytes]


@dataclass(frozen=True)
class Random:
    """`length` characters drawn uniformly from `alphabet`."""

    alphabet: str
    length: int


Segment = str | Random


@dataclass(frozen=True)
class CodeFormat:
    """A compiled code format: segments, the text that described it, and its capacity."""

    segments: tuple[Segment, ...]
    source: str

    @property
    def capacity(self) -> int:
        """How many distinct codes this format can make."""
        total = 1
        for seg in self.segments:
            if isinstance(seg, Random):
                total *= len(seg.alphabet) ** seg.length
        return total

    @property
    def name(self) -> str:
        """The format as messages show it: its source text, cut when long."""
        return shown(self.source, quote=False)

    @property
    def length(self) -> int:
        return sum(len(s) if isinstance(s, str) else s.length for s in self.segments)

    @property
    def regex(self) -> re.Pattern[str]:
        parts = []
        for seg in self.segments:
            if isinstance(seg, str):
                parts.append(re.escape(seg))
            else:
                parts.append(f"[{re.escape(seg.alphabet)}]{{{seg.length}}}")
        return re.compile("".join(parts))

    def matches(self, code: str) -> bool:
        return self.regex.fullmatch(code.strip().upper()) is not None

    def check_count(
        self, count: int, existing: int = 0, allow_guessable: bool = False
    ) -> str | None:
        """Refuse a count the format cannot supply or that makes codes guessable.

        Returns a warning text when codes would be somewhat guessable, None when all is well.
        `existing` is how many codes of this same format the store already holds.
        """
        check_count(count)
        cap = self.capacity
        if count + existing > cap:
            left = max(cap - existing, 0)
            raise InputError(
                f"the format {self.name} can make only {cap:,} distinct codes "
                f"({left:,} left); {count:,} were asked for"
            )
        density = (count + existing) / cap
        odds = f"1 in {max(int(1 / density), 1):,}"
        if density > REFUSE_DENSITY and not allow_guessable:
            raise InputError(
                f"the format {self.name} is too small for {count:,} codes: a random guess "
                f"would hit a live code {odds} times; use more random characters "
                "(or --allow-guessable)"
            )
        if density > WARN_DENSITY:
            return f"codes of {self.name} are guessable: a random guess hits a live code {odds}"
        return None


def check_count(count: object) -> int:
    """R9: a batch is 1 to 1,000,000 codes; anything else gets the R9 message."""
    if isinstance(count, bool):
        raise InputError(MSG_COUNT_NOT_POSITIVE)
    if isinstance(count, str):
        text = count.strip().replace(",", "").replace("_", "")
        if not re.fullmatch(r"[+-]?\d+", text):
            raise InputError(MSG_COUNT_NOT_POSITIVE)
        count = int(text)
    if not isinstance(count, int) or count <= 0:
        raise InputError(MSG_COUNT_NOT_POSITIVE)
    if count > MAX_BATCH:
        raise InputError(MSG_COUNT_TOO_LARGE)
    return count


def parse_pattern(pattern: str) -> CodeFormat:
    """Compile a NetSuite code pattern (R5), or raise InputError saying what is wrong where."""
    if not pattern:
        raise InputError("the pattern cannot be empty")
    one_line(pattern, "the pattern")
    if any(ch.isspace() for ch in pattern):
        raise InputError(f"the pattern {shown(pattern)} has a space; NetSuite patterns allow none")
    segments: list[Segment] = []
    pos = 0
    for m in _TOKEN.finditer(pattern):
        _add_literal(segments, pattern, pattern[pos : m.start()], pos)
        name, width = m.group(1).upper(), int(m.group(2))
        if name not in TOKEN_ALPHABETS:
            raise InputError(
                f"the pattern {shown(pattern)} has an unknown token "
                f"[{shown(m.group(1), quote=False)}.{shown(m.group(2), 8, quote=False)}] at "
                f"position {m.start() + 1:,}; use [A.n], [N.n] or [AN.n]"
            )
        if width < 1:
            raise InputError(
                f"the pattern {shown(pattern)} has a zero-width token at position {m.start() + 1:,}"
            )
        segments.append(Random(TOKEN_ALPHABETS[name], width))
        pos = m.end()
    _add_literal(segments, pattern, pattern[pos:], pos)
    fmt = CodeFormat(tuple(segments), pattern)
    if not any(isinstance(s, Random) for s in segments):
        raise InputError(
            f"the pattern {shown(pattern)} has no random token; every code would be equal"
        )
    _check_length(fmt)
    return fmt


def _add_literal(segments: list[Segment], pattern: str, text: str, offset: int) -> None:
    if not text:
        return
    for i, ch in enumerate(text):
        if ch in "[]":
            raise InputError(
                f"the pattern {shown(pattern)} has an unbalanced or malformed bracket at "
                f"position {offset + i + 1:,}"
            )
    literal = text.upper()
    if not _LITERAL_OK.fullmatch(literal):
        bad = next(ch for ch in literal if not _LITERAL_OK.fullmatch(ch))
        raise InputError(
            f"the pattern {shown(pattern)} has the character {bad!r}, not allowed in codes"
        )
    segments.append(literal)


def su_format() -> CodeFormat:
    """R6: SU- followed by 16 characters from A-Z and 0-9."""
    return CodeFormat((SU_PREFIX, Random(SU_ALPHABET, SU_LENGTH)), "SU-[16 x A-Z0-9]")


def generic_format(
    length: int, charset: str = "safe", prefix: str = "", suffix: str = ""
) -> CodeFormat:
    """R7: `length` random characters from `charset` (a name or the characters), with affixes."""
    if length < 1:
        raise InputError("the length must be at least 1")
    chars = NAMED_CHARSETS.get(charset.lower(), charset)
    alphabet = "".join(dict.fromkeys(chars.upper()))  # upper-case, de-duplicated, order kept
    if len(alphabet) < 2:
        raise InputError(f"the charset {shown(charset)} needs at least two distinct characters")
    if not _LITERAL_OK.fullmatch(alphabet):
        raise InputError(f"the charset {shown(charset)} has characters not allowed in codes")
    segments: list[Segment] = []
    for affix, what in ((prefix, "prefix"), (suffix, "suffix")):
        if affix and not _LITERAL_OK.fullmatch(affix.upper()):
            raise InputError(f"the {what} {shown(affix)} has characters not allowed in codes")
    if prefix:
        segments.append(prefix.upper())
    segments.append(Random(alphabet, length))
    if suffix:
        segments.append(suffix.upper())
    label = alphabet if len(alphabet) < 12 else shown(charset, 24, quote=False)
    desc = f"{prefix.upper()}[{length:,} x {label}]{suffix.upper()}"
    fmt = CodeFormat(tuple(segments), desc)
    _check_length(fmt)
    return fmt


def _check_length(fmt: CodeFormat) -> None:
    if fmt.length > MAX_CODE_LENGTH:
        raise InputError(
            f"codes of {fmt.name} would be {fmt.length:,} characters; at most {MAX_CODE_LENGTH}"
        )


def random_chars(alphabet: str, n: int, randbytes: RandomBytes = os.urandom) -> str:
    """`n` characters, each uniform over `alphabet`, from a cryptographically secure source."""
    size = len(alphabet)
    if not 2 <= size <= 256:
        raise ValueError("an alphabet has 2 to 256 characters")
    limit = 256 - (256 % size)  # bytes below `limit` map uniformly onto the alphabet
    encoded = alphabet.encode("ascii")
    table = bytes(encoded[b % size] for b in range(256))
    reject = bytes(range(limit, 256))
    out: list[bytes] = []
    have = 0
    while have < n:
        need = n - have
        raw = randbytes(need * 256 // limit + 64)
        kept = raw.translate(None, reject)[:need]
        out.append(kept)
        have += len(kept)
    return b"".join(out).translate(table).decode("ascii")


def draw(fmt: CodeFormat, count: int, randbytes: RandomBytes = os.urandom) -> list[str]:
    """`count` random codes of `fmt`; they may repeat (callers de-duplicate)."""
    columns: list[list[str]] = []
    template = []
    for seg in fmt.segments:
        if isinstance(seg, str):
            template.append(seg)  # literals never hold braces (_LITERAL_OK)
            continue
        n = seg.length
        text = random_chars(seg.alphabet, count * n, randbytes)
        columns.append([text[i : i + n] for i in range(0, count * n, n)])
        template.append("{}")
    if len(columns) == 1:
        head, tail = "".join(template).split("{}")
        return [head + c + tail for c in columns[0]] if (head or tail) else columns[0]
    return list(map("".join(template).format, *columns))


def generate_unique(
    fmt: CodeFormat,
    count: int,
    taken: Callable[[list[str]], set[str]] | None = None,
    randbytes: RandomBytes = os.urandom,
) -> list[str]:
    """`count` distinct codes of `fmt`, none of which `taken` reports as already used.

    `taken(candidates)` returns the subset that exists elsewhere (another chunk, a store).
    Raises InputError if the format cannot supply the count.
    """
    fmt.check_count(count, allow_guessable=True)
    with paused_gc():
        chosen: list[str] = []
        seen: set[str] = set()
        for _ in range(64):
            need = count - len(chosen)
            if need == 0:
                return chosen
            fresh = list(dict.fromkeys(draw(fmt, need + need // 50 + 8, randbytes)))
            if chosen:
                seen = seen or set(chosen)
                fresh = [c for c in fresh if c not in seen]
            if taken is not None:
                used = taken(fresh)
                if used:
                    fresh = [c for c in fresh if c not in used]
            fresh = fresh[:need]
            chosen.extend(fresh)
            if seen:
                seen.update(fresh)
    raise InputError(f"could not find {count:,} unused codes of {fmt.name}; it is nearly full")


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic GC while building millions of short strings (which hold no cycles):
    otherwise each generation-0 sweep walks them all and doubles the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def chunked(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def guess_odds(fmt: CodeFormat, live_codes: int) -> float:
    """Probability that one random guess in `fmt` hits one of `live_codes` codes."""
    return live_codes / fmt.capacity if fmt.capacity else 1.0


def entropy_bits(fmt: CodeFormat) -> float:
    return math.log2(fmt.capacity) if fmt.capacity > 1 else 0.0


def normalize(code: str) -> str:
    """R3: codes compare case-insensitively and are stored upper-case; spaces around are dropped."""
    return code.strip().upper()
