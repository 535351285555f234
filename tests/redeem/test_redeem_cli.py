"""`promosync redeem ...` across invocations: open, scan, customer, pay, show, history."""

from __future__ import annotations

import json

from connector import catalog
from connector.store import open_store
from tests.conftest import run_cli
from tests.redeem.conftest import make_codes


def test_R14_cli_transaction_life(cli_env: dict[str, str], store_url: str) -> None:
    store = open_store(store_url)
    catalog.add_customer(store, "ALICE")
    code = make_codes(store, count=1)[0]
    store.close()
    opened = run_cli(["redeem", "open", "--customer", "alice", "--line", "SHIRT:40"], env=cli_env)
    assert opened.exit_code == 0, opened.stderr
    txn = opened.stdout.strip()
    scanned = run_cli(["--json", "redeem", "scan", txn, f" {code.lower()} "], env=cli_env)
    assert json.loads(scanned.stdout)["discount"] == "10.00"
    again = run_cli(["redeem", "scan", txn, code], env=cli_env)
    assert (again.exit_code, again.stderr.strip()) == (
        1,
        "error: This coupon code has already been scanned",
    )
    paid = run_cli(["--json", "redeem", "pay", txn], env=cli_env)
    assert json.loads(paid.stdout)["outcomes"][0]["outcome"] == "redeemed"
    twice = run_cli(["redeem", "pay", txn], env=cli_env)
    assert twice.exit_code == 1 and "already paid" in twice.stderr
    shown = json.loads(run_cli(["--json", "redeem", "show", txn], env=cli_env).stdout)
    assert (shown["state"], shown["customer"]) == ("paid", "ALICE")
    hist = json.loads(run_cli(["--json", "redeem", "history", code], env=cli_env).stdout)
    kinds = [(e["kind"], e["transaction"]) for e in hist["history"][1:]]
    assert kinds == [("reserved", txn), ("refused", txn), ("redeemed", txn)]


def test_R15_cli_customer_change_and_bad_input(cli_env: dict[str, str], store_url: str) -> None:
    store = open_store(store_url)
    catalog.add_customer(store, "ALICE")
    catalog.add_customer(store, "BOB")
    code = make_codes(store, count=1)[0]
    store.close()
    txn = run_cli(
        ["redeem", "open", "--customer", "ALICE", "--line", "A:40"], env=cli_env
    ).stdout.strip()
    run_cli(["redeem", "scan", txn, code], env=cli_env)
    changed = run_cli(["redeem", "customer", txn, "BOB"], env=cli_env)
    assert changed.exit_code == 0 and f"removed {code}" in changed.stdout
    too_long = run_cli(["redeem", "customer", txn, "ABCDEFGHI"], env=cli_env)
    assert too_long.exit_code == 1 and "longer than 8" in too_long.stderr
    unknown = run_cli(["redeem", "pay", "TXN-UNKNOWN"], env=cli_env)
    assert unknown.exit_code == 1 and "unknown transaction" in unknown.stderr
    returns = run_cli(["redeem", "open", "--mode", "returns"], env=cli_env).stdout.strip()
    refused = run_cli(["redeem", "scan", returns, code], env=cli_env)
    assert refused.stderr.strip() == "error: Single-use coupons can only be redeemed in Normal mode"


def test_R19_cli_settings(cli_env: dict[str, str]) -> None:
    result = run_cli(
        ["--json", "redeem", "settings", "--single-use", "off", "--format", "su"], env=cli_env
    )
    assert json.loads(result.stdout) == {
        "auto_apply": "off",
        "single_use_codes": "off",
        "single_use_format": "su",
    }
    bad = run_cli(["redeem", "settings", "--format", "([unclosed"], env=cli_env)
    assert bad.exit_code == 2 and "regular expression" in bad.stderr
