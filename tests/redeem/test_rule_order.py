"""R13/R14: one table of refusals (connector/redeem/rules.py) and the three ways a store answers
with them held to it: SQLite, PostgreSQL through its server functions, and PostgreSQL in Python.

* The server functions' SQL text tests the rules in the table's order (read from the file, no
  server needed), and writes only history kinds that models.EventKind lists.
* For every rule, a code that fails it and every later rule it can fail is refused by that
  rule, at scan and again at payment, on all three paths.
* On random code states, the two PostgreSQL paths give the same answer, detail and history.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update

from connector import catalog
from connector.errors import NoLongerValid, RedemptionError
from connector.generate import SETTING_SINGLE_USE
from connector.models import EventKind
from connector.redeem import SETTING_FORMAT, Register
from connector.redeem.rules import R13, R14, RULES
from connector.store import Store
from connector.store import schema as s
from tests.redeem.conftest import Clock, make_codes, use_count

SQL = (Path(s.__file__).with_name("redeem_functions.sql")).read_text(encoding="utf-8")
KEYS = [rule.key for rule in R13]
TODAY = date(2026, 3, 10)  # the clock fixture's day
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


# ---- the SQL text ---------------------------------------------------------------------------


def _function(name: str) -> str:
    """The text of the server function `name`, from its CREATE to its END."""
    start = SQL.index(f"CREATE OR REPLACE FUNCTION {name}(")
    return SQL[start : SQL.index("END $$;", start)]


def _rule_keys(text: str) -> list[str]:
    """The rule keys a piece of SQL replies with, in the order they stand."""
    return re.findall(r"'rule',\s*'(\w+)'", text)


def test_R13_server_functions_test_the_rules_in_the_tables_order() -> None:
    """promosync_scan tests the first rules, then hands the code to promosync_refusal: read in
    that order, their refusals are the table's R13 keys, each once, in the table's order."""
    scan, _, _ = _function("promosync_scan").partition("promosync_refusal(")
    assert _rule_keys(scan) + _rule_keys(_function("promosync_refusal")) == KEYS


def test_R14_payment_function_tests_a_hold_then_the_rules_in_the_tables_order() -> None:
    """promosync_pay: an expired hold first, then the mode, then promosync_refusal's rules."""
    pay = _function("promosync_pay")
    before, _, after = pay.partition("promosync_refusal(")
    assert _rule_keys(before) == ["hold_expired", R13[0].key]
    assert "'rule', refusal->>'rule'" in after
    assert set(_rule_keys(SQL)) <= set(RULES), "a key the table does not know"
    assert R14[0].key == "hold_expired"


def _values(statement: str) -> list[str]:
    """The top-level items of an INSERT's column list and VALUES list."""
    def items(text: str) -> list[str]:
        parts, depth, word, quoted = [], 0, "", False
        for ch in text:
            quoted = not quoted if ch == "'" else quoted
            depth += (ch == "(") - (ch == ")") if not quoted else 0
            if ch == "," and depth == 0 and not quoted:
                parts.append(word.strip())
                word = ""
            else:
                word += ch
        return [*parts, word.strip()]

    head, _, tail = statement.partition("VALUES")
    columns = items(head[head.index("(") + 1 : head.rindex(")")])
    values = items(tail[tail.index("(") + 1 : tail.rindex(")")])
    return [values[columns.index("kind")]]


def test_R3_server_functions_write_only_the_event_kinds_of_the_model() -> None:
    inserts = re.findall(r"INSERT INTO code_events\s*\([^;]*?;", SQL, re.S)
    assert inserts, "the functions write history"
    kinds = {k for stmt in inserts for expr in _values(stmt) for k in re.findall(r"'(\w+)'", expr)}
    assert kinds == {"reserved", "redeemed", "released"}
    assert kinds <= {k.value for k in EventKind}


# ---- a code in a chosen state ---------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """What a code, its promotion and group, the store's switches and the transaction hold.
    Days are offsets from today; uses are ALICE's."""

    single_use_off: bool = False
    su_format: bool = False
    mode: str = "normal"
    deleted: bool = False
    promotion_customers: tuple[str, ...] | None = None  # None: for everyone
    p_start: int | None = None
    p_end: int | None = None
    starts: int | None = None
    expires: int | None = None
    max_uses: int | None = 3
    use_count: int = 0
    state: str = "active"
    max_pc: int | None = None
    c_uses: int = 0
    bound: str | None = None
    g_customers: tuple[str, ...] = ()
    g_start: int | None = None
    g_end: int | None = None
    g_max: int | None = None
    g_count: int = 0
    g_max_pc: int | None = None
    gc_uses: int = 0


