"""`promosync netsuite check`: find out, read-only, what a NetSuite account offers the sync.

Each probe is one request (a SuiteQL probe that names a missing column is sent again without
it), so a whole check is about ten requests: governance limits (credentials, concurrency), the
metadata catalog of promotionCode (fields, enum values and, where shown, their labels) and of
couponCode (whether batch writes are offered), one-row SuiteQL probes of every table and column
the sync and the mirror would use
(plus how raw dates look), and one query for all the items the mapping and the promotions name.
Nothing is written to NetSuite, and nothing is sent that could write: the select options of a
create form are asked for with a POST to the record's create URL, which an account that ignores
the Accept header would take as a create, so the check does not ask for them (labels come from
the metadata, or from reading back the first promotion written, see sync.discount_types). The
result is an AccountProfile plus one line per capability.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connector.errors import NetSuiteAuthError, NetSuiteBadRequest, NetSuiteError
from connector.netsuite import NetSuiteClient, NetSuiteConnectFailed, RetryPolicy
from connector.netsuite.profile import AccountProfile
from connector.sync import suiteql_values as sql

# Tables and columns the sync and the mirror may use, probed one row each.
PROBES: dict[str, tuple[str, ...]] = {
    "promotioncode": ("id", "externalid", "usetype", "isinactive"),
    "couponcode": ("id", "code", "promotion", "used"),
    "tranpromotion": ("transaction", "couponcode", "promocode"),
    "transaction": ("id", "lastmodifieddate"),
}
_FIELD_MISSING = re.compile(r"Field '([^']+)' was not found", re.IGNORECASE)
_RECORD_MISSING = re.compile(r"Record '([^']+)' was not found", re.IGNORECASE)
_DATE_FORMATS = ("M/D/YYYY", "D/M/YYYY", "MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD", "D.M.YYYY",
                 "DD.MM.YYYY", "YYYY/MM/DD")
# The metadata catalog can be slow (users report time-outs): a probe gives up quickly and the
# capability stays unknown instead of holding the check for minutes.
PROBE_RETRY = RetryPolicy(max_attempts=2, max_total_seconds=20.0)
METADATA_TIMEOUT = 30.0


def missing_name(error: NetSuiteError) -> tuple[str, str] | None:
    """("field" | "record", name) when a SuiteQL error says a column or table does not exist."""
    text = f"{error.detail or ''} {error}"
    for kind, pattern in (("field", _FIELD_MISSING), ("record", _RECORD_MISSING)):
        found = pattern.search(text)
        if found:
            return kind, found.group(1).lower()
    return None


def label_meaning(label: str | None) -> str | None:
    """"percent" or "amount" for a discountType label NetSuite shows, else None."""
    text = (label or "").strip().lower()
    if "percent" in text or "%" in text:
        return "percent"
    if any(w in text for w in ("flat", "amount", "fixed", "currency", "$")):
        return "amount"
    return None


@dataclass
class Probe:
    """What the probes found, before it becomes a profile."""

    auth: str
    concurrency: int | None = None
    concurrency_note: str = ""
    promotion_fields: frozenset[str] | None = None
    coupon_fields: frozenset[str] | None = None
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    labels_source: str | None = None
    metadata_error: str | None = None
    async_batch: bool | None = None
    suiteql: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    date_format: str | None = None
    items: dict[str, bool] = field(default_factory=dict)
    requests: int = 0


class AccountCheck:
    """Runs the probes against one client; `run(items)` returns the profile."""

    def __init__(self, client: NetSuiteClient, *, timezone: str | None = None) -> None:
        self.client = client
        self.timezone = timezone

    def run(self, items: Iterable[str] = ()) -> tuple[AccountProfile, Probe]:
        auth = "oauth2" if type(self.client.auth).__name__.startswith("OAuth2") else "tba"
        probe = Probe(auth=auth)
        self._governance(probe)
        self._metadata(probe)
        for table, cols in PROBES.items():
            probe.suiteql[table] = self._columns(table, cols, probe)
        self._items(sorted({str(i) for i in items if str(i).strip()}), probe)
        discount = _discount_from_labels(probe.enums, probe.labels)
        profile = AccountProfile(
            account=self.client.account_id, checked_at=datetime.now(UTC).isoformat(
                timespec="seconds"), auth=auth, concurrency=probe.concurrency,
            promotion_fields=probe.promotion_fields, coupon_fields=probe.coupon_fields,
            enums=probe.enums, labels=probe.labels, discount_type=discount,
            discount_type_source=probe.labels_source if discount else None,
            suiteql=probe.suiteql, date_format=probe.date_format, timezone=self.timezone,
            async_batch=probe.async_batch, items=probe.items)
        return profile, probe

    # ---- probes ---------------------------------------------------------------------------

    def _governance(self, probe: Probe) -> None:
        """Credentials (any answer but 401 proves them) and the concurrency limit."""
        probe.requests += 1
        try:
            limits = self.client.governance_limits()
        except (NetSuiteAuthError, NetSuiteConnectFailed):
            raise
        except NetSuiteError as exc:
            probe.concurrency_note = f"governance limits not readable ({exc.status or exc})"
            return
        limit = limits.get("accountConcurrencyLimit") or limits.get("concurrencyLimit")
        if isinstance(limit, int | str) and str(limit).isdigit():
            probe.concurrency = int(limit)
        unallocated = limits.get("accountUnallocatedConcurrencyLimit")
        if unallocated is not None:
            probe.concurrency_note = f"unallocated {unallocated}"

    def _metadata(self, probe: Probe) -> None:
        try:
            probe.requests += 1
            schema = self.client.metadata_catalog("promotionCode", timeout=METADATA_TIMEOUT,
                                                  retry=PROBE_RETRY)
            probe.promotion_fields = frozenset(_properties(schema))
            probe.enums = {f: v for f in ("useType", "discountType")
                           if (v := _enum(schema, f))}
            labels = _labels(schema, "discountType")
            if labels:
                probe.labels, probe.labels_source = {"discountType": labels}, "metadata"
            probe.requests += 1
            api = self.client.metadata_catalog("couponCode", openapi=True,
                                               timeout=METADATA_TIMEOUT, retry=PROBE_RETRY)
            probe.async_batch = _batch_offered(api)
            probe.coupon_fields = _openapi_fields(api, "couponCode")
        except (NetSuiteAuthError, NetSuiteConnectFailed):
            raise
        except NetSuiteError as exc:
            probe.metadata_error = _short(exc)

    def _columns(self, table: str, wanted: tuple[str, ...], probe: Probe
                 ) -> tuple[str, ...] | None:
        """Columns of `table` that SuiteQL accepts; () when the table is unknown to it."""
        cols = list(wanted)
        while cols:
            extra = ""
            if table == "transaction" and "lastmodifieddate" in cols:
                extra = (", TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS "
                         "promosync_iso_date")
            query = f"SELECT {', '.join(cols)}{extra} FROM {table} FETCH FIRST 1 ROWS ONLY"
            probe.requests += 1
            try:
                rows = list(self.client.suiteql_page(query, limit=1, offset=0).get("items")
                            or [])
            except (NetSuiteAuthError, NetSuiteConnectFailed):
                raise
            except NetSuiteBadRequest as exc:
                gone = missing_name(exc)
                if gone is None:
                    return None
                kind, name = gone
                if kind == "record" or name not in cols:
                    return ()
                cols.remove(name)
                continue
            except NetSuiteError:
                return None
            if table == "transaction" and rows and isinstance(rows[0], dict):
                probe.date_format = _date_format(rows[0].get("lastmodifieddate"),
                                                 rows[0].get("promosync_iso_date"))
            return tuple(cols)
        return ()

    def _items(self, items: list[str], probe: Probe) -> None:
        ids = [i for i in items if i.lstrip("-").isdigit()]
        probe.items = {i: False for i in items}
        if not ids:
            return
        probe.requests += 1
        try:
            rows = self.client.suiteql_page(
                f"SELECT id FROM item WHERE id IN ({sql.integers(ids)})", limit=1000, offset=0)
        except (NetSuiteAuthError, NetSuiteConnectFailed):
            raise
        except NetSuiteError:
            probe.items = {}
            return
        for row in rows.get("items") or []:
            if isinstance(row, dict) and str(row.get("id")) in probe.items:
                probe.items[str(row["id"])] = True


# ---- reading the metadata -------------------------------------------------------------------

def _properties(schema: dict[str, Any]) -> list[str]:
    props = schema.get("properties")
    return list(props) if isinstance(props, dict) else []


def _field_schema(schema: dict[str, Any], name: str) -> dict[str, Any]:
    props = schema.get("properties")
    node = props.get(name) if isinstance(props, dict) else None
    return node if isinstance(node, dict) else {}


def _id_schema(node: dict[str, Any]) -> dict[str, Any]:
    inner = node.get("properties")
    if isinstance(inner, dict) and isinstance(inner.get("id"), dict):
        return dict(inner["id"])
    return node


def _enum(schema: dict[str, Any], name: str) -> tuple[str, ...]:
    node = _id_schema(_field_schema(schema, name))
    values = node.get("enum")
    if isinstance(values, list):
        return tuple(str(v) for v in values)
    one_of = node.get("oneOf")
    if isinstance(one_of, list):
        return tuple(str(o["const"]) for o in one_of if isinstance(o, dict) and "const" in o)
    return ()


def _labels(schema: dict[str, Any], name: str) -> dict[str, str]:
    """Labels of an enum, in the shapes a JSON Schema can carry them: `oneOf` with `const` and
    `title`, or a map under `x-ns-enum-labels` / `x-enum-labels`."""
    node = _field_schema(schema, name)
    for where in (node, _id_schema(node)):
        for key in ("x-ns-enum-labels", "x-enum-labels"):
            found = where.get(key)
            if isinstance(found, dict):
                return {str(k): str(v) for k, v in found.items()}
        one_of = where.get("oneOf")
        if isinstance(one_of, list):
            pairs = {str(o["const"]): str(o["title"]) for o in one_of
                     if isinstance(o, dict) and "const" in o and "title" in o}
            if pairs:
                return pairs
    return {}


def _batch_offered(api: dict[str, Any]) -> bool:
    paths = api.get("paths")
    if not isinstance(paths, dict):
        return False
    for path, ops in paths.items():
        if str(path).rstrip("/").lower().endswith("/couponcode") and isinstance(ops, dict):
            if any(m in ops for m in ("put", "patch")):
                return True
    return False


def _openapi_fields(api: dict[str, Any], record: str) -> frozenset[str] | None:
    schemas = (api.get("components") or {}).get("schemas") if isinstance(api, dict) else None
    if not isinstance(schemas, dict):
        return None
    for name, node in schemas.items():
        if str(name).lower() == record.lower() and isinstance(node, dict):
            return frozenset(_properties(node))
    return None


def _discount_from_labels(enums: dict[str, tuple[str, ...]],
                          labels: dict[str, dict[str, str]]) -> dict[str, str] | None:
    """{"percent": v, "amount": w} when the labels say so unambiguously."""
    meaning: dict[str, str] = {}
    for value, label in labels.get("discountType", {}).items():
        m = label_meaning(label)
        if m is not None and m not in meaning:
            meaning[m] = value
    if set(meaning) == {"percent", "amount"} and meaning["percent"] != meaning["amount"]:
        return meaning
    return None


def _date_format(raw: Any, iso: Any) -> str | None:
    """The user's date format, from a raw date and the same date through TO_CHAR."""
    try:
        when = datetime.strptime(str(iso), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    text = str(raw or "").strip().split(" ")[0]
    for fmt in _DATE_FORMATS:
        if render_date(when, fmt) == text:
            return fmt
    return None


def render_date(when: datetime, fmt: str) -> str:
    out = fmt.replace("YYYY", f"{when.year:04d}")
    out = out.replace("MM", f"{when.month:02d}").replace("DD", f"{when.day:02d}")
    return out.replace("M", str(when.month)).replace("D", str(when.day))


def _short(exc: NetSuiteError) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:157] + "..."
