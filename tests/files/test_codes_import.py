"""R12: importing codes, all or nothing, with line numbers (and R2 templates, R19 switch)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connector import catalog
from connector.errors import FileInputError, InputError, SingleUseDisabled, StoreError
from connector.files import import_codes, readers
from connector.files import imports as imports_module
from connector.generate import SETTING_SINGLE_USE, CodeOptions
from connector.store import Store
from connector.store import schema as s

from .conftest import code_count, stored_codes

Write = Callable[[str, "str | bytes"], Path]


def test_R12_text_file_one_code_per_line_normalised(store: Store, promo: str, write: Write) -> None:
    path = write("codes.txt", "\ufeff abc-001 \r\nABC-002\r\n\r\nabc.003_x\r\n")
    summary = import_codes(store, promo, path)
    assert (summary.added, summary.lines) == (3, 3)
    assert stored_codes(store) == ["ABC-001", "ABC-002", "ABC.003_X"]
    with store.read() as conn:
        batch = conn.execute(select(s.code_batches)).one()
        max_uses = set(conn.scalars(select(s.codes.c.max_uses)))
    assert (batch.source, batch.method, batch.count) == ("imported", "codes.txt", 3)
    assert summary.batch_id == batch.id
    assert max_uses == {1}  # single-use promotion: one use each (R3)


def test_R12_duplicate_within_the_file_stores_nothing(
    store: Store, promo: str, write: Write
) -> None:
    import_codes(store, promo, write("first.txt", "KEEP-1\n"))
    before = code_count(store)
    path = write("codes.txt", "A-1\nA-2\na-1\nA-3\nA-2\n")
    with pytest.raises(FileInputError) as err:
        import_codes(store, promo, path)
    assert [line for line, _ in err.value.problems] == [3, 5]
    assert "line 3: A-1 is also on line 1" in str(err.value)
    assert code_count(store) == before


def test_R12_code_in_the_store_already_is_refused_case_insensitively(
    store: Store, promo: str, write: Write
) -> None:
    import_codes(store, promo, write("first.txt", "OLD-1\nOLD-2\n"))
    before = code_count(store)
    path = write("codes.txt", "NEW-1\nold-2\nNEW-2\nOld-1\n")
    with pytest.raises(FileInputError) as err:
        import_codes(store, promo, path)
    assert [line for line, _ in err.value.problems] == [2, 4]
    assert "OLD-2 exists in the store already" in str(err.value)
    assert code_count(store) == before
    assert "NEW-1" not in stored_codes(store)


def test_R12_store_duplicates_in_a_later_slice_roll_back_earlier_slices(
    store: Store, promo: str, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports_module, "SLICE", 2)
    import_codes(store, promo, write("first.txt", "Z-9\n"))
    path = write("codes.txt", "Z-1\nZ-2\nZ-3\nZ-4\nZ-9\n")
    with pytest.raises(FileInputError) as err:
        import_codes(store, promo, path)
    assert [line for line, _ in err.value.problems] == [5]
    assert stored_codes(store) == ["Z-9"]


def test_R12_bad_lines_and_store_duplicates_are_reported_together(
    store: Store, promo: str, write: Write
) -> None:
    import_codes(store, promo, write("first.txt", "OLD-1\n"))
    long_code = "X" * 65
    path = write("codes.txt", f"GOOD-1\nbad code\n{long_code}\n-DASH\nOLD-1\nNO*STAR\n")
    with pytest.raises(FileInputError) as err:
        import_codes(store, promo, path)
    problems = dict(err.value.problems)
    assert sorted(problems) == [2, 3, 4, 5, 6]
    assert "other than A-Z 0-9" in problems[2]
    assert "longer than 64" in problems[3]
    assert "starts with '-'" in problems[4]
    assert "exists in the store" in problems[5]
    assert stored_codes(store) == ["OLD-1"]


def test_R12_netsuite_csv_layout_with_header_and_chunk_names(
    store: Store, promo: str, write: Write
) -> None:
    path = write("codes.csv", "Promotion,Coupon Code\r\nSpring,n-1\r\nspring #2,N-2\r\n"
                              "\"Spring #10\",N-3,\r\n")
    summary = import_codes(store, promo, path)
    assert summary.added == 3
    assert stored_codes(store) == ["N-1", "N-2", "N-3"]


def test_R12_netsuite_csv_without_header(store: Store, promo: str, write: Write) -> None:
    path = write("codes.csv", "Spring,Q-1\nSpring,Q-2\n")
    assert import_codes(store, promo, path).added == 2


def test_R12_netsuite_csv_wrong_promotion_name(store: Store, promo: str, write: Write) -> None:
    path = write("codes.csv",
                 "Spring,W-1\nSummer,W-2\nSpring #0,W-3\nSpring,W-4,extra\nSpring #3,W-5\n")
    with pytest.raises(FileInputError) as err:
        import_codes(store, promo, path)
    assert [line for line, _ in err.value.problems] == [2, 3, 4]
    assert "'Summer' is not 'Spring'" in str(err.value)
    assert code_count(store) == 0


def test_R12_group_template_misfits_are_stored_with_a_warning(
    store: Store, promo: str, write: Write
) -> None:
    catalog.create_group(store, name="Mailing", template="SPR-[N.4]")
    path = write("codes.txt", "SPR-2345\nSPR-ABCD\nspr-6789\nOTHER-1\n")
    summary = import_codes(store, promo, path, group="Mailing")
    assert summary.added == 4
    assert len(summary.warnings) == 1
    assert "2 of 4 codes do not fit the template SPR-[N.4]" in summary.warnings[0]
    with store.read() as conn:
        groups = set(conn.scalars(select(s.codes.c.group_id)))
    assert groups == {catalog.get_group(store, "Mailing").id}


def test_R12_no_warning_when_every_code_fits(store: Store, promo: str, write: Write) -> None:
    catalog.create_group(store, name="Mailing", template="SPR-[N.4]")
    summary = import_codes(store, promo, write("codes.txt", "SPR-2345\n"),
                           options=CodeOptions(group="Mailing"))
    assert summary.warnings == []


def test_R12_options_are_stored_on_every_code(store: Store, promo: str, write: Write) -> None:
    options = CodeOptions(expires=date(2030, 3, 15), amount=Decimal("5.50"))
    import_codes(store, promo, write("codes.txt", "O-1\nO-2\n"), options=options)
    with store.read() as conn:
        rows = conn.execute(select(s.codes.c.expires_on, s.codes.c.amount)).all()
    assert [(r.expires_on, r.amount) for r in rows] == [(date(2030, 3, 15), "5.50")] * 2


def test_R19_import_refused_while_single_use_codes_are_off(
    store: Store, promo: str, write: Write
) -> None:
    store.set_setting(SETTING_SINGLE_USE, "off")
    with pytest.raises(SingleUseDisabled):
        import_codes(store, promo, write("codes.txt", "S-1\n"))
    assert code_count(store) == 0
    catalog.create_promotion(store, name="Multi", kind="order", rate=5, use="multi")
    assert import_codes(store, "Multi", write("codes.txt", "S-1\n")).added == 1


def test_R12_a_lost_race_rolls_back(
    store: Store, promo: str, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer took some rows between the checks and the insert: nothing is kept."""
    real = imports_module.insert_codes

    def short(conn: Any, dialect: str, codes: list[str], base: dict[str, Any]) -> int:
        return real(conn, dialect, codes[:-1], base)

    monkeypatch.setattr(imports_module, "insert_codes", short)
    with pytest.raises(StoreError, match="nothing was stored"):
        import_codes(store, promo, write("codes.txt", "R-1\nR-2\n"))
    assert code_count(store) == 0


