"""R5-R9: code formats, capacity, guessability, generation (pure, no store)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector import codes
from connector.errors import MSG_COUNT_NOT_POSITIVE, MSG_COUNT_TOO_LARGE, InputError

FORBIDDEN = set("10ILO")

token = st.builds(
    lambda kind, n: f"[{kind}.{n}]", st.sampled_from(["A", "N", "AN"]), st.integers(1, 6)
)
literal = st.text(alphabet="ABCXYZ23-_", min_size=1, max_size=4)
pattern_st = (
    st.lists(st.one_of(token, literal), min_size=1, max_size=5)
    .map("".join)
    .filter(lambda p: "[" in p)
)


@given(pattern_st)
@settings(max_examples=150, deadline=None)
def test_R5_every_generated_code_matches_its_pattern_and_avoids_10ILO(pattern: str) -> None:
    fmt = codes.parse_pattern(pattern)
    count = min(50, max(1, fmt.capacity // 200))
    batch = codes.generate_unique(fmt, count)
    assert len(batch) == count
    assert len(set(batch)) == count, "a batch has no duplicates"
    literal_chars = set(re.sub(r"\[[A-Z]+\.\d+\]", "", pattern))
    for code in batch:
        assert fmt.matches(code)
        random_part = [ch for ch in code if ch not in literal_chars]
        assert not FORBIDDEN & set(random_part), code


def test_R5_netsuite_example_pattern() -> None:
    fmt = codes.parse_pattern("ABC-[AN.3]-[A.3]-[N.3]")
    assert fmt.capacity == 31**3 * 23**3 * 8**3
    for code in codes.draw(fmt, 200):
        assert re.fullmatch(r"ABC-[A-HJKMNP-Z2-9]{3}-[A-HJKMNP-Z]{3}-[2-9]{3}", code)


def test_R5_alphabets_are_23_letters_8_digits_31_alphanumerics() -> None:
    assert len(codes.LETTERS) == 23 and len(codes.DIGITS) == 8 and len(codes.ALNUM) == 31
    assert not FORBIDDEN & set(codes.ALNUM)


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("[X.3]", "unknown token"),
        ("AB[N.3", "unbalanced"),
        ("AB]N.3", "unbalanced"),
        ("AB [N.3]", "space"),
        ("AB[N.0]", "zero-width"),
        ("ABC", "no random token"),
        ("", "empty"),
        ("A$[N.3]", "not allowed"),
    ],
)
def test_R5_bad_patterns_are_refused_with_the_reason(pattern: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        codes.parse_pattern(pattern)


def test_R6_su_format_is_SU_dash_16_of_A_Z_0_9() -> None:
    fmt = codes.su_format()
    assert fmt.capacity == 36**16
    for code in codes.draw(fmt, 500):
        assert re.fullmatch(r"SU-[A-Z0-9]{16}", code)
    assert fmt.matches("su-a8b2c4d6e1f3g5h7")
    assert not fmt.matches("SU-A8B2C4D6E1F3G5H")


@given(
    st.integers(1, 12),
    st.sampled_from(["safe", "alnum", "digits", "hex", "ABC"]),
    st.sampled_from(["", "X-"]),
    st.sampled_from(["", "-Z"]),
)
@settings(max_examples=60, deadline=None)
def test_R7_generic_options_length_charset_prefix_suffix(
    length: int, charset: str, prefix: str, suffix: str
) -> None:
    fmt = codes.generic_format(length, charset, prefix, suffix)
    alphabet = codes.NAMED_CHARSETS.get(charset, charset)
    count = min(20, fmt.capacity // 200) or 1
    for code in codes.generate_unique(fmt, count):
        assert code.startswith(prefix) and code.endswith(suffix)
        middle = code[len(prefix) : len(code) - len(suffix)]
        assert len(middle) == length and set(middle) <= set(alphabet)


def test_R7_lower_case_charset_is_folded_so_capacity_is_honest() -> None:
    assert codes.generic_format(2, "abAB").capacity == 4


def test_R8_capacity_refuses_a_count_the_pattern_cannot_supply() -> None:
    fmt = codes.parse_pattern("[AN.4]")
    assert fmt.capacity == 923_521
    with pytest.raises(InputError, match="can make only 923,521"):
        fmt.check_count(1_000_000)


def test_R8_small_formats_warn_then_refuse_as_guessable() -> None:
    fmt = codes.parse_pattern("[N.5]")  # 32,768 codes
    assert fmt.check_count(1) is None
    assert "guessable" in (fmt.check_count(10) or "")
    with pytest.raises(InputError, match="too small"):
        fmt.check_count(1000)
    assert "guessable" in (fmt.check_count(1000, allow_guessable=True) or "")


def test_R8_random_source_is_the_os_csprng_and_uniform() -> None:
    calls: list[int] = []

    def spy(n: int) -> bytes:
        calls.append(n)
        import os

        return os.urandom(n)

    text = codes.random_chars("AB", 20_000, spy)
    assert calls, "draws from the injected OS source"
    assert 9_000 < text.count("A") < 11_000


def test_R8_rejection_sampling_drops_biased_bytes() -> None:
    # 36 symbols: bytes 252..255 would bias the first four symbols; they must be dropped.
    feed = iter([bytes([252, 253, 254, 255, 0, 1]) + bytes(200)])
    text = codes.random_chars(codes.SU_ALPHABET, 2, lambda n: next(feed))
    assert text == "AB"


def test_R8_generate_unique_never_returns_a_taken_code() -> None:
    fmt = codes.parse_pattern("[N.3]")  # 512 codes
    taken = set(codes.draw(fmt, 300))
    fresh = codes.generate_unique(fmt, 100, taken=lambda cands: {c for c in cands if c in taken})
    assert len(set(fresh)) == 100 and not taken & set(fresh)


@pytest.mark.parametrize(
    ("count", "message"),
    [
        (0, MSG_COUNT_NOT_POSITIVE),
        (-5, MSG_COUNT_NOT_POSITIVE),
        ("ten", MSG_COUNT_NOT_POSITIVE),
        ("-5", MSG_COUNT_NOT_POSITIVE),
        (True, MSG_COUNT_NOT_POSITIVE),
        ("", MSG_COUNT_NOT_POSITIVE),
        (1_000_001, MSG_COUNT_TOO_LARGE),
        ("1,000,001", MSG_COUNT_TOO_LARGE),
    ],
)
def test_R9_counts_outside_1_to_1000000_get_the_exact_message(count: object, message: str) -> None:
    with pytest.raises(InputError) as err:
        codes.check_count(count)
    assert str(err.value) == message


def test_R9_valid_counts() -> None:
    assert codes.check_count("1,000,000") == 1_000_000
    assert codes.check_count(1) == 1
