"""The mapping between local promotions and NetSuite promotionCode records (R24-R29).

Defaults live in `mappings/default.toml`; an account file (PROMOSYNC_MAPPING / --mapping)
overrides any of its keys (tables are merged key by key). `load_mapping` checks every value and
refuses a bad file with one ConfigError naming the file, the key and the reason. The rest is pure:
`promotion_body` turns a local promotion (one chunk of it) into the JSON body NetSuite receives.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector._resources import data_dir
from connector.chunks import NETSUITE_MAX_CODES
from connector.errors import ConfigError
from connector.models import PromotionKind
from connector.sync.model import LocalPromotion

DEFAULT_FILE = data_dir("mappings") / "default.toml"
MAX_BATCH = 100  # Oracle, Batch Operations: at most 100 records in one batch request
LOCAL_FIELDS = ("name", "start_date", "end_date", "rate", "combination_type", "min_order",
                "description")
SECTIONS = ("forms", "enums", "discount_items", "fields", "chunks", "codes", "redemptions",
            "changes")


@dataclass(frozen=True)
class Mapping:
    """A checked mapping. `source` names the files it came from (for messages)."""

    forms: dict[str, int]
    use_types: dict[str, str]  # single_use / multi_use -> NetSuite useType
    discount_types: dict[str, str]  # percent / amount -> NetSuite discountType
    discount_items: dict[str, str]  # kind or "default" -> item id ("" = none)
    fields: dict[str, str]  # local attribute -> NetSuite field ("" = left out)
    chunk_size: int = NETSUITE_MAX_CODES
    code_push: str = "auto"
    batch_size: int = 100
    page_size: int = 1000
    redemption_source: str = "auto"
    overlap_minutes: int = 10
    push_local_redemptions: bool = False
    push_method: str = "sales_order"
    push_customer: str = ""
    when_used: str = "inactivate"
    source: str = str(DEFAULT_FILE)

    def form_for(self, kind: str) -> int:
        return self.forms[kind]

    def discount_item_for(self, kind: str) -> str:
        return self.discount_items.get(kind) or self.discount_items.get("default", "")

    def stated_discount_types(self) -> dict[str, str] | None:
        """The discountType values the mapping states, or None when it leaves them to the
        account (both empty). A half-stated pair is refused when the mapping is loaded."""
        if all(self.discount_types.get(m) for m in ("percent", "amount")):
            return dict(self.discount_types)
        return None


class _Checker:
    """Reads typed values out of the merged TOML, raising ConfigError(file, key, reason)."""

    def __init__(self, data: dict[str, Any], origin: dict[str, str]) -> None:
        self.data = data
        self.origin = origin  # dotted key -> file that set it

    def fail(self, key: str, reason: str) -> ConfigError:
        where = self.origin.get(key) or self.origin.get(key.split(".")[0], str(DEFAULT_FILE))
        return ConfigError(f"mapping {where}: key {key}: {reason}")

    def get(self, key: str) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise self.fail(key, "is missing")
            node = node[part]
        return node

    def table(self, key: str) -> dict[str, Any]:
        value = self.get(key)
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return value

    def integer(self, key: str, low: int, high: int) -> int:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, not {value!r}")
        if not low <= value <= high:
            raise self.fail(key, f"must be between {low:,} and {high:,}, not {value:,}")
        return value

    def text(self, key: str, choices: tuple[str, ...] | None = None, *, empty: bool = True) -> str:
        value = self.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, not {value!r}")
        if not empty and not value.strip():
            raise self.fail(key, "cannot be empty")
        return value

    def boolean(self, key: str) -> bool:
        value = self.get(key)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {value!r}")
        return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"mapping {path}: the file does not exist") from None
    except OSError as exc:
        raise ConfigError(f"mapping {path}: cannot read it ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"mapping {path}: not valid TOML ({exc})") from None


def _merge(base: dict[str, Any], over: dict[str, Any], origin: dict[str, str], path: str,
           prefix: str = "") -> None:
    for key, value in over.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value, origin, path, dotted + ".")
        else:
            base[key] = value
        origin[dotted] = path


def load_mapping(path: str | Path | None = None, *, default: str | Path | None = None) -> Mapping:
    """The default mapping, overridden by the account file `path` when given."""
    default_path = Path(default) if default else DEFAULT_FILE
    data = _read_toml(default_path)
    origin: dict[str, str] = {}
    _merge({}, data, origin, str(default_path))
    sources = [str(default_path)]
    if path:
        account = Path(path)
        _merge(data, _read_toml(account), origin, str(account))
        sources.append(str(account))
    return _build(_Checker(data, origin), " + ".join(sources))


def _build(c: _Checker, source: str) -> Mapping:
    for key in c.data:
        if key not in SECTIONS:
            raise c.fail(key, f"unknown section; known: {', '.join(SECTIONS)}")
    forms = {k.value: c.integer(f"forms.{k.value}", -10**9, 10**9) for k in PromotionKind}
    for key in c.table("forms"):
        if key not in forms:
            raise c.fail(f"forms.{key}", "unknown promotion kind")
    fields = {}
    for key in c.table("fields"):
        if key not in LOCAL_FIELDS:
            known = ", ".join(LOCAL_FIELDS)
            raise c.fail(f"fields.{key}", f"unknown local attribute; known: {known}")
        fields[key] = c.text(f"fields.{key}")
    items = {}
    for key in c.table("discount_items"):
        if key != "default" and key not in forms:
            raise c.fail(f"discount_items.{key}", "must be a promotion kind or default")
        items[key] = c.text(f"discount_items.{key}")
    return Mapping(
        forms=forms,
        use_types={u: c.text(f"enums.useType.{u}", empty=False)
                   for u in ("single_use", "multi_use")},
        discount_types=_discount_types(c),
        discount_items=items,
        fields=fields,
        chunk_size=c.integer("chunks.size", 1, NETSUITE_MAX_CODES),
        code_push=c.text("codes.push", ("auto", "upsert", "async_batch")),
        batch_size=c.integer("codes.batch_size", 1, MAX_BATCH),
        page_size=c.integer("codes.page_size", 1, 1000),
        redemption_source=c.text("redemptions.source", ("auto", "tranpromotion", "couponcode")),
        overlap_minutes=c.integer("redemptions.overlap_minutes", 0, 24 * 60),
        push_local_redemptions=c.boolean("redemptions.push_local"),
        push_method=c.text("redemptions.push_method", ("sales_order",)),
        push_customer=c.text("redemptions.push_customer"),
        when_used=c.text("changes.when_used", ("inactivate", "refuse")),
        source=source,
    )


def _discount_types(c: _Checker) -> dict[str, str]:
    """enums.discountType: both values stated, or both empty (learn them from the account)."""
    values = {d: c.text(f"enums.discountType.{d}").strip() for d in ("percent", "amount")}
    if bool(values["percent"]) != bool(values["amount"]):
        empty = "percent" if not values["percent"] else "amount"
        raise c.fail(f"enums.discountType.{empty}", "state both values or leave both empty "
                     "(then promosync learns them from the account)")
    if values["percent"] and values["percent"] == values["amount"]:
        raise c.fail("enums.discountType.amount", "must differ from the percent value")
    return values


def _number(value: str | None) -> float | None:
    return None if value is None else float(value)


def promotion_body(mapping: Mapping, promo: LocalPromotion, *, name: str,
                   code_pattern: str | None = None, code: str | None = None,
                   discount_types: dict[str, str] | None = None) -> dict[str, Any]:
    """The promotionCode body for one chunk of `promo` (never numberToGenerate: see plan).

    discountType is set from `discount_types` (percent / amount -> the account's values); when
    they are not known yet the body has none, and the write that learns them adds it."""
    f = mapping.fields
    body: dict[str, Any] = {
        "customForm": {"id": str(mapping.form_for(promo.kind))},
        "useType": {"id": mapping.use_types[promo.use_type]},
        "isInactive": False,
    }
    values: dict[str, Any] = {
        "name": name,
        "start_date": promo.start_date,
        "end_date": promo.end_date,
        "rate": _number(promo.rate),
        "combination_type": {"id": promo.combination_type},
        "description": f"promosync: {promo.name}",
    }
    for local, value in values.items():
        target = f.get(local, "")
        if target and value is not None:
            body[target] = value
    if discount_types is not None:
        body["discountType"] = {"id": discount_types[promo.discount_type]}
    item = promo.discount_item or mapping.discount_item_for(promo.kind)
    if item:
        body["discount"] = {"id": str(item)}
    _conditions(body, f, promo)
    if code_pattern:
        body["codePattern"] = code_pattern
    if code:
        body["code"] = code
    return body


def _conditions(body: dict[str, Any], f: dict[str, str], promo: LocalPromotion) -> None:
    """What the customer needs to buy: a minimum order amount and/or specific items."""
    if promo.min_order is None and not promo.items:
        body["whatTheCustomerNeedsToBuy"] = {"id": "ANYTHING"}
        return
    body["whatTheCustomerNeedsToBuy"] = {"id": "MINIMUMORDERAMOUNTORSPECIFICITEMS"}
    if promo.min_order is not None and f.get("min_order"):
        body["minimumOrderAmountCheck"] = True
        body[f["min_order"]] = float(promo.min_order)
    if promo.items:
        body["specificItemsCheck"] = True
        body["items"] = {"items": [{"item": {"id": str(i)}} for i in promo.items]}


def body_hash(body: dict[str, Any]) -> str:
    """A stable fingerprint of a body: equal bodies, equal hashes."""
    text = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
