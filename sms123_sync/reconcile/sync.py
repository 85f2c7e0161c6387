"""One sync run, end to end: lock → read → settle the journal → plan → guard → apply.

On the usual night (no call left open by a killed run) nothing can change the state
between the lock and the plan, so the state loads on a second core while the export is
read: the two take about the same time at a million rows (docs/design.md, "Speed rules").

The deletion guard holds deletes, it does not stop the run: what it holds is journaled
as ``held`` (so ``runs show`` lists it) and the rest of the plan is applied; the next
run plans the held deletes again, and applies them once the guard lets them through.

The library entry point for what ``sms123-sync plan`` and ``sync`` do, so a Python
caller gets the same behaviour as the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from sms123_sync.api.client import Client
from sms123_sync.api.connection import ConnectionSettings, connect
from sms123_sync.mapping.desired import DesiredResult
from sms123_sync.mapping.pipeline import read_plannable
from sms123_sync.reconcile.apply import Applier, ApplyOptions, Outcome, RunResult
from sms123_sync.reconcile.plan import (
    KnownIndex,
    Operation,
    Plan,
    PlanOptions,
    index_desired,
    index_known,
    plan_changes,
)
from sms123_sync.reconcile.state import KnownState, StateChangedError, StateStore
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
        """The worst of the replay, the apply and the guard (3 when it held deletes)."""
        codes = [r.exit_code for r in (self.settled, self.result) if r is not None]
        if self.plan.guard is not None:
            codes.append(self.plan.guard.exit_code)
        return max(codes, default=0)


def make_plan(
    source: Path | str, mapping: Path | str, state: Path | str, options: PlanOptions
) -> tuple[DesiredResult, Plan]:
    """The plan for ``source`` against ``state``, with the guard's verdict (``plan.guard``);
    no network, no change to the state."""
    first = _read_first(source, mapping, state)
    with StateStore(state) as store, _loader() as loader:
        loaded = loader.submit(_load_for_plan, store)
        desired = first if first is not None else read_plannable(source, mapping)
        mine = index_desired(desired.state)  # while the state may still be loading
        try:
            plan = plan_changes(desired.state, *loaded.result(), mine)
        except StateChangedError:
            # A sync wrote the file between the slim load and the fields of the changes
            # (a plan takes no lock): plan again from the whole state, read at one moment.
            plan = plan_changes(desired.state, store.load(), mine=mine)
    return desired, plan.checked(options)


def _load_for_plan(store: StateStore) -> tuple[KnownState, KnownIndex]:
    """The state as the planner reads it, with what the planner derives from it alone."""
    known = store.load(fields=False)
    return known, index_known(known)


def _read_first(source: Path | str, mapping: Path | str, state: Path | str) -> DesiredResult | None:
    """The export, read before the state is opened when there is no state file yet: opening
    creates it, and a bad export must leave none behind. None when the file exists."""
    return None if Path(state).is_file() else read_plannable(source, mapping)


def _loader() -> ThreadPoolExecutor:
    """The thread the state loads on while the export is read (SQLite and Arrow release
    the GIL). Leaving its ``with`` waits for the load, so the store closes after it."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="state-load")


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
    """Runs one sync and returns what happened; deletes the guard holds are in
    ``report.plan.held``, not applied, and make ``report.exit_code`` 3.

    ``client`` replaces the connection built from ``connection`` (tests inject faults).
    """
    plan_options = plan_options or PlanOptions()
    apply_options = apply_options or ApplyOptions()
    first = _read_first(source, mapping, state)
    with StateStore(state) as store, _loader() as loader:
        store.acquire()
        # A killed run's open calls are settled before planning and change the state:
        # then it loads after them. Otherwise it loads while the export is read.
        early = loader.submit(_load_for_plan, store) if first is None and not store.open_entries() else None
        desired = first if first is not None else read_plannable(source, mapping)
        fingerprints = {
            "source_fingerprint": source_fingerprint(source),
            "mapping_fingerprint": file_fingerprint(mapping),
        }
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
                plan = plan_changes(desired.state, store.load(fields=False))
                return SyncReport(desired, plan, None, settled, run_id, **fingerprints)
            mine = index_desired(desired.state)
            loaded = early.result() if early is not None else _load_for_plan(store)
            plan = plan_changes(desired.state, *loaded, mine).checked(plan_options)
            guard_counts = _guard_counts(plan)
            if plan.guard is not None and plan.held:
                store.journal_held(run_id, [op.to_json() for op in plan.held], plan.guard.release)
            if before_apply is not None:
                before_apply(plan)
            if not plan.applicable or not confirm(plan):
                report = SyncReport(desired, plan, None, settled, run_id, **fingerprints)
                store.end_run(run_id, report.exit_code, {**plan.counts(), **guard_counts})
                return report
            result = applier.run(plan.applicable)
        counts = {s.value: result.count(s) for s in type(result.outcomes[0].status)} if result.outcomes else {}
        report = SyncReport(desired, plan, result, settled, run_id, **fingerprints)
        store.end_run(run_id, report.exit_code, {**plan.counts(), **counts, **guard_counts})
        return report


def _guard_counts(plan: Plan) -> dict[str, object]:
    """What the run history keeps of the guard: how many deletes it held, and why."""
    if plan.guard is None or not plan.guard.tripped:
        return {}
    return {"held": len(plan.held), "guard": plan.guard.verdict()}


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
