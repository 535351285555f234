"""R10: the customer file of customer-bound generation (read_customer_codes), every bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from connector import catalog
from connector.errors import (
    MSG_NO_CODES_GENERATED,
    MSG_NO_CUSTOMER_CODES,
    MSG_TOO_MANY_CUSTOMER_CODES,
    FileInputError,
    InputError,
)
from connector.files import read_customer_codes
from connector.generate import generate_for_customers
from connector.store import Store

Write = Callable[[str, "str | bytes"], Path]


@pytest.mark.parametrize("content", ["", "\n\n\n", "\r\n  \r\n\t\r\n", ",,\n , ,\n"])
def test_R10_file_without_codes_says_no_valid_codes(write: Write, content: str) -> None:
    path = write("customers.txt", content)
    with pytest.raises(InputError) as err:
        read_customer_codes(path)
    assert str(err.value) == MSG_NO_CUSTOMER_CODES


def test_R10_more_than_a_million_codes_is_refused(write: Write) -> None:
    lines = "".join(f"C{i:07d}\n" for i in range(1_000_001))
    path = write("big.txt", lines)
    with pytest.raises(InputError) as err:
        read_customer_codes(path)
    assert str(err.value) == MSG_TOO_MANY_CUSTOMER_CODES


def test_R10_reading_stops_at_the_limit(write: Write) -> None:
    """The rest of the file is not read: 8 MB past the limit, bytes that are not UTF-8 go
    unnoticed (reading is by blocks of about 1 MB)."""
    lines = "".join(f"C{i:07d}\n" for i in range(1_000_001)).encode()
    path = write("big.csv", lines + b"C0000000\n" * 1_000_000 + b"\xff\xfe garbage\n")
    with pytest.raises(InputError) as err:
        read_customer_codes(path)
    assert str(err.value) == MSG_TOO_MANY_CUSTOMER_CODES


def test_R10_exactly_a_million_codes_is_accepted(write: Write) -> None:
    path = write("limit.txt", "".join(f"C{i:07d}\r\n" for i in range(1_000_000)))
    codes = read_customer_codes(path)
    assert len(codes) == 1_000_000
    assert codes[0] == "C0000000" and codes[-1] == "C0999999"


def test_R10_lines_over_eight_characters_are_listed_by_line(write: Write) -> None:
    path = write("customers.csv", "C001\nTOOLONG99\nC003\n\nCUSTOMER10,x\n")
    with pytest.raises(FileInputError) as err:
        read_customer_codes(path)
    assert [line for line, _ in err.value.problems] == [2, 5]
    assert "line 2" in str(err.value) and "line 5" in str(err.value)
    assert "longer than 8 characters" in str(err.value)


def test_R10_every_long_line_is_kept_but_the_message_is_capped(write: Write) -> None:
    path = write("customers.txt", "".join(f"LONGCODE{i:03d}\n" for i in range(30)))
    with pytest.raises(FileInputError) as err:
        read_customer_codes(path)
    assert [line for line, _ in err.value.problems] == list(range(1, 31))
    message = str(err.value)
    assert "line 20:" in message and "line 21:" not in message
    assert "(and 10 more)" in message
    assert "\n" not in message


def test_R10_bom_crlf_trailing_commas_and_blank_lines(write: Write) -> None:
    content = "\ufeffC001,,\r\n\r\n c002 \r\nC003,Jane Doe,extra\r\n,,\r\nC001\r\n\"C004\",\r\nc005"
    path = write("customers.csv", content)
    assert read_customer_codes(path) == ["C001", "C002", "C003", "C004", "C005"]


def test_R10_bom_on_a_txt_file_is_not_part_of_the_first_code(write: Write) -> None:
    path = write("customers.txt", "\ufeffABCDEFGH\nB2\n")
    assert read_customer_codes(path) == ["ABCDEFGH", "B2"]


def test_R10_a_header_line_is_skipped(write: Write) -> None:
    path = write("customers.csv", "CustomerCode,Email\nC001,a@example.com\n")
    assert read_customer_codes(path) == ["C001"]


def test_R10_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        read_customer_codes(tmp_path / "nope.txt")
    assert "no such file" in str(err.value)
    assert not isinstance(err.value, FileInputError)


def test_R10_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="folder"):
        read_customer_codes(tmp_path)


def test_R10_not_utf8_names_the_line(write: Write) -> None:
    path = write("customers.txt", b"C001\nC002\nM\xfcller\n")  # Latin-1, not UTF-8
    with pytest.raises(InputError) as err:
        read_customer_codes(path)
    assert "line 3" in str(err.value) and "UTF-8" in str(err.value)


def test_R10_generation_skips_unknown_customers(store: Store, promo: str, write: Write) -> None:
    catalog.add_customer(store, "C001", "a@example.com")
    catalog.add_customer(store, "C002")
    path = write("customers.txt", "c001\nC002,\nC999\n\nC001\n")
    result = generate_for_customers(store, promo, read_customer_codes(path))
    assert result.count == 2
    assert result.skipped_customers == 1


def test_R10_no_known_customer_means_no_codes(store: Store, promo: str, write: Write) -> None:
    path = write("customers.txt", "X1\nX2\n")
    with pytest.raises(InputError) as err:
        generate_for_customers(store, promo, read_customer_codes(path))
    assert str(err.value) == MSG_NO_CODES_GENERATED
