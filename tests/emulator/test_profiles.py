"""R36: which account the emulator plays - today's defaults, the evidence default, the named
variants, and an account profile file (what `netsuite check --write-profile` writes), also
through `promosync emulator serve --profile / --variant`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from connector.cli import cli
from connector.emulator import EmulatorOptions, NetSuiteBackend
from connector.emulator import options as options_module
from connector.emulator.apierror import ApiError
from connector.emulator.profiles import VARIANTS, load_profile, options_for, profile_overrides

PROFILE: dict[str, Any] = {
    "promosync_profile": 1, "account": "1234567_SB1", "checked_at": "2026-12-06T10:00:00Z",
    "auth": "tba", "concurrency": 7, "unknown_key": {"ignored": True},
    "records": {"promotionCode": {"fields": ["id", "name"],
                                  "enums": {"discountType": ["F", "T"]},
                                  "labels": {"discountType": {"T": "Percent", "F": "Flat"}}},
                "couponCode": {"fields": ["id", "code"]}},
    "discount_type": {"percent": "T", "amount": "F", "source": "metadata"},
    "suiteql": {"promotioncode": ["id", "externalid", "usetype", "isinactive"],
                "couponcode": ["id", "code", "promotion", "externalid", "datesent", "used"],
                "tranpromotion": [], "transaction": None},
    "dates": {"format": "DD/MM/YYYY", "timezone": "Europe/Paris"},
    "async_batch": False, "generation": {"delay_seconds": 2}, "forms": {"-10502": True},
    "items": {"10": True},
}


def test_R36_every_variant_builds_and_differs_from_the_evidence_only_where_named() -> None:
    evidence = EmulatorOptions.evidence_default()
    assert {"evidence", "used_in_suiteql", "t_is_percent", "percent_flat", "labels_in_metadata",
            "slow_generation", "no_async_batch", "no_tranpromotion", "iso_dates"} <= set(VARIANTS)
    for name, overrides in VARIANTS.items():
        opts = options_for(name)
        for field in overrides:
            assert getattr(opts, field) == overrides[field], (name, field)
        assert opts.credentials == evidence.credentials
    assert options_for("evidence", timezone="UTC").timezone == "UTC"
    with pytest.raises(ValueError, match="unknown emulator variant"):
        options_for("nonesuch")


def test_R36_evidence_default_differs_from_the_legacy_options_as_the_evidence_says() -> None:
    today, evidence = options_for("legacy"), EmulatorOptions.evidence_default()
    assert today.date_format is None and today.timezone == "UTC"
    assert today.couponcode_used_in_suiteql and not today.suiteql_hidden_columns
    assert (evidence.date_format, evidence.timezone) == ("M/D/YYYY", "America/Los_Angeles")
    assert evidence.suiteql_hidden_columns == {"promotioncode.customform",
                                               "couponcode.lastmodifieddate"}
    assert not evidence.couponcode_used_in_suiteql and evidence.tranpromotion_queryable
    assert evidence.discount_type_values == {"percent": "F", "amount": "T"}
    assert evidence.async_batch_max_items == 100 and evidence.strict_external_ids
    # the flip is one constant: both sets hold the same keys, and EmulatorOptions() is one
    assert set(options_module.EVIDENCE) == set(options_module.LEGACY)
    assert EmulatorOptions() == (evidence if options_module.EVIDENCE_IS_DEFAULT else today)


def test_R36_options_refuse_impossible_accounts() -> None:
    with pytest.raises(ValueError, match="time zone"):
        EmulatorOptions(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="two different values"):
        EmulatorOptions(discount_type_values={"percent": "F", "amount": "F"})
    with pytest.raises(ValueError, match="table.column"):
        EmulatorOptions(suiteql_hidden_columns=frozenset({"customform"}))


def test_R36_a_profile_plays_the_account_it_describes() -> None:
    o = EmulatorOptions.from_profile(PROFILE)
    assert o.discount_type_values == {"percent": "T", "amount": "F"}
    assert o.discount_type_labels == {"percent": "Percent", "amount": "Flat"}
    assert o.discount_labels_in_metadata and not o.select_options_offered
    assert (o.date_format, o.timezone) == ("DD/MM/YYYY", "Europe/Paris")
    assert o.async_batch_offered is False and o.generation_delay_seconds == 2.0
    assert o.account_concurrency_limit == o.concurrency_limit == 7
    assert o.allowed_custom_forms == {-10502}
    assert not o.tranpromotion_queryable and o.couponcode_used_in_suiteql
    assert {"couponcode.usecount", "couponcode.lastmodifieddate", "promotioncode.customform",
            "promotioncode.name"} <= o.suiteql_hidden_columns
    assert not any(h.startswith("transaction.") for h in o.suiteql_hidden_columns)
    b = NetSuiteBackend(dataclasses.replace(o, generation_delay_seconds=0.0))
    b.create("promotionCode", {"name": "P", "useType": {"id": "SINGLEUSE"},
                               "codePattern": "P-[AN.6]", "numberToGenerate": 1,
                               "customForm": {"id": "-10502"}})
    assert b.suiteql("SELECT id, used FROM couponcode")[1] == 1
    for query, missing in (("SELECT name FROM promotioncode", "Field 'name'"),
                           ("SELECT usecount FROM couponcode", "Field 'usecount'"),
                           ("SELECT * FROM tranpromotion", "Record 'tranpromotion'")):
        with pytest.raises(ApiError, match=missing):
            b.suiteql(query)


def test_R36_an_empty_profile_is_the_evidence_default() -> None:
    assert EmulatorOptions.from_profile({"promosync_profile": 1}) == \
        EmulatorOptions.evidence_default()
    labels_from_options = profile_overrides({
        "promosync_profile": 1, "discount_type": {"percent": "F", "amount": "T",
                                                  "source": "select options"},
        "records": {"promotionCode": {"labels": {"discountType": {"F": "Percent"}}}}})
    assert labels_from_options["select_options_offered"] is True
    assert "discount_labels_in_metadata" not in labels_from_options
    none_true = profile_overrides({"promosync_profile": 1, "forms": {"-10507": False}})
    assert none_true["allowed_custom_forms"] == {-10501, -10502, -10503, -10504}


@pytest.mark.parametrize("data,message", [
    ({"x": 1}, "not an account profile"), ([1, 2], "not an account profile"),
    ({"promosync_profile": 2}, "not an account profile"),
    ({"promosync_profile": 1, "suiteql": {"couponcode": "id"}}, "suiteql.couponcode"),
    ({"promosync_profile": 1, "dates": {"timezone": "Nowhere/Land"}}, "time zone"),
    ({"promosync_profile": 1, "discount_type": {"percent": "F"}}, "discount_type"),
    ({"promosync_profile": 1, "concurrency": 0}, "concurrency"),
    ({"promosync_profile": 1, "forms": {"order": True}}, "forms"),
    ({"promosync_profile": 1, "async_batch": "yes"}, "async_batch"),
])
def test_R36_a_file_that_is_not_a_profile_is_one_clear_error(tmp_path: Path, data: Any,
                                                            message: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=message) as err:
        load_profile(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_R36_serve_profile_that_is_not_a_profile_exits_2_with_one_line(tmp_path: Path) -> None:
    from connector.cli import main

    bad = tmp_path / "bad.json"
    bad.write_text("not json at all")
    for path in (bad, tmp_path / "missing.json"):
        with pytest.raises(SystemExit) as code:
            main(["emulator", "serve", "--profile", str(path), "--port", "0"])
        assert code.value.code == 2
    result = CliRunner().invoke(cli, ["emulator", "serve", "--variant", "nonesuch"])
    assert result.exit_code == 2


def test_R36_serve_profile_and_variant_choose_the_options(tmp_path: Path) -> None:
    from connector.cli.emulator import account_options

    path = tmp_path / "profile.json"
    path.write_text(json.dumps(PROFILE))
    assert account_options(str(path), None) == load_profile(path)
    assert account_options(None, "iso_dates") == options_for("iso_dates")
    assert account_options(None, None) == EmulatorOptions()
