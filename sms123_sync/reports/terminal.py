"""Terminal rendering of results with rich; no logic beyond presentation."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
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
from sms123_sync.reports import wording
from sms123_sync.reports.i18n import DEFAULT_LANGUAGE, N_, _, current, ngettext, phone, when
from sms123_sync.text import printable

log = logging.getLogger("sms123_sync")


def print_stats(console: Console, stats: Stats) -> None:
    table = Table(title=_("source"), show_header=False, box=None)
    for label, value in (
        (N_("rows read"), stats.rows_read),
        (N_("filtered out"), stats.filtered_out),
        (N_("rejected"), stats.rejected),
        (N_("merged duplicates"), stats.merged_duplicates),
        (N_("contacts"), stats.contacts),
        (N_("groups"), stats.groups),
        (N_("memberships"), stats.memberships),
    ):
        table.add_row(_(label), str(value))
    console.print(table)


def print_rejects(console: Console, problems: Sequence[Problem], source: str, limit: int) -> None:
    """The rows left aside, the first ``limit`` of them said one per line."""
    n = len(problems)
    _print_problems(
        console, ngettext("{n} rejected row:", "{n} rejected rows:", n).format(n=n), problems, source, limit
    )


def print_warnings(console: Console, problems: list[Problem], source: str, limit: int) -> None:
    """The cells kept with a doubt, the first ``limit`` of them said one per line."""
    n = len(problems)
    _print_problems(console, ngettext("{n} warning:", "{n} warnings:", n).format(n=n), problems, source, limit)


def _print_problems(console: Console, title: str, problems: Sequence[Problem], source: str, limit: int) -> None:
    if not problems:
        return
    console.print(title, markup=False)
    for problem in problems[:limit]:
        console.print(f"  [{problem.code.value}] {problem_line(problem, source)}", markup=False)
    if len(problems) > limit:
        console.print("  " + _("… and {n} more").format(n=len(problems) - limit), markup=False)


def problem_line(problem: Problem, source: str = "") -> str:
    """A reject or warning in one line: where (file, row, column, value), what is wrong and
    what to do. English keeps the precise message the reader knows (and tests look for);
    other languages say the code's meaning and advice from ``wording.PROBLEMS``, as the
    HTML report does. ``Problem.message`` itself stays English: it goes into JSON."""
    if current() == DEFAULT_LANGUAGE:
        return problem.describe(source)
    from sms123_sync.reports.wording import problem as in_words

    what, todo = in_words({"code": problem.code.value, "message": problem.message})
    where = {"row": problem.row, "column": printable(problem.column), "value": printable(problem.value)}
    if source:
        text = _("{source}, row {row}, column “{column}”, value “{value}”: {what}").format(
            source=source, what=what, **where
        )
    else:
        text = _("row {row}, column “{column}”, value “{value}”: {what}").format(what=what, **where)
    return f"{text}. {todo}" if todo else text


def print_plan(console: Console, plan: Plan, limit: int | None) -> None:
    """Counts per kind and group, the first changes with before → after, then the deletes
    the guard holds, each marked, and the guard's verdict last."""
    if not plan.operations:
        console.print(_("nothing to do: the account already matches the export"))
        return
    n_held = len(plan.held)
    held = ngettext(", {n} held", ", {n} held", n_held).format(n=n_held) if n_held else ""
    title = ngettext("plan: {n} operation{held}", "plan: {n} operations{held}", len(plan))
    table = Table(title=title.format(n=len(plan), held=held))
    kinds = [k.name for k in OpKind]
    table.add_column(_("group"))
    for kind in kinds:
        table.add_column(kind_name(kind), justify="right")
    for group, counts in plan.per_group().items():
        table.add_row(group, *(str(counts.get(k, "")) for k in kinds))
    console.print(table)
    _print_ops(console, plan.applicable, limit, "")
    if plan.held:
        console.print(_("held by the deletion guard ({n}):").format(n=len(plan.held)), markup=False)
        _print_ops(console, plan.held, limit, _("HELD") + " ")
    print_guard(console, plan)


