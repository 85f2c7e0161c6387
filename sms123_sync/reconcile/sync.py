"""One sync run, end to end: lock → settle the journal → read → plan → guard → apply.

The library entry point for what ``sms123-sync plan`` and ``sync`` do, so a Python
caller gets the same behaviour as the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from sms123_sync.api.client import Client
from sms123_sync.api.connection import ConnectionSettings, connect
from sms123_sync.mapping.desired import DesiredResult
from sms123_sync.mapping.pipeline import read_plannable
from sms123_sync.reconcile.apply import Applier, ApplyOptions, Outcome, RunResult
from sms123_sync.reconcile.plan import Operation, Plan, PlanOptions, check_guard, plan_changes
from sms123_sync.reconcile.state import StateStore
from sms123_sync.sources import source_fingerprint
from sms123_sync.sources.files import file_fingerprint


@dataclass(frozen=True)
class SyncReport:
    """Everything a run produced, for rendering and for reports."""

    desired: DesiredResult
    plan: Plan
    result: RunResult | None  # None for a dry run or a declined confirmation
    settled: RunResult | None  # the replay of operations a killed run left open
    run_id: int | None
    source_fingerprint: str = ""  # as recorded in the run history
    mapping_fingerprint: str = ""

    @property
    def exit_code(self) -> int:
        codes = [r.exit_code for r in (self.settled, self.result) if r is not None]
        return max(codes, default=0)


def make_plan(
    source: Path | str, mapping: Path | str, state: Path | str, options: PlanOptions
) -> tuple[DesiredResult, Plan]:
    """The plan for ``source`` against ``state``; no network, no change to the state."""
    desired = read_plannable(source, mapping)
    with StateStore(state) as store:
        plan = plan_changes(desired.state, store.load())
    check_guard(plan, options)
    return desired, plan


def run_sync(
    source: Path | str,
    mapping: Path | str,
    state: Path | str,
    connection: ConnectionSettings,
    *,
    plan_options: PlanOptions | None = None,
    apply_options: ApplyOptions | None = None,
    confirm: Callable[[Plan], bool] = lambda plan: True,
    on_done: Callable[[Outcome], None] | None = None,
    before_apply: Callable[[Plan], None] | None = None,
    client: Client | None = None,
) -> SyncReport:
    """Runs one sync; raises GuardError (nothing applied) or returns what happened.

    ``client`` replaces the connection built from ``connection`` (tests inject faults).
    """
    plan_options = plan_options or PlanOptions()
    apply_options = apply_options or ApplyOptions()
    desired = read_plannable(source, mapping)
    fingerprints = {"source_fingerprint": source_fingerprint(source), "mapping_fingerprint": file_fingerprint(mapping)}
    with StateStore(state) as store:
        store.acquire()
        run_id = store.begin_run(
            "sync",
            source=str(source),
            source_hash=fingerprints["source_fingerprint"],
            mapping=str(mapping),
            mapping_hash=fingerprints["mapping_fingerprint"],
            mode=desired.state.mode,
        )
        with (
            nullcontext(client)
            if client is not None
            else connect(connection, max_connections=apply_options.concurrency) as api
        ):
            applier = Applier(api, store, run_id, apply_options, on_done)
            settled = _settle(store, applier)
            if settled is not None and settled.stopped is not None:
                store.end_run(run_id, settled.exit_code, {"settled": len(settled.outcomes)})
                plan = plan_changes(desired.state, store.load())
                return SyncReport(desired, plan, None, settled, run_id, **fingerprints)
            plan = plan_changes(desired.state, store.load())
            try:
                check_guard(plan, plan_options)
            except Exception:
                store.end_run(run_id, 3, plan.counts())
                raise
            if before_apply is not None:
                before_apply(plan)
            if not plan.operations or not confirm(plan):
                store.end_run(run_id, 0, plan.counts())
                return SyncReport(desired, plan, None, settled, run_id, **fingerprints)
            result = applier.apply(plan)
        counts = {s.value: result.count(s) for s in type(result.outcomes[0].status)} if result.outcomes else {}
        report = SyncReport(desired, plan, result, settled, run_id, **fingerprints)
        store.end_run(run_id, report.exit_code, {**plan.counts(), **counts})
        return report


def _settle(store: StateStore, applier: Applier) -> RunResult | None:
    """Replays the operations a killed run left open, before anything is planned.

    Their answers may echo that run's own success (the call went through, the outcome
    was never written), so they are judged as suspect: "not found" after a delete,
    "already there" after an add, mean done (docs/design.md, "Crash safety").
    """
    open_entries = store.take_open_entries()
    if not open_entries:
        return None
    return applier.run([Operation.from_json(op) for op in open_entries], suspect=True)