@pytest.mark.parametrize("content", ["", "\n\r\n\n", "Coupon Code\n"])
def test_R12_file_without_codes(store: Store, promo: str, write: Write, content: str) -> None:
    with pytest.raises(InputError, match="no coupon codes"):
        import_codes(store, promo, write("codes.txt", content))


def test_R12_unknown_promotion_and_missing_file(store: Store, promo: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no promotion"):
        import_codes(store, "Nope", tmp_path / "codes.txt")
    with pytest.raises(InputError, match="no such file"):
        import_codes(store, promo, tmp_path / "codes.txt")


def test_R12_more_than_a_million_codes_is_refused(store: Store, promo: str, write: Write) -> None:
    path = write("big.txt", "".join(f"B{i:07d}\n" for i in range(1_000_001)))
    with pytest.raises(InputError, match="more than 1,000,000 codes"):
        import_codes(store, promo, path)
    assert code_count(store) == 0


def test_R12_clean_blocks_and_a_late_bad_line(
    store: Store, promo: str, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many clean blocks (the fast path) with problems: every line number is still exact."""
    monkeypatch.setattr(readers, "BLOCK", 4096)
    lines = [f"F-{i:06d}" for i in range(30_000)]
    lines[25_000] = "F-000007"  # a repeat of line 8
    lines[29_998] = "bad code"
    path = write("codes.txt", "\n".join(lines) + "\n")
    with pytest.raises(FileInputError) as err:
        import_codes(store, promo, path)
    assert [line for line, _ in err.value.problems] == [25_001, 29_999]
    assert "F-000007 is also on line 8" in str(err.value)