def _print_ops(console: Console, ops: tuple[Operation, ...], limit: int | None, mark: str) -> None:
    shown = ops if limit is None else ops[:limit]
    for op in shown:
        console.print(f"  {mark}{describe(op)}", markup=False)
    if len(shown) < len(ops):
        console.print("  " + _("… and {n} more (-v for all)").format(n=len(ops) - len(shown)), markup=False)


def print_guard(console: Console, plan: Plan) -> None:
    """The deletion guard's verdict, when it held something: why, and how to release."""
    if plan.guard is not None and plan.guard.tripped:
        console.print(Text.assemble((_("held:"), "bold yellow"), " ", guard_verdict(plan)))


def guard_verdict(plan: Plan) -> str:
    """The guard's verdict line; in English the planner's own words, else said again from
    its figures (the options to release are the same in every language)."""
    guard = plan.guard
    if guard is None or not guard.tripped:
        return _("deletion guard: passed")
    if current() == DEFAULT_LANGUAGE:
        return guard.verdict()
    from sms123_sync.reports.wording import release_options

    options = release_options({"guard": {"release": guard.release}})
    text = ngettext(
        "deletion guard: {n} delete held, the rest applies.",
        "deletion guard: {n} deletes held, the rest applies.",
        len(guard.held),
    ).format(n=len(guard.held))
    text += " " + _("If the export is broken, fix it and run again.")
    if options:
        text += " " + _("If these removals are right, run again with {options}.").format(options=options)
    return text


# The kinds as the terminal names them (the report pages use whole sentences).
_KIND_NAMES: dict[str, str] = {
    "GROUP_ADD": N_("group add"),
    "GROUP_RENAME": N_("group rename"),
    "CONTACT_ADD": N_("contact add"),
    "CONTACT_UPD": N_("contact upd"),
    "CONTACT_DEL": N_("contact del"),
    "GROUP_DEL": N_("group del"),
}


def kind_name(kind: str) -> str:
    return _(_KIND_NAMES[kind]) if kind in _KIND_NAMES else kind.lower()


def describe(op: Operation) -> str:
    from sms123_sync.reports.wording import reason

    groups = ", ".join(op.groups) or _("every group")
    name = kind_name(op.kind.name)
    why = op.reason if current() == DEFAULT_LANGUAGE else reason(op.reason)
    if op.kind is OpKind.GROUP_RENAME:
        return f"{name} {op.groups[0]!r} → {op.new_name!r} ({why})"
    if op.kind in (OpKind.GROUP_ADD, OpKind.GROUP_DEL):
        return f"{name} {groups!r} ({why})"
    # English keeps the digits the journal and the API use; French writes them as people do.
    shown = (lambda n: n) if current() == DEFAULT_LANGUAGE else phone
    text = _("{kind} {number} in {groups} ({why})").format(kind=name, number=shown(op.number), groups=groups, why=why)
    if op.old_number and op.old_number != op.number:
        number = _("number {old} → {new}").format(old=shown(op.old_number), new=shown(op.number))
        text = _("{what}: {detail}").format(what=text, detail=number)
    if op.before is not None and op.fields is not None:
        changes = "; ".join(f"{f} {getattr(op.before, f)!r} → {getattr(op.fields, f)!r}" for f in op.changed_fields)
        if changes:
            text = _("{what}: {detail}").format(what=text, detail=changes)
    return text


_STATUS_NAMES: dict[str, str] = {
    "applied": N_("applied"),
    "already-done": N_("already-done"),
    "conflict": N_("conflict"),
    "failed": N_("failed"),
    "skipped": N_("skipped"),
    "held": N_("held"),
}


def status_name(status: str) -> str:
    return _(_STATUS_NAMES[status]) if status in _STATUS_NAMES else status


def print_outcome(console: Console, report: SyncReport) -> None:
    if report.settled is not None:
        settled = len(report.settled.outcomes)
        console.print(
            ngettext(
                "settled {n} operation left open by an interrupted run",
                "settled {n} operations left open by an interrupted run",
                settled,
            ).format(n=settled)
        )
    result = report.result
    if result is None:
        if report.plan.held:
            print_guard(console, report.plan)
        return
    statuses = ", ".join(f"{result.count(s)} {status_name(s.value)}" for s in Status if result.count(s))
    console.print(_("done: {statuses}").format(statuses=statuses))
    for outcome in result.outcomes:
        if outcome.status in (Status.FAILED, Status.CONFLICT):
            console.print(
                f"  {status_name(outcome.status.value)}: {describe(outcome.op)}: {outcome.code} {outcome.meaning}",
                markup=False,
            )
    if result.stopped is not None:
        console.print(_("run stopped: {why}").format(why=result.stopped), markup=False)
    if report.plan.held:
        print_guard(console, report.plan)