def breaking(keys: set[str]) -> State:
    """The state that fails each rule in `keys` (and, by itself, no other)."""
    used = "used" in keys
    return State(
        single_use_off="single_use_off" in keys,
        su_format="format" in keys,
        mode="returns" if "mode" in keys else "normal",
        deleted="promotion" in keys,
        expires=-1 if "expired" in keys else None,
        starts=1 if "not_yet_valid" in keys else None,
        state="redeemed" if used else "active",
        use_count=3 if used else 0,
        g_max=1 if "group_limit" in keys else None,
        g_count=1 if "group_limit" in keys else 0,
        max_pc=1 if keys & {"customer_limit", "needs_customer"} else None,
        c_uses=1 if "customer_limit" in keys else 0,
        g_max_pc=1 if "group_customer_limit" in keys else None,
        gc_uses=1 if "group_customer_limit" in keys else 0,
        bound="BOB" if "other_customer" in keys else None,
        g_customers=("BOB",) if "group_customers" in keys else (),
        promotion_customers=("BOB",) if "promotion_customers" in keys else None,
    )


@dataclass(frozen=True)
class Made:
    text: str
    id: int
    promotion_id: int
    group_id: int | None


_TAGS = itertools.count(1)


def customer_ids(store: Store) -> dict[str, int]:
    for code in ("ALICE", "BOB"):
        catalog.add_customer(store, code)
    with store.read() as conn:
        return {r.code: r.id for r in conn.execute(select(s.customers.c.code, s.customers.c.id))}


def make_code(store: Store, *, use: str = "single", grouped: bool = True) -> Made:
    """One code "T-<n>" of its own promotion "P<n>" (an order discount of 10), in its own group
    "G<n>" when `grouped`."""
    tag = next(_TAGS)
    group = f"G{tag}" if grouped else None
    store.set_setting(SETTING_SINGLE_USE, "on")  # a state before may have turned them off
    if group:
        catalog.create_group(store, name=group)
    generated = make_codes(store, f"P{tag}", count=1, use=use, group=group)[0]
    with store.begin() as conn:
        conn.execute(update(s.codes).where(s.codes.c.code == generated).values(code=f"T-{tag}"))
        row = conn.execute(select(s.codes).where(s.codes.c.code == f"T-{tag}")).one()
    return Made(row.code, row.id, row.promotion_id, row.group_id)


def _day(offset: int | None) -> date | None:
    return None if offset is None else TODAY + timedelta(days=offset)


def settle(store: Store, ids: dict[str, int], made: Made, state: State, sale_id: str) -> None:
    """Put the code, its promotion and group, the switches and the transaction in `state`."""
    who = [ids["ALICE"]]
    with store.begin() as conn:
        conn.execute(
            update(s.codes)
            .where(s.codes.c.id == made.id)
            .values(
                starts_on=_day(state.starts),
                expires_on=_day(state.expires),
                max_uses=state.max_uses,
                use_count=state.use_count,
                state=state.state,
                max_uses_per_customer=state.max_pc,
                customer_id=ids[state.bound] if state.bound else None,
            )
        )
        specific = state.promotion_customers is not None
        conn.execute(
            update(s.promotions)
            .where(s.promotions.c.id == made.promotion_id)
            .values(
                deleted_at=NOW if state.deleted else None,
                audience="specific" if specific else "everyone",
                start_date=_day(state.p_start),
                end_date=_day(state.p_end),
            )
        )
        _rows(conn, s.promotion_customers, "promotion_id", made.promotion_id,
              [{"customer_id": ids[c]} for c in state.promotion_customers or ()])
        _rows(conn, s.code_customer_uses, "code_id", made.id,
              [{"customer_id": c, "uses": state.c_uses} for c in who if state.c_uses])
        if made.group_id is not None:
            _group(conn, ids, made.group_id, state)
        conn.execute(update(s.sales).where(s.sales.c.id == sale_id).values(mode=state.mode))
    store.set_setting(SETTING_SINGLE_USE, "off" if state.single_use_off else "on")
    store.set_setting(SETTING_FORMAT, "su" if state.su_format else "any")


