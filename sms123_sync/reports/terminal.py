"""Terminal rendering of results with rich; no logic beyond presentation."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from sms123_sync.mapping.desired import Stats
from sms123_sync.mapping.problems import Problem
from sms123_sync.reconcile.apply import Status
from sms123_sync.reconcile.plan import Operation, OpKind, Plan
from sms123_sync.reconcile.state import KnownState
from sms123_sync.reconcile.sync import SyncReport

log = logging.getLogger("sms123_sync")


def print_stats(console: Console, stats: Stats) -> None:
    table = Table(title="source", show_header=False, box=None)
    for label, value in (
        ("rows read", stats.rows_read),
        ("filtered out", stats.filtered_out),
        ("rejected", stats.rejected),
        ("merged duplicates", stats.merged_duplicates),
        ("contacts", stats.contacts),
        ("groups", stats.groups),
        ("memberships", stats.memberships),
    ):
        table.add_row(label, str(value))
    console.print(table)


def print_problems(console: Console, title: str, problems: list[Problem], source: str, limit: int) -> None:
    if not problems:
        return
    console.print(f"{len(problems)} {title}:")
    for problem in problems[:limit]:
        console.print(f"  [{problem.code.value}] {problem.describe(source)}", markup=False)
    if len(problems) > limit:
        console.print(f"  … and {len(problems) - limit} more")


def print_plan(console: Console, plan: Plan, limit: int | None) -> None:
    """Counts per kind and group, the first changes with before → after, then the deletes
    the guard holds, each marked, and the guard's verdict last."""
    if not plan.operations:
        console.print("nothing to do: the account already matches the export")
        return
    held = f", {len(plan.held)} held" if plan.held else ""
    table = Table(title=f"plan: {len(plan)} operation(s){held}")
    kinds = [k.name for k in OpKind]
    table.add_column("group")
    for kind in kinds:
        table.add_column(kind.lower().replace("_", " "), justify="right")
    for group, counts in plan.per_group().items():
        table.add_row(group, *(str(counts.get(k, "")) for k in kinds))
    console.print(table)
    _print_ops(console, plan.applicable, limit, "")
    if plan.held:
        console.print(f"held by the deletion guard ({len(plan.held)}):")
        _print_ops(console, plan.held, limit, "HELD ")
    print_guard(console, plan)


def _print_ops(console: Console, ops: tuple[Operation, ...], limit: int | None, mark: str) -> None:
    shown = ops if limit is None else ops[:limit]
    for op in shown:
        console.print(f"  {mark}{describe(op)}", markup=False)
    if len(shown) < len(ops):
        console.print(f"  … and {len(ops) - len(shown)} more (-v for all)")


def print_guard(console: Console, plan: Plan) -> None:
    """The deletion guard's verdict, when it held something: why, and how to release."""
    if plan.guard is not None and plan.guard.tripped:
        console.print(Text.assemble(("held:", "bold yellow"), " ", plan.guard.verdict()))


def describe(op: Operation) -> str:
    groups = ", ".join(op.groups) or "every group"
    name = op.kind.name.lower().replace("_", " ")
    if op.kind is OpKind.GROUP_RENAME:
        return f"{name} {op.groups[0]!r} → {op.new_name!r} ({op.reason})"
    if op.kind in (OpKind.GROUP_ADD, OpKind.GROUP_DEL):
        return f"{name} {groups!r} ({op.reason})"
    text = f"{name} {op.number} in {groups} ({op.reason})"
    if op.old_number and op.old_number != op.number:
        text += f": number {op.old_number} → {op.number}"
    if op.before is not None and op.fields is not None:
        changes = "; ".join(f"{f} {getattr(op.before, f)!r} → {getattr(op.fields, f)!r}" for f in op.changed_fields)
        if changes:
            text += f": {changes}"
    return text