def print_known(console: Console, known: KnownState) -> None:
    frame = known.memberships
    console.print(
        ", ".join(
            (
                ngettext("{n} group", "{n} groups", len(known.groups)).format(n=len(known.groups)),
                ngettext("{n} contact", "{n} contacts", known.contact_count).format(n=known.contact_count),
                ngettext("{n} membership", "{n} memberships", len(frame)).format(n=len(frame)),
            )
        )
    )
    counts = frame.groupby("grp").size().to_dict() if len(frame) else {}
    for group, origin in sorted(known.groups.items()):
        shown = _(_ORIGINS[origin]) if origin in _ORIGINS else origin
        console.print("  " + _("{group}: {n} ({origin})").format(group=group, n=counts.get(group, 0), origin=shown))


# Where a group the state knows came from.
_ORIGINS: dict[str, str] = {"created": N_("created by sms123-sync"), "adopted": N_("adopted")}


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
                TextColumn(_("applying")),
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
        console.print(_("no run recorded yet"))
        return
    for run in runs:
        counts = json.loads(run["counts"] or "{}")
        changes = ", ".join(wording.count_text(k.lower(), int(v)) for k, v in counts.items() if v and k.isupper())
        if counts.get("held"):
            changes += " " + ngettext(
                "({n} delete held by the guard)", "({n} deletes held by the guard)", int(counts["held"])
            ).format(n=counts["held"])
        took = _duration(run["started"], run["ended"])
        console.print(
            f"#{run['id']} {when(run['started'])} ({took}) {run['command']} {run['source'] or ''}: "
            f"{changes or _('no change')}; " + _("exit {code}").format(code=run["exit_code"]),
            markup=False,
        )


def _duration(started: str | None, ended: str | None) -> str:
    from datetime import datetime

    if not started or not ended:
        return _("unfinished")
    seconds = (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()
    return f"{seconds:.0f} s"


def print_journal(console: Console, run: dict[str, Any], document: dict[str, Any]) -> None:
    console.print(
        _("run #{id} {started} → {ended}, exit {code}").format(
            id=run["id"], started=when(run["started"]), ended=when(run["ended"]), code=run["exit_code"]
        ),
        markup=False,
    )
    operations = len(document["operations"])
    outcomes = ", ".join(
        _("{n} {status}").format(status=status_name(status), n=n)
        for status, n in document["counts"]["outcomes"].items()
    )
    console.print(
        ngettext("{n} operation: {outcomes}", "{n} operations: {outcomes}", operations).format(
            n=operations, outcomes=outcomes
        ),
        markup=False,
    )
    for op in document["operations"]:
        status = (op.get("outcome") or {}).get("status")
        if status not in ("applied", "already-done", "held"):
            outcome = op["outcome"] or {}
            console.print(
                f"  {status_name(str(status))}: {kind_name(op['kind'].upper())} {phone(op['number'] or '')} "
                f"{', '.join(op['groups'])}: {outcome.get('code') or ''} {outcome.get('meaning') or ''}",
                markup=False,
            )
    held = [op for op in document["operations"] if op.get("held")]
    if held:
        console.print(
            ngettext(
                "{n} delete held by the deletion guard, not applied:",
                "{n} deletes held by the deletion guard, not applied:",
                len(held),
            ).format(n=len(held)),
            markup=False,
        )
        for op in held:
            console.print(f"  {_('HELD')} {op['kind']} {op['number'] or ''} {', '.join(op['groups'])}", markup=False)
        guard = document.get("guard") or {}
        if current() == DEFAULT_LANGUAGE:
            console.print(guard.get("verdict") or guard.get("release") or "", markup=False)
        else:
            from sms123_sync.reports.wording import held_note

            console.print(held_note(document), markup=False)
