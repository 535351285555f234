"""Where a redemption happens: the parts of a register that scanning and paying use.

A `Register` makes one `Station` and hands it to the path it chose (holds.py and pay.py in
Python, server_functions.py on PostgreSQL's server), so that no path needs the register.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from connector.store import Store


@dataclass(frozen=True)
class Station:
    """The store, "now" (`clock`) and the store's time zone, how long a scan holds a code, and
    the source history lines name (R3)."""

    store: Store
    clock: Callable[[], datetime]
    zone: tzinfo
    hold: timedelta
    source: str

    def today(self, now: datetime | None = None) -> date:
        """The date in the store's zone: expiry is end of day there (R4)."""
        return (now or self.clock()).astimezone(self.zone).date()