def _group(conn: Any, ids: dict[str, int], group_id: int, state: State) -> None:
    conn.execute(
        update(s.coupon_groups)
        .where(s.coupon_groups.c.id == group_id)
        .values(start_date=_day(state.g_start), end_date=_day(state.g_end))
    )
    _rows(conn, s.group_customers, "group_id", group_id,
          [{"customer_id": ids[c]} for c in state.g_customers])
    limits = state.g_max is not None or state.g_max_pc is not None
    _rows(conn, s.group_limits, "group_id", group_id,
          [{"max_uses": state.g_max, "max_uses_per_customer": state.g_max_pc,
            "use_count": state.g_count}] if limits else [])
    _rows(conn, s.group_customer_uses, "group_id", group_id,
          [{"customer_id": ids["ALICE"], "uses": state.gc_uses}] if state.gc_uses else [])


def _rows(conn: Any, table: Any, key: str, value: int, rows: list[dict[str, Any]]) -> None:
    """Make `rows` (each with `key` = `value`) the only rows of `table` for that key."""
    conn.execute(delete(table).where(table.c[key] == value))
    if rows:
        conn.execute(insert(table), [{key: value, **row} for row in rows])


# ---- every rule wins over every later one, on every path ------------------------------------


def _later(key: str) -> set[str]:
    """Rule `key` and every later rule one code can fail with it: not "unknown" (a code that
    is not there fails nothing else), and "needs_customer" only where no customer is given,
    which the limits per customer and "other customer" need."""
    later = set(KEYS[KEYS.index(key) :]) - {"unknown"}
    return later if key == "needs_customer" else later - {"needs_customer"}


def _assert_refused_by(error: RedemptionError, key: str) -> None:
    rule = RULES[key]
    assert type(error) is rule.error, f"{key}: {type(error).__name__} {error.detail}"
    assert error.detail == ("redeemed" if key == "used" else rule.detail)


BAD_TEXT = "NOT A CODE!"  # fails the format, and is no code of the store
SCAN_CASES = [
    ("mode", BAD_TEXT),
    ("mode", None),  # None: the code made here, in the state that fails every later rule
    ("format", BAD_TEXT),
    ("format", None),
    ("unknown", "NO-SUCH-CODE"),
    *[(key, None) for key in KEYS[KEYS.index("unknown") + 1 :]],
]


@pytest.mark.parametrize(
    "key, text", SCAN_CASES, ids=[f"{k}-{'text' if t else 'code'}" for k, t in SCAN_CASES]
)
def test_R13_a_code_failing_a_rule_and_every_later_one_is_refused_by_that_rule(
    store: Store, make_register: Callable[..., Register], clock: Clock, key: str, text: str | None
) -> None:
    ids = customer_ids(store)
    made = make_code(store)
    register = make_register(clock=clock)
    customer = None if key == "needs_customer" else "ALICE"
    mode = "returns" if key == "mode" and text else "normal"
    sale = register.open(customer=customer, mode=mode, lines=["A:20"])
    later = _later(key)
    if text is None:
        if "scanned" in later:
            register.scan(sale.id, made.text)  # on the transaction already
        settle(store, ids, made, breaking(later), sale.id)
    with pytest.raises(RedemptionError) as refused:
        register.scan(sale.id, text or made.text)
    _assert_refused_by(refused.value, key)


PAY_CASES = [k for k in KEYS if k not in ("format", "unknown", "scanned")]  # scan-only rules


@pytest.mark.parametrize("key", PAY_CASES)
def test_R14_a_held_code_failing_a_rule_and_every_later_one_is_lost_by_that_rule(
    store: Store, make_register: Callable[..., Register], clock: Clock, key: str
) -> None:
    ids = customer_ids(store)
    made = make_code(store)
    register = make_register(clock=clock)
    sale = register.open(customer=None if key == "needs_customer" else "ALICE", lines=["A:20"])
    register.scan(sale.id, made.text)
    settle(store, ids, made, breaking(_later(key) - {"format", "scanned"}), sale.id)
    with pytest.raises(NoLongerValid) as lost:
        register.pay(sale.id)
    assert lost.value.detail == RULES[key].error.message
    assert use_count(store, made.text) == breaking(_later(key)).use_count


