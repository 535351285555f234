"""SyncEngine: `sync plan`, `sync run` and `sync mirror` (R24-R32).

    run:    lock -> mirror (so no redemption is lost to a re-create) -> chunk codes ->
            snapshot -> plan -> apply each promotion (a failure is reported, the others go
            on) -> mirror -> report
    plan:   snapshot -> plan; writes nothing anywhere (R32)
    mirror: lock -> mirror

Reports are plain dicts ready for JSON; they hold names, counts, reasons and timings, never a
credential. `exit_code`: 0 in step, 1 some promotions refused or failed (3 and 2 come from
SyncLocked and ConfigError / NetSuiteAuthError, raised).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from connector.errors import ConnectorError, NetSuiteAuthError, NetSuiteForbidden
from connector.netsuite import NetSuiteClient, NetSuiteConnectFailed
from connector.store import Store
from connector.sync.apply import Applier, Hook
from connector.sync.discount_types import DiscountTypeContradicted, DiscountTypeUnknown
from connector.sync.local import assign_chunks, local_promotions
from connector.sync.mapping import Mapping
from connector.sync.mirror import Mirror, MirrorReport
from connector.sync.model import Action, Outcome, Plan
from connector.sync.plan import build_plan
from connector.sync.remote import snapshot
from connector.sync.session import Account
from connector.sync.state import SyncLock, finish_run, load_records, start_run

log = logging.getLogger("promosync.sync")
# Nothing else can work after these: stop the run (credentials, role, host unreachable).
FATAL = (NetSuiteAuthError, NetSuiteForbidden, NetSuiteConnectFailed)


class RequestCounter:
    """Counts HTTP responses of a client's session (every attempt, retries included)."""

    def __init__(self, client: NetSuiteClient) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self.writes = 0  # PUT, PATCH, DELETE and POST other than SuiteQL
        self.by_status: dict[int, int] = {}
        client.session.hooks.setdefault("response", []).append(self._hook)

    def _hook(self, resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            self.count += 1
            self.by_status[resp.status_code] = self.by_status.get(resp.status_code, 0) + 1
            method = str(resp.request.method)
            if method in ("PUT", "PATCH", "DELETE") or (
                    method == "POST" and "/query/" not in str(resp.request.url)):
                self.writes += 1


@dataclass
class SyncReport:
    command: str
    started: float = field(default_factory=time.time)
    steps: dict[str, float] = field(default_factory=dict)
    step_requests: dict[str, int] = field(default_factory=dict)  # HTTP responses per step
    outcomes: list[Outcome] = field(default_factory=list)
    mirror: list[MirrorReport] = field(default_factory=list)
    plan: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if any(o.status in ("failed", "refused") for o in self.outcomes) else 0

    def as_dict(self, requests_made: int | None = None) -> dict[str, Any]:
        return {
            "command": self.command,
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
        }


class SyncEngine:
    """One store, one NetSuite client, one mapping. `hook(step)` is called at each recorded
    step (tests use it to stop a run at a chosen moment)."""

    def __init__(self, store: Store, client: NetSuiteClient, mapping: Mapping, *,
                 hook: Hook | None = None, progress: Callable[[int], None] | None = None,
                 lock_ttl: float = 60.0,
                 on_outcome: Callable[[Outcome], None] | None = None,
                 recheck: bool = False, timezone: str | None = None,
                 generate_timeout: float | None = None) -> None:
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

    # ---- plan (R32) ---------------------------------------------------------------------------

    def plan(self) -> Plan:
        """What a run would do now. Reads NetSuite and the store; writes to neither."""
        return self.account.retrying(self._plan)

    def _plan(self) -> Plan:
        shapes = self.account.shapes()
        with self.store.read() as conn:
            promotions = local_promotions(conn, self.mapping.chunk_size)
            records = load_records(conn)
        remote = snapshot(self.client, shapes.used_counts, self.mapping.use_types.values(),
                          known=records)
        return build_plan(promotions, records, remote, self.mapping, shapes.discount_types)

    # ---- run ------------------------------------------------------------------------------------

    def run(self) -> SyncReport:
        report = SyncReport("run")
        with SyncLock(self.store, ttl=self.lock_ttl) as lock:
            run_id = start_run(self.store, "run", lock.owner)
            try:
                self._timed(report, "account", self.account.shapes)
                self._timed(report, "mirror_before", lambda: report.mirror.append(self._mirror()))
                self._timed(report, "chunks", self._assign_chunks)
                plan = self._timed(report, "plan", self.plan)
                report.plan = plan.counts()
                self._timed(report, "apply", lambda: self._apply(plan, report, lock))
                self._timed(report, "mirror_after", lambda: report.mirror.append(self._mirror()))
            except BaseException:
                finish_run(self.store, run_id, "aborted", report.as_dict(self.requests.count))
                raise
            finish_run(self.store, run_id, "ok" if report.exit_code == 0 else "partial",
                       report.as_dict(self.requests.count))
        return report

    def mirror(self) -> SyncReport:
        report = SyncReport("mirror")
        with SyncLock(self.store, ttl=self.lock_ttl) as lock:
            run_id = start_run(self.store, "mirror", lock.owner)
            self._timed(report, "account", self.account.shapes)
            self._timed(report, "mirror", lambda: report.mirror.append(self._mirror()))
            finish_run(self.store, run_id, "ok", report.as_dict(self.requests.count))
        return report

    def _timed(self, report: SyncReport, name: str, fn: Callable[[], Any]) -> Any:
        start, sent = time.perf_counter(), self.requests.count
        try:
            return fn()
        finally:
            report.steps[name] = report.steps.get(name, 0.0) + time.perf_counter() - start
            report.step_requests[name] = (report.step_requests.get(name, 0)
                                          + self.requests.count - sent)

    def _mirror(self) -> MirrorReport:
        return self.account.retrying(lambda: Mirror(
            self.store, self.client, self.mapping, self.account.shapes(), hook=self.hook,
            progress=self.progress).run())

    def _assign_chunks(self) -> None:
        with self.store.read() as conn:
            promotions = local_promotions(conn, self.mapping.chunk_size)
        for promo in promotions:
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
                                  actions=[a.row() for a in actions])
            except ConnectorError as exc:
                # said once: the outcome (the CLI prints it; the report holds it)
                log.info("promotion %s failed: %s", actions[0].promotion, exc)
                outcome = Outcome(actions[0].promotion, status="failed", error=str(exc),
                                  actions=[a.row() for a in actions])
            report.outcomes.append(outcome)
            if self.on_outcome is not None:
                self.on_outcome(outcome)
