"""SyncEngine: `sync plan`, `sync run` and `sync mirror` (R24-R32).

    run:    lock -> refresh check (R46: a refreshed sandbox stops it, sync.refresh) ->
            mirror (so no redemption is lost to a re-create) -> chunk codes ->
            snapshot -> plan -> apply each promotion (a failure is reported, the others go
            on) -> mirror -> report
    retry:  a run for the named promotions only (the open errors of `sync errors`): no
            mirror, and NetSuite is read and written for those promotions alone
    plan:   snapshot -> plan; writes nothing anywhere (R32)
    mirror: lock -> mirror

Every run, retry and mirror is recorded in `sync_runs` (R39, sync.ledger) with its outcome:
ok, partial (some promotions failed or were refused), failed (stopped by an error), aborted
(interrupted, or the lock was lost) or refused (another run held the lock).

Reports are plain dicts ready for JSON; they hold names, counts, reasons and timings, never a
credential. `exit_code`: 0 in step, 1 some promotions refused or failed (3 and 2 come from
SyncLocked and ConfigError / NetSuiteAuthError, raised).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from connector.errors import (
    AccountRefreshed,
    ConnectorError,
    DiscountTypeContradicted,
    DiscountTypeUnknown,
    NetSuiteAuthError,
    NetSuiteError,
    NetSuiteForbidden,
    SyncLocked,
)
from connector.netsuite import NetSuiteClient, NetSuiteConnectFailed
from connector.store import Store
from connector.sync import refresh
from connector.sync.apply import Applier, Hook
from connector.sync.counting import RequestCounter
from connector.sync.ledger import KEEP_DAYS, record_refused
from connector.sync.local import assign_chunks, local_promotions
from connector.sync.mapping import Mapping
from connector.sync.mirror import Mirror, MirrorReport
from connector.sync.model import Action, Outcome, Plan
from connector.sync.plan import build_plan
from connector.sync.remote import snapshot
from connector.sync.session import Account
from connector.sync.state import SyncLock, finish_run, load_records, start_run
from connector.sync.verify_repair import carry_out

log = logging.getLogger("promosync.sync")
# Nothing else can work after these: stop the run (credentials, role, host unreachable).
FATAL = (NetSuiteAuthError, NetSuiteForbidden, NetSuiteConnectFailed)


@dataclass
class SyncReport:
    command: str
    started: float = field(default_factory=time.time)
    steps: dict[str, float] = field(default_factory=dict)
    step_requests: dict[str, int] = field(default_factory=dict)  # HTTP responses per step
    outcomes: list[Outcome] = field(default_factory=list)
    mirror: list[MirrorReport] = field(default_factory=list)
    plan: dict[str, int] = field(default_factory=dict)
    run: int | None = None  # its row in sync_runs
    outcome: str | None = None  # ok | partial | failed | aborted | refused, once it ended
    reason: str | None = None  # why it failed, was aborted or refused
    rate_limited: int = 0  # 429 answers among the requests
    stopped_code: int | None = None  # the exit code of an error that stopped it

    @property
    def exit_code(self) -> int:
        if self.stopped_code is not None:
            return self.stopped_code
        return 1 if any(o.status in ("failed", "refused") for o in self.outcomes) else 0

    def as_dict(self, requests_made: int | None = None) -> dict[str, Any]:
        return {
            "command": self.command,
            "run": self.run,
            "outcome": self.outcome,
            "reason": self.reason,
            "exit_code": self.exit_code,
            "seconds": round(time.time() - self.started, 3),
            "steps": {k: round(v, 3) for k, v in self.steps.items()},
            "step_requests": dict(self.step_requests),
            "plan": self.plan,
            "promotions": [o.__dict__ for o in self.outcomes],
            "failed": [o.promotion for o in self.outcomes if o.status == "failed"],
            "refused": [o.promotion for o in self.outcomes if o.status == "refused"],
            "codes": {"generated": sum(o.generated for o in self.outcomes),
                      "read_back": sum(o.read_back for o in self.outcomes),
                      "pushed": sum(o.pushed for o in self.outcomes)},
            "mirror": [m.as_dict() for m in self.mirror],
            "requests": requests_made,
            "rate_limited": self.rate_limited,
        }


class SyncEngine:
    """One store, one NetSuite client, one mapping. `hook(step)` is called at each recorded
    step (tests use it to stop a run at a chosen moment)."""

    def __init__(self, store: Store, client: NetSuiteClient, mapping: Mapping, *,
                 hook: Hook | None = None, progress: Callable[[int], None] | None = None,
                 lock_ttl: float = 60.0,
                 on_outcome: Callable[[Outcome], None] | None = None,
                 recheck: bool = False, timezone: str | None = None,
                 generate_timeout: float | None = None, keep_days: int = KEEP_DAYS) -> None:
        self.store = store
        self.client = client
        self.mapping = mapping
        self.hook = hook
        self.progress = progress
        self.lock_ttl = lock_ttl
        self.on_outcome = on_outcome
        self.requests = RequestCounter(client)
        self.account = Account(store, client, mapping, timezone=timezone, recheck=recheck)
        self.generate_timeout = generate_timeout
        self.keep_days = keep_days  # sync_runs rows older than this are pruned by each run
        self.report: SyncReport | None = None  # the last run's, also when it raised

    # ---- plan (R32) ---------------------------------------------------------------------------

    def plan(self, only: Collection[str] | None = None) -> Plan:
        """What a run would do now (for the promotions named in `only`, if given). Reads
        NetSuite and the store; writes to neither."""
        with refresh.credentials_checked(self.store, self.client):
            return self.account.retrying(lambda: self._plan(only))

    def _plan(self, only: Collection[str] | None) -> Plan:
        shapes = self.account.shapes()
        with self.store.read() as conn:
            promotions = local_promotions(conn, self.mapping.chunk_size)
            records = load_records(conn)
        keys = None
        if only is not None:
            promotions = [p for p in promotions if p.name in only]
            keys = [p.external_key for p in promotions]
        remote = snapshot(self.client, shapes.used_counts, self.mapping.use_types.values(),
                          known=records, keys=keys)
        refresh.refuse_if_refreshed(self.client, records, remote, keys,  # R46
                                    self.mapping.page_size)
        plan = build_plan(promotions, records, remote, self.mapping, shapes.discount_types)
        if only is not None:  # NetSuite records of other promotions are not this run's business
            plan.actions = [a for a in plan.actions if a.promotion in only]
        return plan

    # ---- run ------------------------------------------------------------------------------------

    def run(self, only: Collection[str] | None = None) -> SyncReport:
        """Apply the plan; `only` names the promotions of a retry (no mirror, nothing else)."""
        report = SyncReport("run" if only is None else "retry")
        with self._recorded(report) as lock:
            self._timed(report, "account", self.account.shapes)
            if only is None:
                self._timed(report, "refresh_check", self._refresh_check)
                self._timed(report, "repairs", lambda: carry_out(self.store, self.client))
                self._timed(report, "mirror_before",
                            lambda: report.mirror.append(self._mirror()))
            self._timed(report, "chunks", lambda: self._assign_chunks(only))
            plan = self._timed(report, "plan", lambda: self.plan(only))
            report.plan = plan.counts()
            self._timed(report, "apply", lambda: self._apply(plan, report, lock))
            if only is None:
                self._timed(report, "mirror_after", lambda: report.mirror.append(self._mirror()))
        return report

    def mirror(self) -> SyncReport:
        report = SyncReport("mirror")
        with self._recorded(report):
            self._timed(report, "account", self.account.shapes)
            self._timed(report, "refresh_check", self._refresh_check)
            self._timed(report, "mirror", lambda: report.mirror.append(self._mirror()))
        return report

    def report_dict(self, report: SyncReport) -> dict[str, Any]:
        report.rate_limited = self.requests.by_status.get(429, 0)
        return report.as_dict(self.requests.count)

    @contextmanager
    def _recorded(self, report: SyncReport) -> Iterator[SyncLock]:
        """Hold the lock and record the run in sync_runs: started, then how it ended (also
        when it raised); a run refused because another holds the lock is recorded too."""
        self.report = report
        try:
            with SyncLock(self.store, ttl=self.lock_ttl) as lock:
                report.run = start_run(self.store, report.command, lock.owner, self.keep_days)
                try:
                    with refresh.credentials_checked(self.store, self.client):
                        yield lock
                except BaseException as exc:
                    report.outcome, report.reason = stopped(exc)
                    report.stopped_code = getattr(exc, "exit_code", None)
                    self._finish(report)
                    raise
                report.outcome = "ok" if report.exit_code == 0 else "partial"
                failed = [o.promotion for o in report.outcomes if o.status in ("failed",
                                                                               "refused")]
                report.reason = f"not in step: {', '.join(failed)}" if failed else None
                self._finish(report)
        except SyncLocked as exc:
            if report.run is None:
                report.outcome, report.reason = "refused", str(exc)
                report.stopped_code = exc.exit_code
                record_refused(self.store, report.command, self.report_dict(report),
                               self.keep_days)
            raise

    def _finish(self, report: SyncReport) -> None:
        assert report.run is not None and report.outcome is not None
        try:
            finish_run(self.store, report.run, report.outcome, self.report_dict(report))
        except Exception as exc:  # noqa: BLE001 - the store is down too: say so, keep the cause
            if report.outcome in ("ok", "partial"):
                raise
            log.warning("could not record how sync run %s ended (%s)", report.run, exc)

    def _timed(self, report: SyncReport, name: str, fn: Callable[[], Any]) -> Any:
        start, sent = time.perf_counter(), self.requests.count
        try:
            return fn()
        finally:
            report.steps[name] = report.steps.get(name, 0.0) + time.perf_counter() - start
            report.step_requests[name] = (report.step_requests.get(name, 0)
                                          + self.requests.count - sent)

    def _refresh_check(self) -> None:
        refresh.check(self.store, self.client, self.mapping.page_size)

    def _mirror(self) -> MirrorReport:
        return self.account.retrying(lambda: Mirror(
            self.store, self.client, self.mapping, self.account.shapes(), hook=self.hook,
            progress=self.progress).run())

    def _assign_chunks(self, only: Collection[str] | None = None) -> None:
        with self.store.read() as conn:
            promotions = local_promotions(conn, self.mapping.chunk_size)
        for promo in promotions:
            if only is not None and promo.name not in only:
                continue
            if promo.use_type == "single_use" and any(
                    c.codes for c in promo.chunks.values()):
                with self.store.begin() as conn:
                    assign_chunks(conn, promo.id, self.mapping.chunk_size)

    def _apply(self, plan: Plan, report: SyncReport, lock: SyncLock) -> None:
        shapes = self.account.shapes()
        applier = Applier(self.store, self.client, self.mapping, hook=self.hook,
                          check=lock.check, progress=self.progress,
                          discount=self.account.discount_types(), code_push=shapes.code_push,
                          generate_timeout=self.generate_timeout)
        by_promotion: dict[int, list[Action]] = {}
        for action in plan.actions:
            by_promotion.setdefault(action.promotion_id, []).append(action)
        with self.store.read() as conn:
            promotions = {p.id: p for p in local_promotions(conn, self.mapping.chunk_size)}
        for pid, actions in by_promotion.items():
            generated = promotions[pid].codes_from == "netsuite" if pid in promotions else False
            try:
                outcome = applier.apply_promotion(actions, generated)
            except FATAL + (DiscountTypeContradicted,):
                raise
            except DiscountTypeUnknown as exc:
                outcome = Outcome(actions[0].promotion, status="refused", error=str(exc),
                                  actions=[a.row() for a in actions],
                                  failure=failure(exc, applier.at))
            except ConnectorError as exc:
                # said once: the outcome (the CLI prints it; the report holds it)
                log.info("promotion %s failed: %s", actions[0].promotion, exc)
                outcome = Outcome(actions[0].promotion, status="failed", error=str(exc),
                                  actions=[a.row() for a in actions],
                                  failure=failure(exc, applier.at))
            else:
                if outcome.status == "refused" and outcome.failure is None:
                    outcome.failure = {"item": "promotion", "detail": outcome.error}
            applier.at = None
            report.outcomes.append(outcome)
            if self.on_outcome is not None:
                self.on_outcome(outcome)


def stopped(exc: BaseException) -> tuple[str, str]:
    """(outcome, reason) of a run that an exception ended: aborted when it was interrupted or
    lost its lock, failed otherwise."""
    if isinstance(exc, KeyboardInterrupt):
        return "aborted", "interrupted (SIGINT)"
    if not isinstance(exc, Exception):
        return "aborted", str(exc) or f"stopped ({type(exc).__name__})"
    if isinstance(exc, SyncLocked):
        return "aborted", str(exc)
    if isinstance(exc, AccountRefreshed):  # R46: nothing was written
        return "refused", str(exc)
    if isinstance(exc, ConnectorError):
        return "failed", str(exc)
    return "failed", f"{type(exc).__name__}: {exc}"


def failure(exc: Exception, at: tuple[str, Action] | None) -> dict[str, Any]:
    """What failed (the promotion, a chunk's record, or the codes of a chunk) and what NetSuite
    said of it: a row of `sync errors`."""
    out: dict[str, Any] = {"item": "promotion"}
    if at is not None:
        kind, action = at
        chunk = action.chunk + 1
        out = {"item": f"chunk {chunk}" if kind == "chunk" else f"codes of chunk {chunk}",
               "external_id": action.external_id}
    if isinstance(exc, NetSuiteError):
        out.update(status=exc.status, error_code=exc.error_code, detail=exc.detail,
                   path=exc.error_path)
    else:
        out["detail"] = str(exc)
    return out
