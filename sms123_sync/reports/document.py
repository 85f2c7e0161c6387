"""Reports of a plan or a run, for people: JSON, CSV, XLSX and HTML.

One document (:func:`build_document`, versioned, schema in ``report.schema.json``)
feeds every format. Spreadsheet cells that would run as a formula (starting with
``= + - @``, a tab or a carriage return) are neutralised with a leading apostrophe; the
HTML page escapes every value and fetches nothing when opened. Every file is created
0600 (it names people and their numbers).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sms123_sync.contact import FIELD_NAMES
from sms123_sync.mapping.problems import Problem

# 2: the deletion guard's verdict ("guard"), held operations ("held", status "held").
SCHEMA_VERSION = 2
SCHEMA_PATH = Path(__file__).with_name("schema.json")


def build_document(
    *,
    command: str,
    run: dict[str, Any],
    operations: list[dict[str, Any]],
    rejects: Sequence[Problem],
    warnings: list[Problem],
    source_stats: dict[str, int] | None = None,
    guard: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report as plain data; ``operations`` are :func:`operation_entry` dicts and
    ``guard`` is :func:`guard_entry`'s verdict (passed when absent)."""
    per_kind = Counter(op["kind"] for op in operations)
    per_group: dict[str, Counter[str]] = {}
    for op in operations:
        for group in op["groups"] or ["(every group)"]:
            per_group.setdefault(group, Counter())[op["kind"]] += 1
    outcomes = Counter(op["outcome"]["status"] for op in operations if op.get("outcome"))
    return {
        "schema": "sms123-sync/report",
        "version": SCHEMA_VERSION,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "run": {"command": command, **run},
        "counts": {
            "operations": dict(per_kind),
            "per_group": {g: dict(c) for g, c in sorted(per_group.items())},
            "outcomes": dict(outcomes),
            "source": source_stats or {},
        },
        "operations": operations,
        "rejects": [_problem(p) for p in rejects],
        "warnings": [_problem(p) for p in warnings],
        "conflicts": [op for op in operations if (op.get("outcome") or {}).get("status") == "conflict"],
        "guard": guard or guard_entry(None),
    }


def guard_entry(plan: Any | None, verdict: str = "", release: str = "") -> dict[str, Any]:
    """The deletion guard's verdict as report data: from a checked plan, or (``runs show``)
    from what the run history kept."""
    checked = getattr(plan, "guard", None)
    if checked is not None and checked.tripped:
        verdict, release = checked.verdict(), checked.release
    held = len(plan.held) if plan is not None else 0
    return {
        "tripped": bool(verdict),
        "verdict": verdict or "passed",
        "held": held,
        "release": release or None,
        "vanished_contacts": getattr(plan, "vanished_contacts", None),
        "known_contacts": getattr(plan, "known_contacts", None),
        "groups": [asdict(loss) for loss in getattr(plan, "group_losses", ())],
    }


def _problem(p: Problem) -> dict[str, Any]:
    return {"row": p.row, "column": p.column, "value": p.value, "code": p.code.value, "message": p.message}


def operation_entry(op: Any, outcome: Any | None = None, held: bool = False) -> dict[str, Any]:
    """One operation (and its outcome, if applied) as report data; ``held``: the deletion
    guard held it back."""
    before = asdict(op.before) if op.before is not None else None
    after = asdict(op.fields) if op.fields is not None else None
    changed = [f for f in FIELD_NAMES if before and after and before[f] != after[f]]
    return {
        "kind": op.kind.name.lower(),
        "groups": list(op.groups),
        "new_name": op.new_name or None,
        "number": op.number or None,
        "old_number": op.old_number or None,
        "reason": op.reason,
        "changed": changed,
        "before": before,
        "after": after,
        "held": held,
        "outcome": None
        if outcome is None
        else {
            "status": outcome.status.value,
            "code": outcome.code,
            "meaning": outcome.meaning,
            "attempts": outcome.attempts,
        },
    }


def plan_document(desired: Any, plan: Any, run: dict[str, Any], command: str = "plan") -> dict[str, Any]:
    """The report of a plan (nothing applied), held deletes marked."""
    held = {id(op) for op in plan.held}
    return build_document(
        command=command,
        run=run,
        operations=[operation_entry(op, held=id(op) in held) for op in plan.operations],
        rejects=desired.rejects,
        warnings=desired.warnings,
        source_stats=asdict(desired.stats),
        guard=guard_entry(plan),
    )


def sync_document(report: Any, run: dict[str, Any]) -> dict[str, Any]:
    """The report of a sync: every planned operation with its outcome, a held one as "held"."""
    outcomes: dict[int, Any] = {id(o.op): o for o in (report.result.outcomes if report.result else [])}
    release = report.plan.guard.release if report.plan.guard is not None else ""
    held = {id(op) for op in report.plan.held}
    outcomes.update((key, _Held(release)) for key in held)
    entries = [operation_entry(op, outcomes.get(id(op)), id(op) in held) for op in report.plan.operations]
    return build_document(
        command="sync",
        run={**run, "id": report.run_id, "exit_code": report.exit_code},
        operations=entries,
        rejects=report.desired.rejects,
        warnings=report.desired.warnings,
        source_stats=asdict(report.desired.stats),
        guard=guard_entry(report.plan),
    )


class _Held:
    """The outcome of an operation the guard held: never sent."""

    def __init__(self, release: str) -> None:
        self.status = type("S", (), {"value": "held"})()
        self.code, self.meaning, self.attempts = None, f"held by the deletion guard; {release}", 0


def journal_document(run: dict[str, Any], journal: list[dict[str, Any]], verdict: str = "") -> dict[str, Any]:
    """The report of a past run, rebuilt from the state's journal (no rejects kept there);
    ``verdict`` is the guard's, as the run history kept it."""
    from sms123_sync.reconcile.plan import Operation

    class _Outcome:
        def __init__(self, row: dict[str, Any]) -> None:
            self.status = type("S", (), {"value": row["status"]})()
            self.code, self.meaning, self.attempts = row["code"], row["meaning"], row["attempts"]

    entries = [
        operation_entry(Operation.from_json(json.loads(r["op"])), _Outcome(r), r["status"] == "held") for r in journal
    ]
    held = [r for r in journal if r["status"] == "held"]
    guard = guard_entry(None, verdict or ("held deletes" if held else ""), held[0]["meaning"] if held else "")
    guard["held"] = len(held)
    return build_document(command="runs show", run=run, operations=entries, rejects=[], warnings=[], guard=guard)


def summary(document: dict[str, Any]) -> dict[str, Any]:
    """The one-object summary ``--json`` prints, for monitoring."""
    return {
        "schema": "sms123-sync/summary",
        "version": SCHEMA_VERSION,
        "run": document["run"],
        "operations": document["counts"]["operations"],
        "outcomes": document["counts"]["outcomes"],
        "source": document["counts"]["source"],
        "rejects": len(document["rejects"]),
        "warnings": len(document["warnings"]),
        "conflicts": len(document["conflicts"]),
        "held": document["guard"]["held"],
        "guard": document["guard"]["verdict"],
    }
