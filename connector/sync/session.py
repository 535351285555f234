"""One run's view of the NetSuite account: the cached profile, the shapes it gives, a refresh.

`sync plan` and `sync run` do not probe the account each time: the profile that `netsuite check`
found is cached in the store, and probed again only when there is none, when asked
(`--recheck`), or when NetSuite contradicts it (a SuiteQL error "Field … was not found" or
"Record … was not found"): then the check runs once more and the step is tried again; a second
contradiction refuses the run in one line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from connector.errors import ConfigError, NetSuiteBadRequest
from connector.netsuite import NetSuiteClient
from connector.netsuite.profile import AccountProfile
from connector.store import Store
from connector.sync.account import AccountCheck, Probe, missing_name
from connector.sync.capabilities import Shapes, load_profile, save_profile, shapes
from connector.sync.discount_types import DiscountTypes
from connector.sync.local import local_promotions
from connector.sync.mapping import Mapping

log = logging.getLogger("promosync.sync")
T = TypeVar("T")


class Account:
    """The profile and shapes of the account a client talks to, for one engine."""

    def __init__(self, store: Store, client: NetSuiteClient, mapping: Mapping, *,
                 timezone: str | None = None, recheck: bool = False) -> None:
        self.store = store
        self.client = client
        self.mapping = mapping
        self.timezone = timezone
        self._recheck = recheck
        self._profile: AccountProfile | None = None
        self._discount: DiscountTypes | None = None
        self.refreshed = False
        self.last_probe: Probe | None = None

    def profile(self) -> AccountProfile:
        if self._profile is None:
            cached = None
            if not self._recheck:
                with self.store.read() as conn:
                    cached = load_profile(conn, self.client.account_id)
            if cached is not None and self.timezone and cached.timezone != self.timezone:
                cached = None  # the setting changed: look again
            self._profile = cached if cached is not None else self.check()[0]
        return self._profile

    def check(self) -> tuple[AccountProfile, Probe]:
        """Probe the account now (read-only) and cache what was found."""
        profile, probe = AccountCheck(self.client, timezone=self.timezone).run(self._items())
        old = self._profile
        if old is not None and old.discount_type and not profile.discount_type:
            # What an earlier write taught us (read back) is not in the metadata: keep it.
            profile = profile.with_discount_type(old.discount_type,
                                                 old.discount_type_source or "profile")
        elif old is None and not profile.discount_type:
            with self.store.read() as conn:
                cached = load_profile(conn, self.client.account_id)
            if cached is not None and cached.discount_type:
                profile = profile.with_discount_type(cached.discount_type,
                                                     cached.discount_type_source or "profile")
        save_profile(self.store, profile)
        self._profile, self._discount, self.last_probe = profile, None, probe
        return profile, probe

    def shapes(self) -> Shapes:
        """The shapes this run uses; refuses (ConfigError) when none can work."""
        found = shapes(self.profile(), self.mapping)
        if found.refusal:
            raise ConfigError(found.refusal)
        return found

    def discount_types(self) -> DiscountTypes:
        if self._discount is None:
            found = shapes(self.profile(), self.mapping)
            self._discount = DiscountTypes(self.client, self.profile(), found.discount_types,
                                           found.discount_source, self._keep)
        return self._discount

    def _keep(self, profile: AccountProfile) -> None:
        self._profile = profile
        save_profile(self.store, profile)

    def retrying(self, step: Callable[[], T]) -> T:
        """Run `step`; when NetSuite says a column or table the profile relies on is not there,
        probe the account again and run it once more, then refuse in one line."""
        while True:
            try:
                return step()
            except NetSuiteBadRequest as exc:
                gone = missing_name(exc)
                if gone is None:
                    raise
                if self.refreshed:
                    raise ConfigError(
                        f"NetSuite says {gone[0]} '{gone[1]}' was not found although the account "
                        "check found it; run `promosync netsuite check` and adjust the mapping "
                        "(redemptions.source, codes.push)") from None
                log.warning("NetSuite says %s '%s' was not found: checking the account again",
                            *gone)
                self.refreshed = True
                self.check()

    def _items(self) -> list[str]:
        """Every item id the mapping and the local promotions name."""
        return sorted({v for v in self.mapping.discount_items.values() if v}
                      | set(self.promotion_items()))

    def promotion_items(self) -> list[str]:
        """Item ids the local promotions name (discount items and specific items)."""
        items: set[str] = set()
        with self.store.read() as conn:
            for promo in local_promotions(conn, self.mapping.chunk_size):
                if not promo.deleted:
                    items.update(i for i in (promo.discount_item, *promo.items) if i)
        return sorted(items)
