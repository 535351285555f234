"""Mapping files (R24): shipped defaults, per-account overrides, refusals naming file/key/why."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.errors import ConfigError
from connector.sync.mapping import DEFAULT_FILE, load_mapping, promotion_body
from connector.sync.model import LocalPromotion


def test_R24_default_mapping_has_the_oracle_form_per_kind() -> None:
    m = load_mapping()
    assert m.forms == {"item": -10501, "order": -10502, "shipping": -10503,
                       "fixed_price": -10504, "free_gift": -10507}
    assert m.use_types == {"single_use": "SINGLEUSE", "multi_use": "MULTIPLEUSES"}
    assert m.chunk_size == 500_000
    assert m.redemption_source == "auto" and m.code_push == "auto"
    assert m.batch_size <= 100


def test_R24_account_file_overrides_only_its_keys(tmp_path: Path) -> None:
    f = tmp_path / "acct.toml"
    f.write_text('[forms]\norder = -20000\n[enums.discountType]\npercent = "F"\namount = "T"\n'
                 '[chunks]\nsize = 1000\n[redemptions]\nsource = "tranpromotion"\n')
    m = load_mapping(f)
    assert m.forms["order"] == -20000 and m.forms["item"] == -10501
    assert m.discount_types == {"percent": "F", "amount": "T"}
    assert m.chunk_size == 1000 and m.redemption_source == "tranpromotion"
    assert str(f) in m.source


@pytest.mark.parametrize(("content", "key", "why"), [
    ("[chunks]\nsize = 600000\n", "chunks.size", "between"),
    ("[chunks]\nsize = \"big\"\n", "chunks.size", "whole number"),
    ("[codes]\npush = \"csv\"\n", "codes.push", "one of auto, upsert, async_batch"),
    ("[redemptions]\nsource = \"orders\"\n", "redemptions.source", "one of"),
    ("[redemptions]\npush_local = \"yes\"\n", "redemptions.push_local", "true or false"),
    ("[forms]\nvoucher = -1\n", "forms.voucher", "unknown promotion kind"),
    ("[forms]\norder = \"x\"\n", "forms.order", "whole number"),
    ("[fields]\ncolour = \"x\"\n", "fields.colour", "unknown local attribute"),
    ("[stuff]\na = 1\n", "stuff", "unknown section"),
])
def test_R24_bad_mapping_refused_with_file_key_and_reason(tmp_path: Path, content: str, key: str,
                                                          why: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(content)
    with pytest.raises(ConfigError) as err:
        load_mapping(f)
    message = str(err.value)
    assert str(f) in message and f"key {key}" in message and why in message


def test_R24_unreadable_or_invalid_toml_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_mapping(tmp_path / "missing.toml")
    f = tmp_path / "broken.toml"
    f.write_text("[forms\norder = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_mapping(f)


def test_R24_body_carries_form_use_type_discount_and_conditions() -> None:
    m = load_mapping()
    promo = LocalPromotion(id=1, name="Spring", external_key="k", kind="order",
                           use_type="single_use", codes_from="netsuite", discount_type="percent",
                           rate="10", min_order="150", items=("7",), start_date="2025-03-01",
                           discount_item="10", combination_type="COMBINABLE")
    body = promotion_body(m, promo, name="Spring #2", code_pattern="S-[AN.4]-2",
                          discount_types={"percent": "F", "amount": "T"})
    assert body["customForm"] == {"id": "-10502"}
    assert body["useType"] == {"id": "SINGLEUSE"}
    assert body["discountType"] == {"id": "F"}
    unknown = promotion_body(m, promo, name="Spring")
    assert "discountType" not in unknown
    assert body["discount"] == {"id": "10"}
    assert body["rate"] == 10.0 and body["minimumOrderAmount"] == 150.0
    assert body["items"] == {"items": [{"item": {"id": "7"}}]}
    assert body["name"] == "Spring #2" and body["codePattern"] == "S-[AN.4]-2"
    assert "numberToGenerate" not in body


def test_R24_default_file_is_shipped() -> None:
    assert DEFAULT_FILE.is_file()
