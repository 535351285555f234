"""Coupon lists (R20-R23): fixed and unique lists, the 24-hour rule, warnings, expiry, export."""

from __future__ import annotations

import csv
import io
import logging
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from connector.errors import DistributionError, FileInputError, InputError
from connector.lists import EXPORT_COLUMNS, Distributor, ListWarning, read_code_file, safe_cell
from connector.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dist(store: Store, clock: Clock) -> Distributor:
    return Distributor(store, clock=clock)


def test_R20_fixed_code_given_n_times(dist: Distributor) -> None:
    dist.create("Sale10", fixed="sale10", times=2)
    assert [dist.assign("Sale10", user=u, campaign="c").code for u in ("u1", "u2")] == [
        "SALE10"
    ] * 2
    with pytest.raises(DistributionError, match="no codes left"):
        dist.assign("Sale10", user="u3", campaign="c")
    assert dist.status("Sale10").remaining == 0


def test_R20_unique_codes_in_order_each_once(dist: Distributor) -> None:
    dist.create("Gifts", codes=["G1", "g2", "G3"])
    given = [dist.assign("Gifts", user=f"u{i}", campaign="c").code for i in range(3)]
    assert given == ["G1", "G2", "G3"]


def test_R21_same_code_within_24_hours(dist: Distributor, clock: Clock) -> None:
    dist.create("Gifts", codes=["G1", "G2", "G3"])
    first = dist.assign("Gifts", user="ann", campaign="spring")
    clock.now += timedelta(hours=23, minutes=59)
    again = dist.assign("Gifts", user="ann", campaign="spring")
    assert (again.code, again.repeated) == (first.code, True)
    assert dist.assign("Gifts", user="ann", campaign="summer").code == "G2"  # another campaign
    clock.now += timedelta(minutes=2)
    assert dist.assign("Gifts", user="ann", campaign="spring").code == "G3"
    assert dist.status("Gifts").remaining == 0


def test_R21_expiry_finishes_campaign(dist: Distributor, clock: Clock) -> None:
    dist.create("Short", codes=["S1", "S2"], expires=date(2026, 5, 1))
    dist.assign("Short", user="ann", campaign="spring")
    clock.now = datetime(2026, 5, 2, 0, 0, tzinfo=UTC)
    with pytest.raises(DistributionError, match="finished.*expired on 2026-05-01"):
        dist.assign("Short", user="bob", campaign="spring")
    finished = dist.status("Short").finished
    assert [(c.campaign, c.reason) for c in finished] == [("spring", "expired")]


def test_R21_empty_list_finishes_campaign(dist: Distributor) -> None:
    dist.create("One", codes=["O1"])
    dist.assign("One", user="ann", campaign="c1")
    status = dist.status("One")
    assert [(c.campaign, c.reason) for c in status.finished] == [("c1", "empty")]
    with pytest.raises(DistributionError, match="campaign 'c2' has finished"):
        dist.assign("One", user="bob", campaign="c2")
    assert dist.status("One").given == 1  # nothing changed


def test_R22_warning_raised_once(
    store: Store, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[ListWarning] = []
    dist = Distributor(store, clock=clock, on_warning=seen.append)
    dist.create("Low", codes=[f"L{i}" for i in range(5)], warning_limit=2)
    with caplog.at_level(logging.WARNING, logger="connector.lists"):
        for i in range(5):
            dist.assign("Low", user=f"u{i}", campaign="c")
    assert [(w.list, w.remaining, w.limit) for w in seen] == [("Low", 2, 2)]
    assert sum("Low" in r.getMessage() for r in caplog.records) == 1
    status = dist.status("Low")
    assert (status.warned_remaining, status.warned_at) == (2, clock.now)
    other = Distributor(store, clock=clock, on_warning=seen.append)
    other.create("Low2", fixed="X", times=3, warning_limit=1)
    other.assign("Low2", user="a", campaign="c")
    other.assign("Low2", user="b", campaign="c")
    assert len(seen) == 2


def test_R23_user_history(dist: Distributor, clock: Clock) -> None:
    dist.create("A", codes=["A1", "A2"], expires=date(2026, 6, 30))
    dist.create("B", fixed="BFIX", times=10)
    dist.assign("A", user="ann", campaign="c")
    clock.now += timedelta(hours=1)
    dist.assign("B", user="ann", campaign="c")
    dist.assign("A", user="bob", campaign="c")
    rows = dist.user_history("ann")
    assert [(r.list, r.code, r.expires_on) for r in rows] == [
        ("A", "A1", date(2026, 6, 30)),
        ("B", "BFIX", None),
    ]
    assert rows[1].given_at == clock.now


def test_R11_usage_export_columns_and_safe_cells(dist: Distributor) -> None:
    dist.create("Ex", codes=["E1", "E2"], expires=date(2026, 6, 30))
    dist.assign("Ex", user="=cmd()", campaign="c", external_id="+ext")
    dist.assign("Ex", user="bob", campaign="c")
    out = io.StringIO()
    assert dist.export("Ex", out) == 2
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert (
        tuple(rows[0])
        == EXPORT_COLUMNS
        == ("Coupon Code", "External ID", "User ID", "Coupon Given Date", "Coupon Expiry Date")
    )
    assert rows[1] == ["E1", "'+ext", "'=cmd()", "2026-05-01T09:00:00+00:00", "2026-06-30"]
    assert [safe_cell(v) for v in ("-1", "@x", "\tx", "\rx", "ok")] == [
        "'-1",
        "'@x",
        "'\tx",
        "'\rx",
        "ok",
    ]


def test_R20_bad_input(dist: Distributor, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        dist.create("X", fixed="F", times=0)
    with pytest.raises(InputError):
        dist.create("X", fixed="F", times=1, codes=["A"])
    bad = tmp_path / "codes.txt"
    bad.write_text("A1\n\nA1\nno spaces allowed\n")
    with pytest.raises(FileInputError) as info:
        read_code_file(bad)
    assert [n for n, _ in info.value.problems] == [3, 4]
    with pytest.raises(InputError, match="no coupon list"):
        dist.assign("missing", user="u", campaign="c")
    dist.create("X", fixed="F", times=1)
    with pytest.raises(InputError, match="exists already"):
        dist.create("X", fixed="F", times=1)


def test_R20_concurrent_assignment_never_repeats_a_code(store: Store) -> None:
    dist = Distributor(store)
    dist.create("Race", codes=[f"R{i:03d}" for i in range(120)])
    got: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        mine = Distributor(store)
        for i in range(20):
            code = mine.assign("Race", user=f"w{n}-{i}", campaign="c").code
            with lock:
                got.append(code)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(got) == [f"R{i:03d}" for i in range(120)]
