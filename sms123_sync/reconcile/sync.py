"""One sync run, end to end: lock → settle the journal → read → plan → guard → apply.

The library entry point for what ``sms123-sync plan`` and ``sync`` do, so a Python
caller gets the same behaviour as the command line.
"""

from __future__ import annotations

import hashlib
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
from sms123_sync.sources.files import require_file


@dataclass(frozen=True)
class SyncReport:
    """Everything a run produced, for rendering and for reports."""

    desired: DesiredResult
    plan: Plan
    result: RunResult | None  # None for a dry run or a declined confirmation
    settled: RunResult | None
    run_id: int | None

    @property
    def exit_code(self) -> int:
        codes = [r.exit_code for r in (self.settled, self.result) if r is not None]
        return max(codes, default=0)


def file_hash(path: Path | str) -> str:
    digest = hashlib.sha256()
    # The CLI hashes the export and the mapping before reading them: a missing path or
    # a directory must give the same one-line InputError as reading would.
    with require_file(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def make_plan(source: Path, mapping: Path, state: Path, options: PlanOptions) -> tuple[DesiredResult, Plan]:
    """The plan for ``source`` against ``state``; no network, no change to the state."""
    desired = read_plannable(source, mapping)
    store = StateStore(state)
    try:
        plan = plan_changes(desired.state, store.load())
    finally:
        store.close()
    check_guard(plan, options)
    return desired, plan


def run_sync(
    source: Path,
    mapping: Path,
    state: Path,
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
    store = StateStore(state)
    store.acquire()
    try:
        run_id = store.begin_run(
            "sync",
            source=str(source),
            source_hash=file_hash(source),
            mapping=str(mapping),
            mapping_hash=file_hash(mapping),
            mode=desired.state.mode,
        )
        with (
            nullcontext(client)
            if client is not None
            else connect(connection, max_connections=apply_options.concurrency) as api
        ):
            applier = Applier(api, store, run_id, apply_options, on_done)
            settled = None
            open_entries = store.open_entries()
            if open_entries:
                # A previous run died mid-call: finish those operations first. Their
                # answers may echo our own earlier success, so judge them as suspect.
                with store.change() as db:
                    db.execute("UPDATE journal SET status = 'settled' WHERE status = 'pending'")
                settled = applier.run([Operation.from_json(op) for _, op in open_entries], suspect=True)
                if settled.stopped is not None:
                    store.end_run(run_id, settled.exit_code, {"settled": len(open_entries)})
                    return SyncReport(desired, plan_changes(desired.state, store.load()), None, settled, run_id)
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
                return SyncReport(desired, plan, None, settled, run_id)
            result = applier.apply(plan)
        counts = {s.value: result.count(s) for s in type(result.outcomes[0].status)} if result.outcomes else {}
        report = SyncReport(desired, plan, result, settled, run_id)
        store.end_run(run_id, report.exit_code, {**plan.counts(), **counts})
        return report
    finally:
        store.close()
