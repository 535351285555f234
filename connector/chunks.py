"""How one local promotion is split into NetSuite promotions ("chunks", R25): pure arithmetic.

No NetSuite promotion holds more than `size` single-use codes (500,000 by default, configurable
downward in the mapping). Chunk k (0-based) of a promotion takes the codes in positions
[k*size, (k+1)*size) of the promotion's codes in id order, so the split is stable as codes are
added: a new code lands in the last chunk or opens a new one, and no code ever moves.
Names and external ids of chunks are made here, and only here, so exports (R11) and sync (R26)
always agree.
"""

from __future__ import annotations

import hashlib
import re

NETSUITE_MAX_CODES = 500_000


def chunk_count(total: int, size: int = NETSUITE_MAX_CODES) -> int:
    """How many NetSuite promotions `total` codes need (at least one: a promotion with no codes
    yet still exists in NetSuite)."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    return max(1, -(-total // size))


def chunk_of(position: int, size: int = NETSUITE_MAX_CODES) -> int:
    """The chunk of the code at 0-based `position` in the promotion's id order."""
    return position // size


def chunk_name(promotion_name: str, index: int, total_chunks: int) -> str:
    """The NetSuite promotion name of chunk `index`: the local name when there is one chunk."""
    if total_chunks <= 1 and index == 0:
        return promotion_name
    return f"{promotion_name} #{index + 1}"


def chunk_external_id(external_key: str, index: int) -> str:
    """The NetSuite externalId of chunk `index` of the promotion with `external_key`."""
    return f"promosync-{external_key}-{index + 1}"


_EID_SAFE = re.compile(r"[A-Za-z0-9_-]{1,200}")


def code_external_id(code: str) -> str:
    """The NetSuite externalId of a couponCode pushed from the store (codes are unique).

    An external id may hold only letters, digits, `_` and `-` (Oracle, "External IDs"): a code
    made of those is its own id, `promosync-code-<code>`; any other code (a `.`, a space, a
    letter beyond ASCII, or over 200 characters) becomes `promosync-codeh-<40 hex digits of its
    SHA-256>`, stable and, by the differing prefix, never equal to a plain code's id."""
    if _EID_SAFE.fullmatch(code):
        return f"promosync-code-{code}"
    return f"promosync-codeh-{hashlib.sha256(code.encode('utf-8')).hexdigest()[:40]}"
