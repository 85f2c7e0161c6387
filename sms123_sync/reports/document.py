"""Reports of a plan or a run, for people: JSON, CSV, XLSX and HTML.

One document (:func:`build_document`, versioned, schema in ``report.schema.json``)
feeds every format. Spreadsheet cells that would run as a formula (starting with
``= + - @``, a tab or a carriage return) are neutralised with a leading apostrophe; the
HTML page escapes every value and fetches nothing when opened. Every file is created
0600 (it names people and their numbers).
"""

from __future__ import annotations

import csv
import html
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sms123_sync.contact import FIELD_NAMES
from sms123_sync.errors import InputError
from sms123_sync.files import open_private, output_problem
from sms123_sync.mapping.problems import Problem

# 2: the deletion guard's verdict ("guard"), held operations ("held", status "held").
SCHEMA_VERSION = 2
SCHEMA_PATH = Path(__file__).with_name("schema.json")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = (".json", ".csv", ".xlsx", ".html")


def neutralise(value: object) -> str:
    """A cell value that a spreadsheet will show, never evaluate."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_problems_csv(path: Path, problems: Iterable[Problem]) -> None:
    """Writes rejects or warnings, one per row, in UTF-8 with BOM (Excel opens it right)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open_private(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["row", "column", "value", "code", "reason"])
        for p in problems:
            writer.writerow([p.row, neutralise(p.column), neutralise(p.value), p.code.value, neutralise(p.message)])


def expand_path(template: str, when: datetime | None = None) -> Path:
    """``reports/{date}.html`` → ``reports/2026-11-24.html`` ({date}, {time}, {datetime})."""
    now = when or datetime.now()
    return Path(
        template.replace("{date}", now.strftime("%Y-%m-%d"))
        .replace("{time}", now.strftime("%H%M%S"))
        .replace("{datetime}", now.strftime("%Y-%m-%dT%H%M%S"))
    )


