"""Terminal rendering of results with rich; no logic beyond presentation."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from sms123_sync.apply import Status
from sms123_sync.desired import Stats
from sms123_sync.plan import Operation, OpKind, Plan
from sms123_sync.problems import Problem
from sms123_sync.state import KnownState
from sms123_sync.sync import SyncReport


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
    """Counts per kind and group, then the first changes with before → after."""
    if not plan.operations:
        console.print("nothing to do: the account already matches the export")
        return
    table = Table(title=f"plan: {len(plan)} operation(s)")
    kinds = [k.name for k in OpKind]
    table.add_column("group")
    for kind in kinds:
        table.add_column(kind.lower().replace("_", " "), justify="right")
    for group, counts in plan.per_group().items():
        table.add_row(group, *(str(counts.get(k, "")) for k in kinds))
    console.print(table)
    shown = plan.operations if limit is None else plan.operations[:limit]
    for op in shown:
        console.print(f"  {describe(op)}", markup=False)
    if len(shown) < len(plan.operations):
        console.print(f"  … and {len(plan.operations) - len(shown)} more (-v for all)")


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


def print_known(console: Console, known: KnownState) -> None:
    frame = known.memberships
    console.print(f"{len(known.groups)} group(s), {known.contact_count} contact(s), {len(frame)} membership(s)")
    counts = frame.groupby("grp").size().to_dict() if len(frame) else {}
    for group, origin in sorted(known.groups.items()):
        console.print(f"  {group}: {counts.get(group, 0)} ({origin})")
