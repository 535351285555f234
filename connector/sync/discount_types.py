"""Which discountType value means percent: learned from the account, never guessed.

Public evidence disagrees (F / T in the metadata, "percent" in Oracle's sample, one weak hint that
F is percent), and a wrong value turns "10 % off" into "10 off": a financial error. So:

* values the mapping states, or that the account's metadata labels give, are used, and the first
  promotion written with them is read back once: if NetSuite's `discountType.refName` says the
  other meaning, that promotion is inactivated and the run stops (`DiscountTypeContradicted`);
* values nobody states are learned by writing the first percent or amount promotion *inactive*
  with one of the enum values, reading its refName back, and only then writing it active with
  the right value; an account whose refName says neither refuses percent and amount promotions
  (`DiscountTypeUnknown`) until the mapping states the values.

What was learned or confirmed goes into the cached account profile, so it happens once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from connector.errors import DiscountTypeContradicted, DiscountTypeUnknown
from connector.netsuite import NetSuiteClient
from connector.netsuite.profile import AccountProfile
from connector.sync.account import label_meaning

log = logging.getLogger("promosync.sync")
CONFIRMED = "read back"
MAPPING_KEY = "enums.discountType.percent / enums.discountType.amount"


class DiscountTypes:
    """The values one run uses, shared by its writes (one learns, the others wait for it)."""

    def __init__(self, client: NetSuiteClient, profile: AccountProfile,
                 values: dict[str, str] | None, source: str | None,
                 save: Callable[[AccountProfile], None]) -> None:
        self.client = client
        self.profile = profile
        self.values = dict(values) if values else None
        self.source = source
        self._save = save
        self._lock = threading.Lock()
        self._refused: str | None = None  # why learning failed: later promotions refuse at once

    @property
    def confirmed(self) -> bool:
        return self.values is not None and self.source == CONFIRMED

    def body_for(self, body: dict[str, Any], meaning: str) -> dict[str, Any]:
        """`body` with the discountType for `meaning` (values must be known)."""
        assert self.values is not None
        return {**body, "discountType": {"id": self.values[meaning]}}

    def learn(self, external_id: str, body: dict[str, Any]) -> None:
        """Write `body` inactive with a candidate value, read it back, and keep what it says."""
        with self._lock:
            if self.values is not None:
                return
            if self._refused is not None:
                raise DiscountTypeUnknown(self._refused)
            try:
                self._learn(external_id, body)
            except DiscountTypeUnknown as exc:
                self._refused = str(exc)
                raise

    def _learn(self, external_id: str, body: dict[str, Any]) -> None:
        enum = self.profile.enums.get("discountType") or ()
        if len(enum) != 2:
            raise DiscountTypeUnknown(
                "the account's metadata does not list the two discountType values, so "
                f"promosync cannot tell which means percent: state {MAPPING_KEY} in the "
                "mapping")
        probe = {**body, "discountType": {"id": enum[0]}, "isInactive": True}
        nid = self.client.upsert("promotionCode", external_id, probe)
        read = self._meaning(nid, external_id)
        if read is None:
            raise DiscountTypeUnknown(
                f"NetSuite does not say what discountType {enum[0]!r} means (the promotion "
                f"{external_id} was written inactive and stays so): state {MAPPING_KEY} "
                "in the mapping")
        other = "amount" if read == "percent" else "percent"
        self._keep({read: enum[0], other: enum[1]}, CONFIRMED)
        log.info("learned discountType from the account: percent = %s, amount = %s",
                 self.values["percent"] if self.values else "?",
                 self.values["amount"] if self.values else "?")

    def verify(self, nid: str, external_id: str, meaning: str) -> None:
        """After the first write with unconfirmed values: read it back, stop if it is wrong."""
        with self._lock:
            if self.confirmed or self.values is None:
                return
            read = self._meaning(nid, external_id)
            if read is None:
                return  # NetSuite's label says neither: nothing to contradict
            if read != meaning:
                self.client.patch("promotionCode", nid, {"isInactive": True})
                raise DiscountTypeContradicted(
                    f"discountType {self.values[meaning]!r} ({self.source}) was meant as "
                    f"{meaning} but NetSuite reads it as {read}; the promotion {external_id} "
                    f"was inactivated: correct {MAPPING_KEY} in the mapping")
            self._keep(self.values, CONFIRMED)

    def _meaning(self, nid: str | None, external_id: str) -> str | None:
        record = (self.client.get("promotionCode", nid) if nid else
                  self.client.get_by_external_id("promotionCode", external_id) or {})
        value = record.get("discountType")
        label = value.get("refName") if isinstance(value, dict) else None
        return label_meaning(str(label)) if label else None

    def _keep(self, values: dict[str, str], source: str) -> None:
        self.values, self.source = dict(values), source
        self.profile = self.profile.with_discount_type(values, source)
        self._save(self.profile)
