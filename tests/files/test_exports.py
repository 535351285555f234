"""R11: exports: exact columns, NetSuite split per chunk, spreadsheet safety, atomic files."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from connector import catalog
from connector.codes import parse_pattern
from connector.errors import InputError
from connector.files import export_codes, import_codes
from connector.files import exports as exports_module
from connector.generate import CodeOptions, generate_codes, generate_for_customers
from connector.store import Store
from connector.store import schema as s

from .conftest import stored_codes

Write = Callable[[str, "str | bytes"], Path]


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


@pytest.fixture
def seven(store: Store, promo: str, write: Write) -> list[str]:
    """Seven imported codes, in id order."""
    import_codes(store, promo, write("seven.txt", "".join(f"SEVEN-{i}\n" for i in range(1, 8))))
    return stored_codes(store)


def test_R11_plain_one_code_per_line(
    store: Store, promo: str, seven: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "codes.txt"
    summary = export_codes(store, promo, "plain", out)
    assert out.read_text(encoding="utf-8") == "".join(f"{c}\n" for c in seven)
    assert (summary.rows, summary.files) == (7, [str(out)])


def test_R11_plain_to_stdout(store: Store, promo: str, seven: list[str],
                             capsys: pytest.CaptureFixture[str]) -> None:
    summary = export_codes(store, promo, "plain", "-")
    assert capsys.readouterr().out.splitlines() == seven
    assert summary.files == ["-"]


def test_R11_netsuite_csv_split_at_chunk_size(
    store: Store, promo: str, seven: list[str], tmp_path: Path
) -> None:
    summary = export_codes(store, promo, "netsuite-csv", tmp_path / "out.csv", chunk_size=3)
    names = [tmp_path / f"out-{k}.csv" for k in (1, 2, 3)]
    assert summary.files == [str(p) for p in names]
    assert summary.rows == 7
    assert not (tmp_path / "out.csv").exists()
    chunks = [_rows(p) for p in names]
    for k, rows in enumerate(chunks, start=1):
        assert rows[0] == ["Promotion", "Coupon Code"]
        assert {r[0] for r in rows[1:]} == {f"Spring #{k}"}
    assert [[r[1] for r in rows[1:]] for rows in chunks] == [seven[0:3], seven[3:6], seven[6:7]]


def test_R11_netsuite_csv_one_chunk_keeps_the_name(
    store: Store, promo: str, seven: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    summary = export_codes(store, promo, "netsuite-csv", out, chunk_size=7)
    assert summary.files == [str(out)]
    assert _rows(out) == [["Promotion", "Coupon Code"]] + [["Spring", c] for c in seven]
    assert (out.read_bytes().count(b"\r\n")) == 8


def test_R11_netsuite_csv_split_needs_a_file_not_stdout(
    store: Store, promo: str, seven: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InputError, match="--output"):
        export_codes(store, promo, "netsuite-csv", "-", chunk_size=3)
    export_codes(store, promo, "netsuite-csv", "-", chunk_size=10)
    assert capsys.readouterr().out.splitlines()[1] == f"Spring,{seven[0]}"


def test_R11_netsuite_csv_reimports_into_another_store(
    store: Store, promo: str, seven: list[str], tmp_path: Path, sqlite_url: str
) -> None:
    """What the export writes, the import reads (header, chunk names)."""
    export_codes(store, promo, "netsuite-csv", tmp_path / "out.csv", chunk_size=4)
    from connector.store import open_store

    other = open_store(sqlite_url.replace("promosync.db", "other.db"))
    try:
        catalog.create_promotion(other, name="Spring", kind="order", rate=10)
        for k in (1, 2):
            import_codes(other, "Spring", tmp_path / f"out-{k}.csv")
        assert stored_codes(other) == seven
    finally:
        other.close()


def test_R11_customers_csv_columns(store: Store, promo: str, tmp_path: Path) -> None:
    catalog.add_customer(store, "C001", "ann@example.com", "Ann")
    catalog.add_customer(store, "C002")
    generate_codes(store, promo, count=2)  # not bound: not in this export
    options = CodeOptions(expires=date(2030, 3, 15), amount=Decimal("7.5"))
    bound = generate_for_customers(store, promo, ["C001", "C002"], options=options)
    out = tmp_path / "mailing.csv"
    summary = export_codes(store, promo, "customers", out)
    rows = _rows(out)
    assert rows[0] == ["CustomerCode", "Email", "CouponCode", "ExpirationDate", "DiscountAmount"]
    assert rows[1:] == [["C001", "ann@example.com", bound.codes[0], "2030-03-15", "7.5"],
                        ["C002", "", bound.codes[1], "2030-03-15", "7.5"]]
    assert summary.rows == 2


def test_R11_customers_csv_empty_dates_and_amounts(
    store: Store, promo: str, tmp_path: Path
) -> None:
    catalog.add_customer(store, "C001", "ann@example.com")
    bound = generate_for_customers(store, promo, ["C001"])
    out = tmp_path / "mailing.csv"
    export_codes(store, promo, "customers", out)
    assert _rows(out)[1] == ["C001", "ann@example.com", bound.codes[0], "", ""]


def test_R11_formula_injection_is_neutralised(store: Store, tmp_path: Path) -> None:
    catalog.add_customer(store, "@EVIL", "=HYPERLINK(\"x\")@example.com", "=cmd|' /C calc'!A0")
    catalog.add_customer(store, "+C2", "-2+3@example.com")
    catalog.create_promotion(store, name="=SUM(A1)", kind="order", rate=10)
    bound = generate_for_customers(store, "=SUM(A1)", ["@EVIL", "+C2"])
    export_codes(store, "=SUM(A1)", "customers", tmp_path / "c.csv")
    rows = _rows(tmp_path / "c.csv")
    assert [r[:2] for r in rows[1:]] == [["'@EVIL", "'=HYPERLINK(\"x\")@example.com"],
                                         ["'+C2", "'-2+3@example.com"]]
    export_codes(store, "=SUM(A1)", "netsuite-csv", tmp_path / "n.csv")
    assert {r[0] for r in _rows(tmp_path / "n.csv")[1:]} == {"'=SUM(A1)"}
    export_codes(store, "=SUM(A1)", "usage", tmp_path / "u.csv")
    assert [r[2] for r in _rows(tmp_path / "u.csv")[1:]] == ["'@EVIL", "'+C2"]
    assert [r[0] for r in _rows(tmp_path / "u.csv")[1:]] == bound.codes


def test_R11_generated_codes_starting_with_a_dash_are_guarded_in_csv_only(
    store: Store, promo: str, tmp_path: Path
) -> None:
    generate_codes(store, promo, count=3, fmt=parse_pattern("-[AN.8]"))
    codes = stored_codes(store)
    summary = export_codes(store, promo, "netsuite-csv", tmp_path / "n.csv")
    assert [r[1] for r in _rows(tmp_path / "n.csv")[1:]] == [f"'{c}" for c in codes]
    assert summary.warnings and "3 codes start with a formula character" in summary.warnings[0]
    plain = export_codes(store, promo, "plain", tmp_path / "p.txt")
    assert (tmp_path / "p.txt").read_text().split() == codes
    assert plain.warnings == []


def test_R11_usage_columns(store: Store, promo: str, tmp_path: Path) -> None:
    catalog.add_customer(store, "C001")
    catalog.add_customer(store, "C002")
    options = CodeOptions(expires=date(2030, 1, 2))
    bound = generate_for_customers(store, promo, ["C001"], options=options)
    free = generate_codes(store, promo, count=2)
    codes = stored_codes(store)
    paris = ZoneInfo("Europe/Paris")
    with store.begin() as conn:
        made = dict(conn.execute(select(s.code_batches.c.id, s.code_batches.c.created_at)).all())
        bound_day, free_day = (made[b].astimezone(paris).date().isoformat()
                               for b in (bound.batch_id, free.batch_id))
        ids = dict(conn.execute(select(s.codes.c.code, s.codes.c.id)).all())
        cust = dict(conn.execute(select(s.customers.c.code, s.customers.c.id)).all())
        conn.execute(s.code_events.insert(), [
            {"code_id": ids[codes[1]], "kind": "assigned", "source": "local",
             "customer_id": cust["C002"], "at": datetime(2029, 6, 30, 23, 30, tzinfo=UTC)},
        ])
    out = tmp_path / "usage.csv"
    export_codes(store, promo, "usage", out, zone=paris)
    rows = _rows(out)
    assert rows[0] == ["Coupon Code", "External ID", "User ID", "Coupon Given Date",
                       "Coupon Expiry Date"]
    assert rows[1] == [bound.codes[0], f"promosync-code-{bound.codes[0]}", "C001",
                       bound_day, "2030-01-02"]
    assert rows[2] == [codes[1], f"promosync-code-{codes[1]}", "C002", "2029-07-01", ""]
    assert rows[3] == [codes[2], f"promosync-code-{codes[2]}", "", free_day, ""]


def test_R11_failed_export_leaves_no_file(
    store: Store, promo: str, seven: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports_module, "BATCH", 2)
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "codes.txt"
    done: list[int] = []

    def fail_midway(n: int) -> None:
        done.append(n)
        if len(done) == 2:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        export_codes(store, promo, "plain", out, progress=fail_midway)
    assert list(folder.iterdir()) == []  # neither the file nor its temporary part


def test_R11_failed_split_export_keeps_the_old_files(
    store: Store, promo: str, seven: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "out.csv"
    export_codes(store, promo, "netsuite-csv", out, chunk_size=4)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert sorted(before) == ["out-1.csv", "out-2.csv"]

    def fail_in_second_chunk(n: int, seen: list[int] = []) -> None:  # noqa: B006
        seen.append(n)
        if sum(seen) > 4:
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        export_codes(store, promo, "netsuite-csv", out, chunk_size=3, progress=fail_in_second_chunk)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_R11_export_checks_its_arguments(store: Store, promo: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown export format"):
        export_codes(store, promo, "xml", tmp_path / "x")
    with pytest.raises(InputError, match="chunk size"):
        export_codes(store, promo, "netsuite-csv", tmp_path / "x", chunk_size=500_001)
    with pytest.raises(InputError, match="does not exist"):
        export_codes(store, promo, "plain", tmp_path / "missing" / "x.txt")
    with pytest.raises(InputError, match="no promotion"):
        export_codes(store, "Nope", "plain", tmp_path / "x.txt")


def test_R11_empty_promotion_exports_headers_only(store: Store, promo: str, tmp_path: Path) -> None:
    summary = export_codes(store, promo, "netsuite-csv", tmp_path / "n.csv", chunk_size=3)
    assert summary.rows == 0
    assert _rows(tmp_path / "n.csv") == [["Promotion", "Coupon Code"]]
    assert export_codes(store, promo, "plain", tmp_path / "p.txt").rows == 0
    assert (tmp_path / "p.txt").read_bytes() == b""


def test_R11_netsuite_csv_quotes_like_the_csv_module(store: Store, tmp_path: Path) -> None:
    """A name with a comma and quotes, and (from elsewhere) a code with a comma: still valid CSV."""
    catalog.create_promotion(store, name='Big, "Sale"', kind="order", rate=10)
    generate_codes(store, 'Big, "Sale"', count=2)
    codes = stored_codes(store, 'Big, "Sale"')
    with store.begin() as conn:
        batch = conn.scalar(select(s.code_batches.c.id))
        pid = catalog.promotion_row(conn, 'Big, "Sale"').id
        conn.execute(s.codes.insert().values(code="ODD,ONE", promotion_id=pid, batch_id=batch))
    out = tmp_path / "n.csv"
    export_codes(store, 'Big, "Sale"', "netsuite-csv", out)
    assert _rows(out)[1:] == [['Big, "Sale"', c] for c in [*codes, "ODD,ONE"]]
    assert out.read_bytes().splitlines()[1].startswith(b'"Big, ""Sale""",')
