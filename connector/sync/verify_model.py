"""What `sync verify` reports: the kinds of difference, one sentence each, and the report (R43).

Every difference names its promotion, its chunk (1-based, as `sync plan` shows it) and, for a
code, the code and its NetSuite id; `explain` says what differs and what `--fix` does about
it. A difference that a sync run holding the lock is moving right now is `pending`: it is
listed, and it does not make verify fail. Nor does one the mapping asks for (`NOTED`: a local
redemption kept here because `redemptions.push_local` is off): listed, counted apart, and
verify can still say "in step", so a store whose registers redeem every day does not fail its
nightly verify, nor alert, for doing what it was set up to do. `repair` is what `--fix`
records for `sync run` (None: the next run's ordinary plan repairs it, or nothing may be done).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# kind -> (what differs, what --fix does). {code}, {nid}, {eid}, {tx} are filled in.
KINDS: dict[str, tuple[str, str]] = {
    "record_missing": (
        "NetSuite has no promotion with external id {eid}",
        "sync run creates it and pushes its codes"),
    "record_inactive": (
        "the promotion is active here but inactive in NetSuite",
        "sync run reactivates it"),
    "deleted_here": (
        "the promotion was deleted here but is still active in NetSuite",
        "sync run inactivates it (its codes and their history stay)"),
    "unknown_record": (
        "NetSuite promotion {nid} carries promosync's external id {eid}, which no promotion "
        "or chunk in this store owns",
        "reported only; with --fix --inactivate-unknown, sync run inactivates it (its codes "
        "and their history stay)"),
    "missing_in_netsuite": (
        "code {code} was pushed to NetSuite (couponCode {nid}) but NetSuite no longer has it",
        "--fix forgets its NetSuite id, and sync run pushes it again"),
    "missing_used": (
        "code {code}, used here, was deleted in NetSuite (couponCode {nid})",
        "nothing: a used code is not pushed again; its redemption stays recorded here"),
    "not_pushed": (
        "code {code} was made here and is not in NetSuite yet",
        "sync run pushes it"),
    "codes_not_placed": (
        "{why} codes made here are in no NetSuite promotion yet",
        "sync run places them in chunks and pushes them"),
    "not_recorded": (
        "NetSuite holds code {code} as couponCode {nid}, but the store does not record that id",
        "--fix records the id (nothing is sent again)"),
    "unknown_code": (
        "NetSuite holds code {code} (couponCode {nid}) in this promotion; the store does not "
        "have it",
        "--fix records it, and sync run adds it to the store as a code of this chunk"),
    "other_chunk": (
        "NetSuite holds code {code} (couponCode {nid}) in this chunk; the store has it in "
        "another promotion or chunk",
        "nothing automatic: a code belongs to one promotion; check which one is right"),
    "not_mirrored": (
        "code {code} is used in NetSuite{tx} but still active here",
        "--fix records the redemption, and sync run marks the code redeemed here"),
    "redemption_not_pushed": (
        "code {code} was redeemed here and NetSuite shows it unused",
        "sync run pushes the redemption as a sales order"),
    "redemption_kept_here": (
        "code {code} was redeemed here and NetSuite shows it unused",
        "nothing: redemptions.push_local is off in the mapping, so the redemption stays "
        "recorded here only"),
    "used_here_only": (
        "code {code} is redeemed here ({why}) but NetSuite shows it unused",
        "nothing: a redeemed code is never marked unused again"),
}
# What the mapping asks for: listed and counted, never failing the verify.
NOTED = frozenset({"redemption_kept_here"})
# What a running sync moves: while one holds the lock these are pending, not differences.
MOVING = frozenset({"codes_not_placed", "record_missing", "record_inactive", "deleted_here",
                    "missing_in_netsuite", "not_pushed", "not_recorded", "unknown_code",
                    "not_mirrored", "redemption_not_pushed"})


@dataclass
class Difference:
    kind: str
    promotion: str | None
    chunk: int | None  # 1-based, None for a record no chunk owns
    external_id: str | None = None
    code: str | None = None
    netsuite_id: str | None = None
    transaction: str | None = None
    why: str = ""  # used_here_only: where the redemption came from; codes_not_placed: how many
    pending: bool = False
    repair: dict[str, Any] | None = None

    @property
    def explain(self) -> str:
        what, fix = KINDS[self.kind]
        values = {"code": self.code, "nid": self.netsuite_id, "eid": self.external_id,
                  "tx": f" (transaction {self.transaction})" if self.transaction else "",
                  "why": self.why}
        text = f"{what.format(**values)}: {fix.format(**values)}"
        if self.pending:
            text += " (pending: a sync run holds the lock and is moving it now)"
        return text[0].upper() + text[1:] + "."

    def as_dict(self) -> dict[str, Any]:
        """The difference as JSON shows it (alerts and metrics take the same)."""
        return self.row()

    def row(self) -> dict[str, Any]:
        return {"kind": self.kind, "promotion": self.promotion, "chunk": self.chunk,
                "external_id": self.external_id, "code": self.code,
                "netsuite_id": self.netsuite_id, "pending": self.pending,
                "fixable": self.repair is not None, "explain": self.explain}


@dataclass
class ChunkCheck:
    """One promotion chunk as verify saw it on both sides."""

    promotion: str
    chunk: int  # 1-based
    external_id: str
    netsuite_id: str | None
    store_codes: int = 0
    netsuite_codes: int = 0
    store_redeemed: int = 0
    netsuite_used: int | None = None  # None: this account does not say
    compared: bool = False  # codes paged and compared one by one

    def row(self, differences: int) -> dict[str, Any]:
        return {**self.__dict__, "differences": differences}


@dataclass
class VerifyReport:
    chunks: list[ChunkCheck] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    used_source: str | None = None
    running: bool = False  # a sync run held the lock while verify read
    requests: int = 0
    pages: int = 0  # SuiteQL pages among the requests
    seconds: float = 0.0
    repairs_written: int | None = None  # --fix: repair steps recorded for sync run

    @property
    def open(self) -> list[Difference]:
        """The differences that make verify fail: neither pending nor asked for by the mapping."""
        return [d for d in self.differences if not d.pending and d.kind not in NOTED]

    @property
    def noted(self) -> list[Difference]:
        return [d for d in self.differences if d.kind in NOTED]

    @property
    def exit_code(self) -> int:
        return 1 if self.open else 0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for d in self.differences:
            key = (f"{d.kind} (pending)" if d.pending else
                   f"{d.kind} (as the mapping asks)" if d.kind in NOTED else d.kind)
            out[key] = out.get(key, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        per_chunk: dict[tuple[str | None, int | None], int] = {}
        for d in self.open:
            per_chunk[(d.promotion, d.chunk)] = per_chunk.get((d.promotion, d.chunk), 0) + 1
        return {
            "in_step": not self.open, "exit_code": self.exit_code,
            "used_source": self.used_source, "sync_running": self.running,
            "chunks": [c.row(per_chunk.get((c.promotion, c.chunk), 0)) for c in self.chunks],
            "counts": self.counts(),
            "differences": [d.row() for d in self.differences],
            "requests": self.requests, "pages": self.pages, "seconds": round(self.seconds, 3),
            "repairs_written": self.repairs_written,
        }
