"""R3, R8-R10, R19: generating codes into a real store, all or nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from connector import catalog, codes, generate
from connector.errors import MSG_NO_CODES_GENERATED, InputError, SingleUseDisabled
from connector.store import Store
from connector.store import schema as s


def count_codes(store: Store) -> int:
    with store.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(s.codes)) or 0)


@pytest.fixture
def promo(store: Store) -> str:
    catalog.create_promotion(store, name="Spring", kind="order", rate=10)
    return "Spring"


def test_R8_generated_codes_are_stored_upper_case_and_unique(store: Store, promo: str) -> None:
    result = generate.generate_codes(store, promo, count=2000, fmt=codes.generic_format(8))
    assert result.count == 2000 and count_codes(store) == 2000
    with store.read() as conn:
        texts = conn.scalars(select(s.codes.c.code)).all()
    assert len(set(texts)) == 2000 and all(t == t.upper() for t in texts)


def test_R8_never_repeats_a_code_already_in_the_store(store: Store, promo: str) -> None:
    fmt = codes.parse_pattern("[N.3]")  # 512 possible codes
    generate.generate_codes(store, promo, count=200, fmt=fmt, allow_guessable=True)
    generate.generate_codes(store, promo, count=200, fmt=fmt, allow_guessable=True)
    assert count_codes(store) == 400
    with pytest.raises(InputError, match="can make only 512"):
        generate.generate_codes(store, promo, count=200, fmt=fmt, allow_guessable=True)
    assert count_codes(store) == 400, "a refused batch writes nothing"


def test_R8_count_beyond_capacity_is_refused_before_anything_is_written(
    store: Store, promo: str
) -> None:
    with pytest.raises(InputError, match="923,521"):
        generate.generate_codes(store, promo, count=1_000_000, fmt=codes.parse_pattern("[AN.4]"))
    assert count_codes(store) == 0
    with store.read() as conn:
        assert conn.scalar(select(func.count()).select_from(s.code_batches)) == 0


def test_R9_bad_count_writes_nothing(store: Store, promo: str) -> None:
    for bad in (0, -5, 1_000_001, "ten"):
        with pytest.raises(InputError):
            generate.generate_codes(store, promo, count=bad)
    assert count_codes(store) == 0


def test_R3_codes_carry_expiry_override_amount_group_and_limits(store: Store, promo: str) -> None:
    catalog.create_group(store, name="VIP", start=date(2026, 1, 1), end=date(2026, 12, 31))
    opts = generate.CodeOptions(expires=date(2026, 3, 15), amount="5.50", group="VIP")
    generate.generate_codes(store, promo, count=3, fmt=codes.su_format(), options=opts)
    with store.read() as conn:
        rows = conn.execute(select(s.codes)).all()
    assert {(r.expires_on, r.amount, r.max_uses) for r in rows} == {(date(2026, 3, 15), "5.50", 1)}
    assert all(r.group_id is not None for r in rows)


def test_R3_multi_use_promotion_codes_take_the_given_limits(store: Store) -> None:
    catalog.create_promotion(store, name="Multi", kind="order", rate=5, use="multi")
    opts = generate.CodeOptions(max_uses=10_000, max_uses_per_customer=1)
    generate.generate_codes(store, "Multi", count=2, options=opts)
    with store.read() as conn:
        assert {(r.max_uses, r.max_uses_per_customer) for r in conn.execute(select(s.codes))} == {
            (10_000, 1)
        }


def test_R10_one_code_per_known_customer_unknown_skipped(store: Store, promo: str) -> None:
    for c in ("C001", "C002"):
        catalog.add_customer(store, c, f"{c.lower()}@example.com")
    result = generate.generate_for_customers(store, promo, ["c001", "C002", "NOPE", "C001"])
    assert result.count == 2 and result.skipped_customers == 1 and len(result.codes) == 2
    with store.read() as conn:
        owners = conn.scalars(select(s.codes.c.customer_id)).all()
    assert len(set(owners)) == 2


def test_R10_no_known_customer_gives_the_exact_message(store: Store, promo: str) -> None:
    with pytest.raises(InputError) as err:
        generate.generate_for_customers(store, promo, ["X1", "X2"])
    assert str(err.value) == MSG_NO_CODES_GENERATED
    assert count_codes(store) == 0


def test_R19_single_use_off_refuses_generation(store: Store, promo: str) -> None:
    store.set_setting(generate.SETTING_SINGLE_USE, "off")
    with pytest.raises(SingleUseDisabled):
        generate.generate_codes(store, promo, count=5)
    assert count_codes(store) == 0


def test_R8_a_failure_mid_batch_rolls_the_whole_batch_back(
    store: Store, promo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = generate.insert_codes
    calls = {"n": 0}

    def failing(*args: object, **kwargs: object) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("connection dropped")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(generate, "SLICE", 100)
    monkeypatch.setattr(generate, "insert_codes", failing)
    with pytest.raises(RuntimeError):
        generate.generate_codes(store, promo, count=500)
    assert count_codes(store) == 0
    monkeypatch.setattr(generate, "insert_codes", real)
    assert generate.generate_codes(store, promo, count=500).count == 500
