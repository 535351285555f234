"""Hostile input (hypothesis): code patterns, generic formats, customer files and import files.

Whatever the text or bytes: the only exception is an InputError (with a message), a format that
is accepted only ever makes codes it matches, and a file that is refused leaves the store as it
was (R5, R7, R8, R10, R12).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector import catalog, codes
from connector.errors import InputError
from connector.files import imports, read_customer_codes
from connector.store import Store
from tests.hardening.conftest import snapshot

FUZZ = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
HOSTILE_LINES = [
    "' OR 1=1 --", "\"; DROP TABLE codes;", "' UNION SELECT id, code FROM codes --",
    "SU-AAAA'); DELETE FROM codes; --", "x\\'y", "\ufeffSU-ABC", "A\x00B", "=cmd|' /C calc'!A0",
    "'||(SELECT code FROM couponcode)||'", "Robert'); DROP TABLE students;--",
]
TOKENS = st.sampled_from(["[A.{}]", "[N.{}]", "[AN.{}]", "[a.{}]", "[an.{}]", "[X.{}]", "[A{}]"])
LITERALS = st.text(alphabet="ABCxyz019-_.[] '\"\\;%", max_size=6)


@st.composite
def pattern_like(draw: st.DrawFn) -> str:
    """Text shaped like NetSuite patterns, valid and broken, plus hostile literals."""
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        parts.append(draw(LITERALS))
        parts.append(draw(TOKENS).format(draw(st.integers(-1, 70))))
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(HOSTILE_LINES)))
    return "".join(parts)


def _check_format(fmt: codes.CodeFormat) -> None:
    made = codes.draw(fmt, 20)
    assert all(fmt.matches(c) and len(c) == fmt.length <= codes.MAX_CODE_LENGTH for c in made)
    assert all(c == c.upper() and c.isascii() and c.isprintable() for c in made)


@FUZZ
@given(st.one_of(st.text(max_size=60), pattern_like()))
def test_R5_any_pattern_is_a_format_or_an_input_error(text: str) -> None:
    try:
        fmt = codes.parse_pattern(text)
    except InputError as exc:
        assert str(exc)
        return
    _check_format(fmt)
    assert not any(ch in "'\";\\ %" for ch in fmt.regex.pattern.replace("\\-", "").replace(
        "\\.", "")), "a code alphabet holds a quote, a semicolon or a space"


@FUZZ
@given(st.integers(-3, 80), st.one_of(st.sampled_from(["safe", "alnum", "hex", "digits"]),
                                      st.text(max_size=12)),
       st.text(max_size=10), st.text(max_size=10))
def test_R7_any_generic_options_are_a_format_or_an_input_error(
    length: int, charset: str, prefix: str, suffix: str
) -> None:
    try:
        fmt = codes.generic_format(length, charset, prefix, suffix)
    except InputError as exc:
        assert str(exc)
        return
    _check_format(fmt)


def _write(data: bytes) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="h6-"))
    path = folder / "input.csv"
    path.write_bytes(data)
    return path


LINES = st.one_of(st.sampled_from(HOSTILE_LINES), st.text(max_size=20),
                  st.from_regex(r"C[0-9]{1,5}", fullmatch=True))
FILE_BYTES = st.one_of(
    st.binary(max_size=300),
    st.lists(LINES, max_size=12).map(lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass")),
    st.lists(LINES, max_size=12).map(lambda ls: b"\xef\xbb\xbf" + "\r\n".join(ls).encode(
        "utf-8", "surrogatepass")),
    st.lists(LINES, max_size=6).map(lambda ls: ",,\n\"".join(ls).encode("utf-16")),
)


@FUZZ
@given(FILE_BYTES)
def test_R10_any_customer_file_gives_codes_or_an_input_error(data: bytes) -> None:
    path = _write(data)
    try:
        wanted = read_customer_codes(path)
    except InputError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    assert wanted and all(0 < len(c) <= 8 and c == c.upper() == c.strip() for c in wanted)


@pytest.fixture
def promo(store: Store) -> str:
    catalog.create_promotion(store, name="Hostile", kind="order", rate=10)
    return "Hostile"


@FUZZ
@given(FILE_BYTES)
def test_R12_any_import_file_is_stored_whole_or_not_at_all(
    store: Store, promo: str, data: bytes
) -> None:
    path = _write(data)
    before = snapshot(store)
    try:
        summary = imports.import_codes(store, promo, path)
    except InputError as exc:
        assert str(exc)
        assert snapshot(store) == before, "a refused file left rows behind"
        return
    after = snapshot(store)
    assert after["codes"] == before["codes"] + summary.added
    parsed = imports.parse_code_file(path, promo)
    assert all(imports.CODE_RE.fullmatch(c) for c in parsed.codes)


@pytest.mark.parametrize("line", HOSTILE_LINES)
def test_R12_sql_text_in_an_import_file_is_refused_with_its_line(
    store: Store, promo: str, line: str, tmp_path: Path
) -> None:
    path = tmp_path / "codes.txt"
    path.write_text(f"GOOD-CODE-1\n{line}\nGOOD-CODE-2\n", encoding="utf-8")
    before = snapshot(store)
    # a line opening a CSV quote that it never closes is named by the line the quote opens on
    with pytest.raises(InputError, match="line 2:"):
        imports.import_codes(store, promo, path)
    assert snapshot(store) == before


def test_R12_a_huge_line_and_nul_bytes_are_refused_quickly(
    store: Store, promo: str, tmp_path: Path
) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes(b"OK-1\n" + b"A" * 5_000_000 + b"\nB\x00C\n")
    before = snapshot(store)
    with pytest.raises(InputError) as info:
        imports.import_codes(store, promo, path)
    assert len(str(info.value)) < 2_000, "the message repeats the whole line"
    assert snapshot(store) == before
    with pytest.raises(InputError) as info:
        read_customer_codes(path)
    assert len(str(info.value)) < 2_000
