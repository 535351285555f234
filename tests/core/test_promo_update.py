"""`promosync promo update` and `catalog.update_promotion` (R1, R3, R28): change a promotion
with the checks of `promo create`, say what changed, and what the next sync will do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector import catalog
from connector.errors import InputError
from connector.store import Store, open_store
from tests.conftest import CliResult, run_cli


def ok(args: list[str], env: dict[str, str]) -> str:
    result = run_cli(args, env)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def shown(name: str, env: dict[str, str]) -> dict[str, object]:
    data: dict[str, object] = json.loads(ok(["promo", "show", name, "--json"], env))
    return data


def refused(result: CliResult, exit_code: int, text: str) -> None:
    assert result.exit_code == exit_code, (result.exit_code, result.stderr)
    assert result.stderr.startswith("error: ") and text in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.fixture
def spring(cli_env: dict[str, str]) -> dict[str, str]:
    ok(["promo", "create", "Spring", "--kind", "order", "--rate", "10", "--start", "2026-03-01",
        "--end", "2026-03-31", "--pattern", "SPR-[AN.6]"], cli_env)
    return cli_env


def test_R1_promo_update_changes_what_is_given_and_prints_it(spring: dict[str, str]) -> None:
    before = shown("Spring", spring)
    out = ok(["promo", "update", "Spring", "--rate", "15", "--end", "2026-04-30",
              "--combination", "globalexclusive", "--items", "150, 200"], spring)
    assert out.splitlines() == [
        "rate: 10 -> 15",
        "end_date: 2026-03-31 -> 2026-04-30",
        "items: (none) -> 150, 200",
        "combination_type: COMBINABLE -> GLOBALEXCLUSIVE",
    ]
    after = shown("Spring", spring)
    assert (after["rate"], after["end_date"], after["items"], after["combination_type"]) == (
        "15", "2026-04-30", ["150", "200"], "GLOBALEXCLUSIVE")
    unchanged = ("kind", "start_date", "use_type", "code_pattern", "codes_from", "discount_type")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    again = run_cli(["promo", "update", "Spring", "--rate", "15.0"], spring)
    assert again.exit_code == 0 and "nothing changed" in again.stdout


def test_R1_promo_update_json_lists_old_and_new(spring: dict[str, str]) -> None:
    data = json.loads(ok(["promo", "update", "Spring", "--amount", "--rate", "5", "--json"],
                         spring))
    assert data["changed"] == {"discount_type": {"old": "percent", "new": "amount"},
                               "rate": {"old": "10", "new": "5"}}
    assert data["promotion"]["discount_type"] == "amount" and data["notes"] == []


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["--end", "2026-02-01"], 1,
         "the end date 2026-02-01 is before the start date 2026-03-01"),
        (["--start", "2026-04-02"], 1, "is before the start date 2026-04-02"),
        (["--rate", "150"], 1, "a percent rate cannot exceed 100"),
        (["--rate", "ten"], 1, "the rate must be a number, not 'ten'"),
        (["--codes-from", "netsuite", "--pattern", "[AN.2"], 1, "the pattern '[AN.2'"),
        (["--pattern", ""], 2, "the pattern cannot be empty"),
        (["--combination", "bogus"], 2,
         "'bogus' is not one of COMBINABLE, GLOBALEXCLUSIVE, ITEMLINEEXCLUSIVE, "
         "ORDERTYPEEXCLUSIVE, SHIPPINGTYPEEXCLUSIVE"),
        (["--kind", "coupon"], 2, "is not one of item, order, shipping, fixed_price, free_gift"),
        (["--discount-item", "10\n11"], 2, "'10\\n11' holds a line break"),
    ],
    ids=["end-before-start", "start-after-end", "percent", "rate", "pattern", "empty-pattern",
         "combination", "kind", "control-character"],
)
def test_R1_promo_update_checks_like_create(
    spring: dict[str, str], args: list[str], exit_code: int, message: str
) -> None:
    before = shown("Spring", spring)
    refused(run_cli(["promo", "update", "Spring", *args], spring), exit_code, message)
    assert shown("Spring", spring) == before


def test_R1_promo_create_refuses_what_update_refuses(cli_env: dict[str, str]) -> None:
    base = ["promo", "create", "P", "--kind", "order", "--rate", "10"]
    refused(run_cli([*base, "--start", "2026-03-02", "--end", "2026-03-01"], cli_env), 1,
            "is before the start date")
    refused(run_cli([*base, "--combination", "bogus"], cli_env), 2, "is not one of COMBINABLE")
    refused(run_cli([*base, "--pattern", ""], cli_env), 2, "the pattern cannot be empty")
    assert json.loads(ok(["promo", "list", "--json"], cli_env)) == []


def test_R1_promo_update_without_options_or_of_unknown_promotion(spring: dict[str, str]) -> None:
    refused(run_cli(["promo", "update", "Spring"], spring), 2, "nothing to change")
    refused(run_cli(["promo", "update", "Autumn", "--rate", "5"], spring), 1,
            "no promotion named 'Autumn'")


def test_R28_promo_update_kind_before_any_sync_says_nothing_of_netsuite(
    spring: dict[str, str],
) -> None:
    result = run_cli(["promo", "update", "Spring", "--kind", "item", "--use", "multi"], spring)
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout == "kind: order -> item\nuse_type: single_use -> multi_use\n"


def _synced(env: dict[str, str], promotion: str) -> None:
    """Record what `sync run` records once it has written the promotion's NetSuite record."""
    from connector.store import schema as s

    store = open_store(env["PROMOSYNC_DATABASE_URL"])
    try:
        with store.begin() as conn:
            pid = catalog.promotion_row(conn, promotion).id
            conn.execute(s.sync_chunks.insert().values(
                promotion_id=pid, chunk=0, external_id=f"promosync-{pid}-1", netsuite_id="101",
                use_type="SINGLEUSE", custom_form=-10502))
    finally:
        store.close()


