"""Coupon lists (R20-R23): hand codes to users for campaigns, once per user and campaign a day.

A list is one fixed code that may be handed out `times` times, or unique codes handed out in
order, each once. `given` on the list row counts hand-outs: an assignment locks the list row
(SQLite: the write transaction; PostgreSQL: SELECT ... FOR UPDATE), then takes the next slot
with a conditional UPDATE (`given = seen AND given < total`), so two workers never hand out
the same unique code. One short store transaction per assignment.

R21: the latest hand-out to (list, campaign, user) younger than 24 hours is returned again.
A campaign finishes when its list is empty or expired; the first trigger that finds it so (or
the assignment that empties the list) records it, and the trigger gets a DistributionError.
R22: when the remaining count first drops to the warning limit, the list records it once, logs
a WARNING and calls the hooks registered on the Distributor (e.g. to send an e-mail).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from connector import history
from connector.codes import ANY_CODE, CODE_CHARACTERS, normalize
from connector.errors import DistributionError, InputError
from connector.lists.files import write_usage
from connector.lists.values import Assignment, Campaign, ListStatus, ListWarning, UserCode
from connector.models import EventKind
from connector.store import Store
from connector.store import schema as s
from connector.store.engine import ids_by_key, insert_or_skip
from connector.store.statements import Statement
from connector.store.transactions import online
from connector.text import one_line, shown

log = logging.getLogger(__name__)

REPEAT_WINDOW = timedelta(hours=24)
_L, _A, _LC = s.coupon_lists.c, s.list_assignments.c, s.list_codes.c

LIST = Statement(select(s.coupon_lists).where(_L.name == bindparam("name")).with_for_update())
RECENT = Statement(
    select(_A.code, _A.given_at, _A.position)
    .where(
        _A.list_id == bindparam("list_id"),
        _A.campaign == bindparam("campaign"),
        _A.user_id == bindparam("user"),
        _A.given_at > bindparam("cutoff"),
    )
    .order_by(_A.given_at.desc())
    .limit(1)
)
TAKE = Statement(
    s.coupon_lists.update()
    .where(_L.id == bindparam("list_id"), _L.given == bindparam("seen"), _L.given < _L.total)
    .values(given=_L.given + 1)
)
CODE_AT = Statement(
    select(_LC.code, _LC.code_id).where(
        _LC.list_id == bindparam("list_id"), _LC.position == bindparam("pos")
    )
)
ASSIGN = Statement(
    s.list_assignments.insert().values(
        {c: bindparam("v_" + c.name) for c in s.list_assignments.c if c.name != "id"}
    )
)
WARN = Statement(
    s.coupon_lists.update()
    .where(_L.id == bindparam("list_id"), _L.warned_at.is_(None))
    .values(warned_at=bindparam("at"), warned_remaining=bindparam("left"))
)


class Distributor:
    """Coupon lists on a store. `on_warning` hooks run after the assignment that raised it."""

    def __init__(
        self,
        store: Store,
        *,
        timezone: str | tzinfo = "UTC",
        clock: Callable[[], datetime] | None = None,
        on_warning: Callable[[ListWarning], None] | None = None,
        log_warnings: bool = True,
    ) -> None:
        """`log_warnings=False`: a caller whose `on_warning` hook reports a warning where the log
        goes too (the command line, on stderr) keeps the log quiet, so it is said once."""
        self.store = store
        self.log_warnings = log_warnings
        self.zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        self.clock = clock or s.utcnow
        self._hooks: list[Callable[[ListWarning], None]] = [on_warning] if on_warning else []
        self._campaigns: set[tuple[int, str]] = set()  # campaigns known to be recorded

    def add_warning_hook(self, hook: Callable[[ListWarning], None]) -> None:
        self._hooks.append(hook)

    def create(
        self,
        name: str,
        *,
        fixed: str | None = None,
        times: int | None = None,
        codes: Sequence[str] | None = None,
        expires: date | None = None,
        warning_limit: int | None = None,
    ) -> ListStatus:
        """R20: a fixed-code list (`fixed` + `times`) or a unique-code list (`codes`, in order)."""
        name = one_line(name.strip(), "a list name")
        if not name:
            raise InputError("a list name cannot be empty")
        if (fixed is None) == (codes is None):
            raise InputError("a list is either --fixed CODE --times N or --codes FILE, not both")
        if warning_limit is not None and warning_limit < 0:
            raise InputError("the warning limit must be 0 or more")
        unique = [normalize(c) for c in codes] if codes is not None else []
        if fixed is not None:
            fixed = normalize(fixed)
            if not ANY_CODE.fullmatch(fixed):
                raise InputError(f"{shown(fixed)} is not a code ({CODE_CHARACTERS})")
            if times is None or times < 1:
                raise InputError("a fixed-code list needs --times of at least 1")
        elif not unique or len(set(unique)) != len(unique):
            raise InputError("a unique-code list needs codes, each once")
        with online(), self.store.writer.transaction() as conn:
            if conn.scalar(select(_L.id).where(_L.name == name)) is not None:
                raise InputError(f"a coupon list named {shown(name)} exists already")
            known = ids_by_key(conn, s.codes.c.code, [fixed] if fixed else unique)
            inserted = conn.execute(
                s.coupon_lists.insert().values(
                    name=name,
                    kind="fixed" if fixed else "unique",
                    fixed_code=fixed,
                    fixed_code_id=known.get(fixed) if fixed else None,
                    total=times if fixed else len(unique),
                    given=0,
                    expires_on=expires,
                    warning_limit=warning_limit,
                    created_at=self.clock(),
                )
            ).inserted_primary_key
            assert inserted is not None
            list_id = inserted[0]
            for i in range(0, len(unique), 50_000):
                conn.execute(
                    s.list_codes.insert(),
                    [
                        {
                            "list_id": list_id,
                            "position": i + n + 1,
                            "code": c,
                            "code_id": known.get(c),
                        }
                        for n, c in enumerate(unique[i : i + 50_000])
                    ],
                )
        return self.status(name)

    def assign(
        self, name: str, *, user: str, campaign: str, external_id: str | None = None
    ) -> Assignment:
        """R21: a code for `user` in `campaign`: the same one again within 24 hours."""
        user, campaign = one_line(user.strip(), "a user"), one_line(campaign.strip(), "a campaign")
        if external_id is not None:
            one_line(external_id, "an external id")
        if not user or not campaign:
            raise InputError("an assignment needs a user and a campaign")
        with online(), self.store.writer.transaction() as conn:
            outcome, recorded = self._assign(conn, name, user, campaign, external_id)
        self._campaigns.add(recorded)  # known from now on: its row is committed
        if isinstance(outcome, DistributionError):
            raise outcome
        if outcome.warning is not None:
            self._warn(outcome.warning)
        return outcome

    def _assign(
        self, conn: Connection, name: str, user: str, campaign: str, external_id: str | None
    ) -> tuple[Assignment | DistributionError, tuple[int, str]]:
        now = self.clock()
        lst = LIST.first(conn, {"name": name.strip()})
        if lst is None:
            raise InputError(f"no coupon list named {shown(name)}")
        self._register(conn, lst.id, campaign, now)
        key = (lst.id, campaign)
        if lst.expires_on is not None and now.astimezone(self.zone).date() > lst.expires_on:
            self._finish(conn, lst.id, now, "expired")
            ended = f"expired on {lst.expires_on.isoformat()}"
            return DistributionError(
                f"campaign {shown(campaign)} has finished: the list {shown(lst.name)} {ended}"
            ), key
        cutoff = now - REPEAT_WINDOW
        recent = RECENT.first(
            conn, {"list_id": lst.id, "campaign": campaign, "user": user, "cutoff": cutoff}
        )
        if recent is not None:
            return Assignment(
                lst.name, user, campaign, recent.code, recent.given_at, lst.expires_on, True
            ), key
        if TAKE.run(conn, {"list_id": lst.id, "seen": lst.given}) != 1:
            self._finish(conn, lst.id, now, "empty")
            return DistributionError(
                f"campaign {shown(campaign)} has finished: the list {shown(lst.name)} has no "
                "codes left"
            ), key
        return self._hand_out(conn, lst, user, campaign, external_id, now), key

    def _hand_out(
        self,
        conn: Connection,
        lst: Any,
        user: str,
        campaign: str,
        external_id: str | None,
        now: datetime,
    ) -> Assignment:
        """Record the slot just taken: who got which code; finish, warn as the count says."""
        position = lst.given + 1
        if lst.kind == "fixed":
            code, code_id = lst.fixed_code, lst.fixed_code_id
        else:
            code, code_id = CODE_AT.first(conn, {"list_id": lst.id, "pos": position})
        ASSIGN.run(
            conn,
            {
                "v_list_id": lst.id,
                "v_position": position,
                "v_code": code,
                "v_code_id": code_id,
                "v_user_id": user,
                "v_external_id": external_id,
                "v_campaign": campaign,
                "v_given_at": now,
                "v_expires_on": lst.expires_on,
            },
        )
        if code_id is not None:
            history.record(
                conn,
                code_id,
                EventKind.ASSIGNED,
                at=now,
                sale_id=None,
                customer_id=None,
                source="local",
                detail=f"list {lst.name}, campaign {campaign}, user {user}",
            )
        remaining = lst.total - position
        if remaining == 0:
            self._finish(conn, lst.id, now, "empty")
        warning = None
        limit = lst.warning_limit
        if limit is not None and remaining <= limit and lst.warned_at is None:
            if WARN.run(conn, {"list_id": lst.id, "at": now, "left": remaining}) == 1:
                warning = ListWarning(lst.name, remaining, limit, now)
        return Assignment(lst.name, user, campaign, code, now, lst.expires_on, False, warning)

    def _register(self, conn: Connection, list_id: int, campaign: str, now: datetime) -> None:
        if (list_id, campaign) in self._campaigns:
            return
        insert_or_skip(
            conn,
            s.list_campaigns,
            {"list_id": list_id, "campaign": campaign, "started_at": now},
            ["list_id", "campaign"],
        )

    @staticmethod
    def _finish(conn: Connection, list_id: int, now: datetime, reason: str) -> None:
        """R21: every unfinished campaign of the list is finished now."""
        c = s.list_campaigns.c
        conn.execute(
            s.list_campaigns.update()
            .where(c.list_id == list_id, c.finished_at.is_(None))
            .values(finished_at=now, reason=reason)
        )
        if reason == "empty":
            conn.execute(
                s.coupon_lists.update()
                .where(_L.id == list_id, _L.emptied_at.is_(None))
                .values(emptied_at=now)
            )

    def _warn(self, warning: ListWarning) -> None:
        if self.log_warnings:
            log.warning("%s", warning.text)
        # R44: and to the alert targets of promosync.toml that take list_warning (in the
        # background; a target that fails is a WARNING, never the assignment's outcome)
        from connector.alerts import list_reached_warning

        list_reached_warning(warning.list, warning.remaining, warning.limit)
        for hook in self._hooks:
            try:
                hook(warning)
            except Exception:  # noqa: BLE001 - a failing e-mail hook must not undo a hand-out
                log.exception("coupon list %s: the warning hook %r failed", warning.list, hook)

    def status(self, name: str) -> ListStatus:
        """R22/R21: remaining codes, the warning state, and the list's campaigns."""
        with online(), self.store.read() as conn:
            row = conn.execute(select(s.coupon_lists).where(_L.name == name.strip())).first()
            if row is None:
                raise InputError(f"no coupon list named {shown(name)}")
            campaigns = conn.execute(
                select(s.list_campaigns)
                .where(s.list_campaigns.c.list_id == row.id)
                .order_by(s.list_campaigns.c.started_at)
            ).all()
        ended = self._expired_at(row.expires_on)
        finished = tuple(
            Campaign(
                c.campaign,
                c.started_at,
                c.finished_at or ended,
                c.reason or ("expired" if ended else None),
            )
            for c in campaigns
        )
        return ListStatus(
            row.name,
            row.kind,
            row.total,
            row.given,
            row.total - row.given,
            row.expires_on,
            row.warning_limit,
            row.warned_at,
            row.warned_remaining,
            finished,
        )

    def _expired_at(self, expires_on: date | None) -> datetime | None:
        """The moment a list expiring on `expires_on` ended (start of the next day), if past."""
        if expires_on is None:
            return None
        end = datetime.combine(expires_on + timedelta(days=1), time(0), tzinfo=self.zone)
        return end if self.clock() >= end else None

    def lists(self) -> list[ListStatus]:
        with online(), self.store.read() as conn:
            names = conn.scalars(select(_L.name).order_by(_L.name)).all()
        return [self.status(n) for n in names]

    def user_history(self, user: str) -> list[UserCode]:
        """R23: every code `user` was given, oldest first."""
        with online(), self.store.read() as conn:
            rows = conn.execute(
                select(_L.name, _A.campaign, _A.code, _A.given_at, _A.expires_on)
                .join(s.coupon_lists, _L.id == _A.list_id)
                .where(_A.user_id == user.strip())
                .order_by(_A.given_at, _A.id)
            ).all()
        return [UserCode(r.name, r.campaign, r.code, r.given_at, r.expires_on) for r in rows]

    def export(self, name: str, out: TextIO) -> int:
        """R11 usage export of a list; returns the number of rows written."""
        with online(), self.store.read() as conn:
            list_id = conn.scalar(select(_L.id).where(_L.name == name.strip()))
            if list_id is None:
                raise InputError(f"no coupon list named {shown(name)}")
            rows = conn.execute(
                select(_A.code, _A.external_id, _A.user_id, _A.given_at, _A.expires_on)
                .where(_A.list_id == list_id)
                .order_by(_A.id)
            ).all()
        return write_usage(out, rows)