def build_document(
    *,
    command: str,
    run: dict[str, Any],
    operations: list[dict[str, Any]],
    rejects: list[Problem],
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


def prepare_reports(templates: Iterable[str], when: datetime | None = None) -> list[Path]:
    """The report paths, expanded and checked before any work: every problem at once.

    A sync must not apply and then find that ``--report report.pdf`` cannot be written.
    """
    paths, problems = [], []
    for template in templates:
        path = expand_path(template, when)
        suffix = path.suffix.lower()
        problem = (
            f"unknown format {suffix or '(none)'!r}; use one of {', '.join(FORMATS)}"
            if suffix not in FORMATS
            else output_problem(path)
        )
        if problem is None:
            paths.append(path)
        else:
            problems.append(f"--report {template}: {problem}")
    if problems:
        raise InputError("; ".join(problems))
    return paths


@dataclass(frozen=True)
class Written:
    """Which reports were written and which failed (path, reason)."""

    paths: list[Path]
    failed: list[tuple[Path, str]]


def write_reports(paths: Iterable[Path], document: dict[str, Any]) -> Written:
    """Writes ``document`` to each path (checked by :func:`prepare_reports`).

    One report that fails (disk full, a cell a format cannot hold) does not stop the
    others: the failure is returned, for the caller to say and to exit non-zero.
    """
    written, failed = [], []
    for path in paths:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _WRITERS[path.suffix.lower()](path, document)
        except Exception as exc:  # any failure of one format: reported, the others still written
            failed.append((path, f"{type(exc).__name__}: {exc}"))
        else:
            written.append(path)
    return Written(written, failed)


def _write_json(path: Path, document: dict[str, Any]) -> None:
    with open_private(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(document, ensure_ascii=False, indent=2))


_OP_COLUMNS = [
    "kind",
    "groups",
    "number",
    "name",
    "old_number",
    "new_name",
    "reason",
    "changed",
    "status",
    "code",
    "meaning",
]


def _op_values(op: dict[str, Any], release: str = "") -> list[str]:
    """An operation's cells; a held one reads "held", with how to release it."""
    outcome = op.get("outcome") or ({"status": "held", "meaning": release} if op.get("held") else {})
    return [
        op["kind"],
        ", ".join(op["groups"]),
        op["number"] or "",
        _name(op),
        op["old_number"] or "",
        op["new_name"] or "",
        op["reason"],
        "; ".join(f"{f}: {op['before'][f]} → {op['after'][f]}" for f in op["changed"]),
        outcome.get("status", "planned"),
        outcome.get("code") or "",
        outcome.get("meaning") or "",
    ]


def _name(op: dict[str, Any]) -> str:
    fields = op["after"] or op["before"] or {}
    return " ".join(p for p in (fields.get("prenom", ""), fields.get("nom", "")) if p)


def _op_row(op: dict[str, Any], release: str = "") -> list[str]:
    """An operation's cells for a spreadsheet: formulas neutralised."""
    return [neutralise(v) for v in _op_values(op, release)]


def _release(document: dict[str, Any]) -> str:
    return str((document.get("guard") or {}).get("release") or "")


def _write_csv(path: Path, document: dict[str, Any]) -> None:
    with open_private(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(_OP_COLUMNS)
        writer.writerows(_op_row(op, _release(document)) for op in document["operations"])
    rejects_path = path.with_name(path.stem + "-rejects.csv")
    with open_private(rejects_path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["row", "column", "value", "code", "reason"])
        for r in document["rejects"]:
            writer.writerow(
                [r["row"], neutralise(r["column"]), neutralise(r["value"]), r["code"], neutralise(r["message"])]
            )


def _xlsx_safe(value: Any) -> Any:
    """A cell value XLSX can hold: control characters (a tab aside) become U+FFFD.

    openpyxl refuses them, and one in a rejected cell would fail the report every night.
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value


def _write_xlsx(path: Path, document: dict[str, Any]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    changed_fill = PatternFill("solid", fgColor="FFF2CC")
    wb = Workbook()
    summary = wb.create_sheet("Summary", 0)
    for extra in wb.sheetnames[1:]:
        del wb[extra]
    run = document["run"]
    for key in ("command", "source", "source_hash", "mapping", "state", "mode", "started", "ended", "exit_code"):
        summary.append([key, _xlsx_safe(neutralise(run.get(key, "")))])
    summary.append([])
    summary.append(["operations", "count"])
    for kind, count in document["counts"]["operations"].items():
        summary.append([kind, count])
    summary.append([])
    summary.append(["rejected rows", len(document["rejects"])])
    summary.append(["conflicts", len(document["conflicts"])])
    guard = document["guard"]
    summary.append(["held deletes", guard["held"]])
    summary.append(["deletion guard", _xlsx_safe(neutralise(guard["verdict"]))])
    summary.column_dimensions["A"].width = 20
    summary.column_dimensions["B"].width = 70

    def sheet(title: str, header: list[str], rows: Iterable[list[Any]]) -> Any:
        ws = wb.create_sheet(title)
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append([_xlsx_safe(v) for v in row])
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
        for i, name in enumerate(header, start=1):
            longest = max([len(str(name))] + [len(str(c.value or "")) for c in ws[get_column_letter(i)][1:200]])
            ws.column_dimensions[get_column_letter(i)].width = min(60, longest + 2)
        return ws

    release = _release(document)
    changes = sheet("Changes", _OP_COLUMNS, (_op_row(op, release) for op in document["operations"]))
    for row_cells, op in zip(changes.iter_rows(min_row=2), document["operations"], strict=False):
        if op["changed"]:
            row_cells[_OP_COLUMNS.index("changed")].fill = changed_fill
    sheet(
        "Rejects",
        ["row", "column", "value", "code", "reason"],
        (
            [r["row"], neutralise(r["column"]), neutralise(r["value"]), r["code"], neutralise(r["message"])]
            for r in document["rejects"]
        ),
    )
    sheet("Conflicts", _OP_COLUMNS, (_op_row(op) for op in document["conflicts"]))
    with open_private(path, "wb") as handle:
        wb.save(handle)


# Nothing may be fetched: the page is read offline, and a hostile cell must not phone home.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

_PAGE_STYLE = """
body{font:14px system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0 24px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3;cursor:pointer}
tr.hidden{display:none}
.bar{fill:#4a7bd0}
input{padding:4px 8px;width:320px}
.changed{background:#fff2cc}
.held{background:#fde2e1;padding:8px}
"""

_PAGE_SCRIPT = """
function filterTable(input,id){var q=input.value.toLowerCase();
document.querySelectorAll('#'+id+' tbody tr').forEach(function(r){
r.classList.toggle('hidden',r.textContent.toLowerCase().indexOf(q)<0);});
document.getElementById(id+'-count').textContent=
document.querySelectorAll('#'+id+' tbody tr:not(.hidden)').length;}
function sortTable(th){var table=th.closest('table'),i=Array.prototype.indexOf.call(th.parentNode.children,th);
var rows=Array.from(table.tBodies[0].rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
rows.sort(function(a,b){var x=a.cells[i].textContent,y=b.cells[i].textContent;
var n=parseFloat(x)-parseFloat(y);return (isNaN(n)?x.localeCompare(y):n)*(asc?1:-1);});
rows.forEach(function(r){table.tBodies[0].appendChild(r);});}
"""


def _html_table(table_id: str, header: list[str], rows: list[list[str]], highlight: list[bool] | None = None) -> str:
    esc = html.escape
    head = "".join(f'<th onclick="sortTable(this)">{esc(h)}</th>' for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="changed"' if highlight and highlight[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>")
    return (
        f'<p><input type="search" placeholder="search…" oninput="filterTable(this,\'{table_id}\')"> '
        f'<span id="{table_id}-count">{len(rows)}</span> row(s)</p>'
        f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _html_chart(per_group: dict[str, dict[str, int]]) -> str:
    totals = {g: sum(c.values()) for g, c in per_group.items()}
    if not totals:
        return "<p>No operation.</p>"
    top = max(totals.values())
    bars = []
    for i, (group, total) in enumerate(sorted(totals.items(), key=lambda kv: -kv[1])[:30]):
        width = 400 * total / top
        y = i * 22
        bars.append(
            f'<text x="0" y="{y + 15}">{html.escape(group)}</text>'
            f'<rect class="bar" x="200" y="{y + 3}" width="{width:.0f}" height="16"/>'
            f'<text x="{205 + width:.0f}" y="{y + 15}">{total}</text>'
        )
    height = 22 * len(bars) + 4
    return f'<svg role="img" aria-label="operations per group" width="700" height="{height}">{"".join(bars)}</svg>'


def _write_html(path: Path, document: dict[str, Any]) -> None:
    esc = html.escape
    run = document["run"]
    ops = document["operations"]
    meta = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(str(run.get(k, '')))}</td></tr>"
        for k in ("command", "source", "mapping", "mode", "started", "ended", "exit_code")
    )
    counts = "".join(f"<tr><td>{esc(k)}</td><td>{v}</td></tr>" for k, v in document["counts"]["operations"].items())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<title>sms123-sync report</title><style>{_PAGE_STYLE}</style></head><body>
<h1>sms123-sync {esc(run.get("command", ""))} report</h1>
<table>{meta}</table>
<h2>Summary</h2><table><tr><th>operation</th><th>count</th></tr>{counts}</table>
<p>{len(document["rejects"])} rejected row(s), {len(document["warnings"])} warning(s), {
        len(document["conflicts"])
    } conflict(s).</p>
<h2>Deletion guard</h2><p class="{"held" if document["guard"]["tripped"] else ""}">{
        esc(document["guard"]["verdict"])
    }</p>
<h2>Operations per group</h2>{_html_chart(document["counts"]["per_group"])}
<h2>Changes</h2>{
        _html_table(
            "changes",
            _OP_COLUMNS,
            [_op_values(o, _release(document)) for o in ops],
            [bool(o["changed"]) for o in ops],
        )
    }
<h2>Rejected rows</h2>{
        _html_table(
            "rejects",
            ["row", "column", "value", "code", "reason"],
            [[r["row"], r["column"], r["value"], r["code"], r["message"]] for r in document["rejects"]],
        )
    }
<script>{_PAGE_SCRIPT}</script>
</body></html>
"""
    with open_private(path, "w", encoding="utf-8") as handle:
        handle.write(page)


_WRITERS = {".json": _write_json, ".csv": _write_csv, ".xlsx": _write_xlsx, ".html": _write_html}


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