def test_R28_promo_update_kind_after_a_sync_says_the_next_sync_recreates_it(
    spring: dict[str, str],
) -> None:
    _synced(spring, "Spring")
    result = run_cli(["promo", "update", "Spring", "--kind", "item", "--use", "multi"], spring)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "kind: order -> item\nuse_type: single_use -> multi_use\n"
    assert result.stderr == (
        "warning: kind (customForm) and use type changed, which NetSuite cannot change in place: "
        "the next sync will re-create it in NetSuite: inactivate the old record when its codes "
        "were used, else delete it\n")
    assert shown("Spring", spring)["kind"] == "item"
    quiet = run_cli(["promo", "update", "Spring", "--rate", "20"], spring)
    assert quiet.exit_code == 0 and quiet.stderr == ""


def _redeem(code: str, times: int, env: dict[str, str]) -> None:
    for _ in range(times):
        sale = ok(["redeem", "open", "--line", "SHIRT:40.00"], env).strip()
        ok(["redeem", "scan", sale, code], env)
        ok(["redeem", "pay", sale], env)


def _only_code(env: dict[str, str]) -> str:
    store = open_store(env["PROMOSYNC_DATABASE_URL"])
    try:
        with store.read() as conn:
            from connector.store import schema as s

            return str(conn.scalar(s.codes.select().with_only_columns(s.codes.c.code)))
    finally:
        store.close()


def test_R3_promo_update_to_single_use_refused_when_a_code_was_used_twice(
    cli_env: dict[str, str],
) -> None:
    ok(["promo", "create", "Multi", "--kind", "order", "--rate", "10", "--use", "multi"], cli_env)
    ok(["codes", "generate", "Multi", "--count", "1", "--length", "8", "--max-uses", "5"],
       cli_env)
    code = _only_code(cli_env)
    _redeem(code, 2, cli_env)
    refused(run_cli(["promo", "update", "Multi", "--use", "single"], cli_env), 1,
            "1 code of 'Multi' was used more than once, and a single-use code is used at most "
            "once: the promotion stays multi-use")
    assert shown("Multi", cli_env)["use_type"] == "multi_use"


def test_R3_promo_update_to_single_use_uses_up_a_code_used_once(cli_env: dict[str, str]) -> None:
    ok(["promo", "create", "Multi", "--kind", "order", "--rate", "10", "--use", "multi"], cli_env)
    ok(["codes", "generate", "Multi", "--count", "1", "--length", "8"], cli_env)
    code = _only_code(cli_env)
    _redeem(code, 1, cli_env)
    assert json.loads(ok(["codes", "show", code, "--json"], cli_env))["state"] == "active"
    ok(["promo", "update", "Multi", "--use", "single"], cli_env)
    details = json.loads(ok(["codes", "show", code, "--json"], cli_env))
    assert (details["state"], details["max_uses"], details["use_count"]) == ("redeemed", 1, 1)


def test_R1_update_promotion_python_api(store: Store) -> None:
    catalog.create_promotion(store, name="Spring", kind="order", rate=10)
    done = catalog.update_promotion(store, "Spring", rate="12.5", use="multi")
    assert done.changes == {"rate": ("10", "12.5"), "use_type": ("single_use", "multi_use")}
    assert done.promotion.rate == 12.5 and done.notes == []
    with pytest.raises(InputError, match="unknown combination type 'NOPE'"):
        catalog.update_promotion(store, "Spring", combination_type="nope")
    assert catalog.get_promotion(store, "Spring").combination_type == "COMBINABLE"


def test_R1_promo_update_is_in_help(tmp_path: Path) -> None:
    result = run_cli(["promo", "update", "--help"])
    assert result.exit_code == 0
    for option in ("--rate", "--percent / --amount", "--start", "--end", "--discount-item",
                   "--min-order", "--items", "--combination", "--pattern", "--use", "--kind",
                   "--codes-from"):
        assert option in result.stdout, option