# ---- the two PostgreSQL paths agree on random states ----------------------------------------

days = st.sampled_from([None, None, -1, 0, 1])
few = st.sampled_from([None, (), ("ALICE",), ("BOB",)])
states = st.builds(
    State,
    single_use_off=st.sampled_from([False, False, False, True]),
    su_format=st.sampled_from([False, False, True]),
    mode=st.sampled_from(["normal", "normal", "normal", "returns"]),
    deleted=st.sampled_from([False, False, False, True]),
    promotion_customers=few,
    p_start=days,
    p_end=days,
    starts=days,
    expires=days,
    max_uses=st.sampled_from([None, 1, 2]),
    use_count=st.sampled_from([0, 0, 1, 2]),
    state=st.sampled_from(["active", "active", "active", "redeemed", "voided"]),
    max_pc=st.sampled_from([None, None, 1]),
    c_uses=st.sampled_from([0, 1]),
    bound=st.sampled_from([None, None, "ALICE", "BOB"]),
    g_customers=st.sampled_from([(), (), ("ALICE",), ("BOB",)]),
    g_start=days,
    g_end=days,
    g_max=st.sampled_from([None, None, 1, 2]),
    g_count=st.sampled_from([0, 1]),
    g_max_pc=st.sampled_from([None, None, 1]),
    gc_uses=st.sampled_from([0, 1]),
)


@dataclass(frozen=True)
class Scene:
    """One random case: the code's state at scan, the transaction, and its state at payment."""

    at_scan: State
    customer: str | None
    use: str
    grouped: bool
    scan_twice: bool
    at_payment: State


scenes = st.builds(
    Scene,
    at_scan=states,
    customer=st.sampled_from([None, "ALICE", "BOB"]),
    use=st.sampled_from(["single", "multi"]),
    grouped=st.booleans(),
    scan_twice=st.sampled_from([False, False, True]),
    at_payment=states,
)


def _answer(call: Callable[[], Any], made: Made) -> Any:
    """What a register call gave, with what differs between the two copies taken out."""
    try:
        result = call()
    except RedemptionError as exc:
        return (type(exc).__name__, exc.message, exc.detail, exc.code == made.text or exc.code)
    if hasattr(result, "held_until"):  # a HeldCode
        return dataclasses.replace(result, code="", promotion="")
    return (result.discount, [(o.outcome, o.discount, o.reason) for o in result.outcomes])


def _history(store: Store, made: Made) -> list[tuple[Any, ...]]:
    e = s.code_events.c
    with store.read() as conn:
        rows = conn.execute(
            select(e.kind, e.detail, e.customer_id, e.source, e.transaction_ref.is_not(None))
            .where(e.code_id == made.id)
            .order_by(e.id)
        ).all()
    return [tuple(r) for r in rows]


def _run(store: Store, register: Register, ids: dict[str, int], scene: Scene) -> Any:
    """Scan (twice, maybe), change the state, pay: every answer and the code's history."""
    made = make_code(store, use=scene.use, grouped=scene.grouped)
    sale = register.open(customer=scene.customer, lines=["A:20"])
    settle(store, ids, made, scene.at_scan, sale.id)
    answers = [_answer(lambda: register.scan(sale.id, made.text), made)]
    if scene.scan_twice:
        answers.append(_answer(lambda: register.scan(sale.id, made.text), made))
    settle(store, ids, made, scene.at_payment, sale.id)
    answers.append(_answer(lambda: register.pay(sale.id), made))
    return answers, _history(store, made)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scene=scenes)
def test_R13_R14_both_postgresql_paths_agree_on_random_code_states(
    pg_store: Store, clock: Clock, scene: Scene
) -> None:
    """The same code state, transaction and change before payment, through the server
    functions and through Python: the same refusals, details, outcomes and history."""
    ids = customer_ids(pg_store)
    server = Register(pg_store, clock=clock)
    python = Register(pg_store, clock=clock, server_side=False)
    assert server.server_side and not python.server_side
    assert _run(pg_store, server, ids, scene) == _run(pg_store, python, ids, scene)
