"""Usage limits (R2, R3) and R14 under concurrency: exactly the allowed number of winners."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from connector import catalog
from connector.errors import AlreadyRedeemed, NoLongerValid, RedemptionError, WrongCustomer
from connector.redeem import Register, set_group_limits
from connector.store import Store, open_store
from connector.store import schema as s
from tests.redeem.conftest import Clock, events, make_codes, server_side, use_count
from tests.redeem.race_worker import redeem_in_process

NO_LONGER = "Coupon is no longer valid. Remove it and try again."


def _pay(register: Register, code: str, customer: str | None = None) -> str:
    sale = register.open(customer=customer, lines=["A:40"])
    register.scan(sale.id, code)
    register.pay(sale.id)
    return sale.id


def test_R3_total_usage_limit(store: Store, register: Register) -> None:
    code = make_codes(store, count=1, use="multi", max_uses=2)[0]
    _pay(register, code)
    _pay(register, code)
    with pytest.raises(AlreadyRedeemed):
        _pay(register, code)
    assert use_count(store, code) == 2


def test_R3_per_customer_limit(store: Store, register: Register, customers: list[str]) -> None:
    code = make_codes(store, count=1, use="multi", max_uses_per_customer=1)[0]
    _pay(register, code, "ALICE")
    with pytest.raises(AlreadyRedeemed):
        _pay(register, code, "ALICE")
    _pay(register, code, "BOB")
    with pytest.raises(WrongCustomer):  # a per-customer limit needs a customer to count
        _pay(register, code)


def test_R2_group_usage_limits(store: Store, register: Register, customers: list[str]) -> None:
    catalog.create_group(store, name="Spring")
    codes = make_codes(store, count=4, group="Spring")
    _pay(register, codes[0], "ALICE")  # counted when the limits are set later
    set_group_limits(store, "Spring", max_uses=3, max_uses_per_customer=1)
    with pytest.raises(AlreadyRedeemed):
        _pay(register, codes[1], "ALICE")
    _pay(register, codes[1], "BOB")
    _pay(register, codes[2], "CAROL")
    with pytest.raises(AlreadyRedeemed, match="already been redeemed"):
        _pay(register, codes[3], "BOB")


def test_R2_group_limit_decided_at_payment(
    store: Store, clock: Clock, customers: list[str], make_register: Callable[..., Register]
) -> None:
    catalog.create_group(store, name="One")
    first, second = make_codes(store, count=2, group="One")
    set_group_limits(store, "One", max_uses=1)
    a, b = make_register(clock=clock), make_register(clock=clock)
    sale_a, sale_b = a.open(lines=["A:10"]), b.open(lines=["A:10"])
    a.scan(sale_a.id, first)
    b.scan(sale_b.id, second)
    a.pay(sale_a.id)
    with pytest.raises(NoLongerValid):
        b.pay(sale_b.id)


def _race_threads(
    make_register: Callable[..., Register], code: str, racers: int, customer: str | None = None
) -> list[tuple[str, str]]:
    barrier = threading.Barrier(racers)
    outcomes: list[tuple[str, str]] = []
    lock = threading.Lock()

    def racer(n: int) -> None:
        register = make_register(name=f"till-{n}")
        sale = register.open(customer=customer, lines=["A:40"])
        register.scan(sale.id, code)
        barrier.wait(timeout=60)
        try:
            register.pay(sale.id)
            result = (sale.id, "won")
        except RedemptionError as exc:
            result = (sale.id, str(exc))
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


@pytest.mark.parametrize("limit", [1, 5])
def test_R14_32_threads_race_for_one_code(
    store: Store, limit: int, make_register: Callable[..., Register]
) -> None:
    code = make_codes(store, count=1, use="multi" if limit > 1 else "single", max_uses=limit)[0]
    outcomes = _race_threads(make_register, code, 32)
    tally = Counter(r for _, r in outcomes)
    assert tally == {"won": limit, NO_LONGER: 32 - limit}
    winners = sorted(sale for sale, r in outcomes if r == "won")
    assert sorted(t for _, t in events(store, code, "redeemed")) == winners
    assert use_count(store, code) == limit


def test_R3_per_customer_limit_holds_under_threads(
    store: Store, customers: list[str], make_register: Callable[..., Register]
) -> None:
    code = make_codes(store, count=1, use="multi", max_uses=100, max_uses_per_customer=2)[0]
    tally = Counter(r for _, r in _race_threads(make_register, code, 32, customer="ALICE"))
    assert tally == {"won": 2, NO_LONGER: 30}


def test_R14_8_processes_race_for_the_same_codes(
    store_url: str, store: Store, path: str
) -> None:
    codes = make_codes(store, count=2)  # every process holds both codes: one payment can win
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(8), ctx.Queue()
    procs = [
        ctx.Process(
            target=redeem_in_process,
            args=(store_url, server_side(path), codes, barrier, results, n),
        )
        for n in range(8)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    won = [sale for _, sale, r, _ in outcomes if r == "won"]
    lost = [msg for _, _, r, msg in outcomes if r == "lost"]
    assert len(won) == 1 and lost == [NO_LONGER] * 7
    for code in codes:
        assert events(store, code, "redeemed") == [("redeemed", won[0])]
    with open_store(store_url).engine.connect() as conn:
        assert conn.scalar(select(func.sum(s.codes.c.use_count))) == 2
