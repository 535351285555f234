"""The register and web-store API (R13-R19): open, scan, customer, pay, cancel a transaction.

    reg = Register(store, timezone="Europe/Berlin")
    sale = reg.open(customer="C042", lines=[("SHIRT", "40.00")])
    reg.scan(sale.id, "su-a8b2c4d6e1f3g5h7 ")   # normalised; R13 checks in order; held
    reg.check("SU-...", lines=[("SHIRT", "40.00")])  # the same checks as a dry run: nothing held
    payment = reg.pay(sale.id)                     # R14: checked again, committed atomically

Every call is one short store transaction and never touches the network; a store that cannot
be reached raises StoreOffline. "Now" comes from `clock` (injectable for tests) and "today" is
its date in the store's time zone, so expiry is end of day there (R4).

Scan and pay take one of two paths, chosen once when the register is made: in Python
(holds.py, pay.py; every SQLite store), or on a PostgreSQL store through its server functions
(server_functions.py), which hand the cases they leave to Python back to the Python path.
`server_side=False` keeps a PostgreSQL register in Python (to compare the two, or to rule the
functions out).

Holds are not exclusive. Two registers may hold the same code; payment decides, with one
conditional UPDATE (see commit.py). An exclusive hold would let an abandoned cart lock a code
away from its owner at another till for the whole hold time, and R14's "no longer valid"
message exists precisely because a second register can scan a code the first one holds.
Holds expire after `hold_minutes`: a transaction touched after that, or `release_expired()`,
releases them (history: released, "hold expired"); such a code must be removed and scanned
again before payment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from connector.codes import normalize
from connector.errors import InputError, RedemptionError
from connector.models import EventKind
from connector.redeem import checks, dry_run, holds, pay, sales
from connector.redeem.discount import Line, parse_amount
from connector.redeem.results import MODES, CheckedCode, CustomerChange, HeldCode, Payment, Sale
from connector.redeem.station import Station
from connector.settings import Settings
from connector.store import Store
from connector.store import schema as s

if TYPE_CHECKING:
    from connector.redeem.server_functions import ServerFunctions
    from connector.store.loop_connections import LoopConnections
from connector.store.transactions import online
from connector.text import shown

LineInput = Line | str | Sequence[Any]
CANCELLED_AFTER_PAYMENT = "transaction cancelled after payment; the code stays used"


def mode_of(text: str) -> str:
    mode = text.strip().lower()
    if mode not in MODES:
        raise InputError(f"unknown mode {shown(mode)}; use one of {', '.join(MODES)}")
    return mode


def as_line(value: LineInput) -> Line:
    if isinstance(value, Line):
        return value
    if isinstance(value, str):
        return Line.parse(value)
    return Line.make(*value)


class Register:
    """A point-of-sale register or a web store's checkout, working on the shared store."""

    def __init__(
        self,
        store: Store,
        *,
        timezone: str | tzinfo = "UTC",
        hold_minutes: int = 15,
        clock: Callable[[], datetime] | None = None,
        source: str = "local",
        name: str | None = None,
        server_side: bool | None = None,
    ) -> None:
        if hold_minutes < 1:
            raise InputError("hold_minutes must be at least 1")
        if server_side and store.dialect != "postgresql":
            raise InputError("server-side redemption needs a PostgreSQL store")
        # What scanning and paying use, fixed here: the station the chosen path is given.
        self.store = store
        self.zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
        self.hold = timedelta(minutes=hold_minutes)
        self.clock = clock or s.utcnow
        self.source = source
        self.name = name
        self.station = Station(store, self.clock, self.zone, self.hold, source)
        # The path, chosen here once: the server functions by default on PostgreSQL.
        use_server = store.dialect == "postgresql" if server_side is None else server_side
        self._server: ServerFunctions | None = None
        if use_server:
            # imported here: it needs psycopg, which only a PostgreSQL store installs
            from connector.redeem.server_functions import ServerFunctions

            self._server = ServerFunctions(self.station)

    @property
    def server_side(self) -> bool:
        """Whether scan and pay go through the PostgreSQL server functions."""
        return self._server is not None

    @property
    def server_functions(self) -> ServerFunctions | None:
        """The PostgreSQL server functions scan and pay go through; None on the Python path."""
        return self._server

    @classmethod
    def from_settings(cls, settings: Settings, store: Store, **kwargs: Any) -> Register:
        return cls(store, timezone=settings.zone, hold_minutes=settings.hold_minutes, **kwargs)

    def today(self, now: datetime | None = None) -> date:
        return self.station.today(now)

    # ---- a transaction's life ----------------------------------------------------------

    def open(
        self,
        *,
        customer: str | None = None,
        mode: str = "normal",
        lines: Iterable[LineInput] = (),
        shipping: object = 0,
    ) -> Sale:
        """A new transaction; with a customer and auto-apply on, their bound codes join it (R17)."""
        mode = mode_of(mode)
        cart = [as_line(v).to_json() for v in lines]
        ship = str(parse_amount(shipping, "shipping amount"))
        with online(), self.store.writer.transaction() as conn:
            now = self.clock()
            cid = sales.customer_id_of(conn, customer) if customer is not None else None
            row = {
                "id": sales.new_sale_id(),
                "mode": mode,
                "state": "open",
                "customer_id": cid,
                "lines": cart,
                "shipping": ship,
                "register": self.name,
                "opened_at": now,
                "discount": None,
                "paid_at": None,
                "cancelled_at": None,
            }
            sales.INSERT_SALE.run(conn, {"v_" + k: v for k, v in row.items()})
            if cid is None:
                return sales.fresh_view(row)
            sale = sales.load_sale(conn, str(row["id"]))
            holds.auto_apply(conn, self.station, sale, now)
            return sales.view(conn, sale, now=now)

    def scan(self, sale_id: str, code: str) -> HeldCode:
        """R13: check `code` in order and hold it on the transaction; its discount so far."""
        text = normalize(code)
        outcome = self._server.scan(sale_id, text) if self._server is not None else None
        if outcome is None:
            outcome = holds.scan(self.station, sale_id, text)
        if isinstance(outcome, RedemptionError):
            raise outcome
        return outcome

    def check(
        self,
        code: str,
        *,
        customer: str | None = None,
        mode: str = "normal",
        lines: Iterable[LineInput] = (),
        shipping: object = 0,
    ) -> CheckedCode:
        """R13 as a dry run: would `code` scan onto a new transaction with this customer, mode
        and cart, and what would it give there. Raises the refusal that scan would; holds,
        counts and writes nothing, in one read of the store (dry_run.py)."""
        mode = mode_of(mode)
        cart = [as_line(v) for v in lines]
        ship = parse_amount(shipping, "shipping amount")
        text = normalize(code)
        done = None
        if self._server is not None:
            done = self._server.check(text, customer=customer, mode=mode, lines=cart,
                                      shipping=ship)
        if done is None:
            done = dry_run.check(self.station, text, customer=customer, mode=mode, lines=cart,
                                 shipping=ship)
        return done

    async def check_on(
        self,
        loop: LoopConnections,
        code: str,
        *,
        customer: str | None = None,
        mode: str = "normal",
        lines: Iterable[LineInput] = (),
        shipping: object = 0,
    ) -> CheckedCode | None:
        """`check` through a PostgreSQL store's connections of an event loop, without
        blocking it (`promosync serve`); None when only `check` can tell (SQLite, a NUL
        character)."""
        if self._server is None:
            return None
        mode = mode_of(mode)  # read in `check`'s order, so that the first mistake is named
        cart = [as_line(v) for v in lines]
        ship = parse_amount(shipping, "shipping amount")
        return await self._server.check_on(loop, normalize(code), customer=customer, mode=mode,
                                           lines=cart, shipping=ship)

    def remove(self, sale_id: str, code: str) -> Sale:
        """Take a code off an open transaction (e.g. after "no longer valid")."""
        text = normalize(code)
        with online(), self.store.writer.transaction() as conn:
            now = self.clock()
            sale = sales.load_sale(conn, sale_id)
            sales.require_open(sale)
            mine = [
                h
                for h in sales.holds_of(conn, sale.id)
                if h.code == text and h.hold_state in sales.PENDING
            ]
            if not mine:
                raise InputError(f"the code {text} is not on transaction {sale.id}")
            sales.release(conn, sale, mine, "released", "removed", at=now, source=self.source)
            return sales.view(conn, sale, now=now)

    def add_lines(self, sale_id: str, lines: Iterable[LineInput], shipping: object = None) -> Sale:
        """Add cart lines (and set shipping) on an open transaction."""
        more = [as_line(v).to_json() for v in lines]
        with online(), self.store.writer.transaction() as conn:
            now = self.clock()
            sale = sales.load_sale(conn, sale_id)
            sales.require_open(sale)
            ship = (
                sale.shipping
                if shipping is None
                else str(parse_amount(shipping, "shipping amount"))
            )
            conn.execute(
                s.sales.update()
                .where(s.sales.c.id == sale.id)
                .values(lines=list(sale.lines or ()) + more, shipping=ship)
            )
            return sales.view(conn, sales.load_sale(conn, sale.id), now=now)

    def set_customer(self, sale_id: str, customer: str | None) -> CustomerChange:
        """Attach, change (`customer`) or remove (None) the customer. A change removes every
        single-use code from the transaction (R15); auto-apply then adds the new customer's
        (R17)."""
        with online(), self.store.writer.transaction() as conn:
            now = self.clock()
            sale = sales.load_sale(conn, sale_id)
            sales.require_open(sale)
            cid = sales.customer_id_of(conn, customer) if customer is not None else None
            if cid == sale.customer_id:
                return CustomerChange(sale.id, sale.customer_code, (), ())
            single = [
                h
                for h in sales.holds_of(conn, sale.id)
                if h.hold_state in sales.PENDING and checks.is_single_use(h)
            ]
            removed = sales.release(
                conn, sale, single, "released", "customer changed", at=now, source=self.source
            )
            conn.execute(s.sales.update().where(s.sales.c.id == sale.id).values(customer_id=cid))
            sale = sales.load_sale(conn, sale.id)
            applied = holds.auto_apply(conn, self.station, sale, now) if cid is not None else []
            return CustomerChange(sale.id, sale.customer_code, tuple(removed), tuple(applied))

    def pay(self, sale_id: str) -> Payment:
        """R14: every code checked again and committed in one store transaction, or none is."""
        try:
            done = self._server.pay(sale_id) if self._server is not None else None
            return done if done is not None else pay.pay(self.station, sale_id)
        except pay.Lost as lost:
            pay.record_lost(self.station, lost)
            raise lost.error from None

    def cancel(self, sale_id: str) -> Sale:
        """R18: an open transaction lets its codes go; a paid one's codes stay used."""
        with online(), self.store.writer.transaction() as conn:
            now = self.clock()
            sale = sales.load_sale(conn, sale_id)
            if sale.state == "cancelled":
                raise InputError(
                    f"transaction {sale.id} was cancelled already; nothing was changed"
                )
            holds = sales.holds_of(conn, sale.id)
            pending = [h for h in holds if h.hold_state in sales.PENDING]
            sales.release(
                conn, sale, pending, "released", "transaction cancelled", at=now, source=self.source
            )
            for h in holds:
                if h.hold_state == "committed":
                    sales.note(conn, sale, h.id, EventKind.CANCELLED, at=now,
                               source=self.source, detail=CANCELLED_AFTER_PAYMENT)
            conn.execute(
                s.sales.update()
                .where(s.sales.c.id == sale.id)
                .values(state="cancelled", cancelled_at=now)
            )
            return sales.view(conn, sales.load_sale(conn, sale.id), now=now)

    def show(self, sale_id: str) -> Sale:
        with online(), self.store.read() as conn:
            return sales.view(conn, sales.load_sale(conn, sale_id, lock=False), now=self.clock())

    def release_expired(self) -> int:
        """Release every hold whose time ran out, on every open transaction; how many."""
        with online(), self.store.writer.transaction() as conn:
            now = self.clock()
            sale_ids = conn.scalars(
                select(s.sale_codes.c.sale_id)
                .distinct()
                .where(s.sale_codes.c.state == "held", s.sale_codes.c.expires_at < now)
            ).all()
            count = 0
            for sale_id in sale_ids:
                sale = sales.load_sale(conn, sale_id)
                stale = [
                    h
                    for h in sales.holds_of(conn, sale.id)
                    if h.hold_state == "held" and h.hold_until < now
                ]
                count += len(
                    sales.release(
                        conn, sale, stale, "expired", "hold expired", at=now, source=self.source
                    )
                )
            return count