def print_outcome(console: Console, report: SyncReport) -> None:
    if report.settled is not None:
        console.print(f"settled {len(report.settled.outcomes)} operation(s) left open by an interrupted run")
    result = report.result
    if result is None:
        if report.plan.held:
            print_guard(console, report.plan)
        return
    statuses = ", ".join(f"{result.count(s)} {s.value}" for s in Status if result.count(s))
    console.print(f"done: {statuses}")
    for outcome in result.outcomes:
        if outcome.status in (Status.FAILED, Status.CONFLICT):
            console.print(
                f"  {outcome.status.value}: {describe(outcome.op)}: {outcome.code} {outcome.meaning}", markup=False
            )
    if result.stopped is not None:
        console.print(f"run stopped: {result.stopped}", markup=False)
    if report.plan.held:
        print_guard(console, report.plan)


def print_known(console: Console, known: KnownState) -> None:
    frame = known.memberships
    console.print(f"{len(known.groups)} group(s), {known.contact_count} contact(s), {len(frame)} membership(s)")
    counts = frame.groupby("grp").size().to_dict() if len(frame) else {}
    for group, origin in sorted(known.groups.items()):
        console.print(f"  {group}: {counts.get(group, 0)} ({origin})")


class ApplyProgress:
    """A progress bar with rate and ETA on a terminal; a few log lines otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._total = 0
        self._done = 0
        self._next_log = 0.0

    def start(self, total: int) -> None:
        self._total, self._done = total, 0
        if self.console.is_terminal:
            self._bar = Progress(
                TextColumn("applying"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rate]}/s"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._task = self._bar.add_task("apply", total=total, rate="0")
            self._bar.start()
            self._started = time.monotonic()
        else:
            log.info("applying %d operation(s)", total)

    def advance(self, outcome: object) -> None:
        self._done += 1
        if self._bar is not None and self._task is not None:
            rate = self._done / max(1e-6, time.monotonic() - self._started)
            self._bar.update(self._task, advance=1, rate=f"{rate:.0f}")
        elif self._total and self._done / self._total >= self._next_log:
            log.info("applied %d of %d operation(s)", self._done, self._total)
            self._next_log += 0.25

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def print_runs(console: Console, runs: list[dict[str, Any]]) -> None:
    if not runs:
        console.print("no run recorded yet")
        return
    for run in runs:
        counts = json.loads(run["counts"] or "{}")
        changes = ", ".join(f"{v} {k.lower()}" for k, v in counts.items() if v and k.isupper())
        if counts.get("held"):
            changes += f" ({counts['held']} delete(s) held by the guard)"
        took = _duration(run["started"], run["ended"])
        console.print(
            f"#{run['id']} {run['started']} ({took}) {run['command']} {run['source'] or ''}: "
            f"{changes or 'no change'}; exit {run['exit_code']}",
            markup=False,
        )


def _duration(started: str | None, ended: str | None) -> str:
    from datetime import datetime

    if not started or not ended:
        return "unfinished"
    seconds = (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()
    return f"{seconds:.0f} s"


def print_journal(console: Console, run: dict[str, Any], document: dict[str, Any]) -> None:
    console.print(f"run #{run['id']} {run['started']} → {run['ended']}, exit {run['exit_code']}", markup=False)
    console.print(f"{len(document['operations'])} operation(s): {document['counts']['outcomes']}", markup=False)
    for op in document["operations"]:
        status = (op.get("outcome") or {}).get("status")
        if status not in ("applied", "already-done", "held"):
            outcome = op["outcome"] or {}
            console.print(
                f"  {status}: {op['kind']} {op['number'] or ''} {', '.join(op['groups'])}: "
                f"{outcome.get('code') or ''} {outcome.get('meaning') or ''}",
                markup=False,
            )
    held = [op for op in document["operations"] if op.get("held")]
    if held:
        console.print(f"{len(held)} delete(s) held by the deletion guard, not applied:", markup=False)
        for op in held:
            console.print(f"  HELD {op['kind']} {op['number'] or ''} {', '.join(op['groups'])}", markup=False)
        guard = document.get("guard") or {}
        console.print(guard.get("verdict") or guard.get("release") or "", markup=False)
