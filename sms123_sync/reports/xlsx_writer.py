"""The XLSX report: sheets Summary, Changes (changed rows highlighted), Rejects, Conflicts,
named and worded in the reader's language, header rows frozen, columns as wide as their text."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sms123_sync.files import open_private
from sms123_sync.reports import wording
from sms123_sync.reports.i18n import N_, _, phone, when
from sms123_sync.reports.rows import OP_COLUMNS, neutralise, op_headings, op_row, problem_headings, problem_row
from sms123_sync.reports.writers import register_writer

SHEETS = (N_("Summary"), N_("Changes"), N_("Rejects"), N_("Conflicts"))
RUN_LABELS: dict[str, str] = {
    "command": N_("Command"),
    "source": N_("Export"),
    "source_hash": N_("Export fingerprint"),
    "mapping": N_("Mapping"),
    "state": N_("State file"),
    "mode": N_("Mode"),
    "started": N_("Started"),
    "ended": N_("Ended"),
    "exit_code": N_("Exit code"),
}


def _xlsx_safe(value: Any) -> Any:
    """A cell value XLSX can hold: control characters (a tab aside) become U+FFFD.

    openpyxl refuses them, and one in a rejected cell would fail the report every night.
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value


def _xlsx_op_row(op: dict[str, Any], document: dict[str, Any]) -> list[str]:
    """An operation's cells; the number as text, without the apostrophe a CSV needs before
    "+33": an XLSX text cell is never evaluated, and libphonenumber wrote that one."""
    row = op_row(op, document)
    row[OP_COLUMNS.index("number")] = phone(op["number"])
    return row


def _write_xlsx(path: Path, document: dict[str, Any]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    changed_fill = PatternFill("solid", fgColor="FFF2CC")
    summary_title, changes_title, rejects_title, conflicts_title = (_(name) for name in SHEETS)
    wb = Workbook()
    summary = wb.create_sheet(summary_title, 0)
    for extra in wb.sheetnames[1:]:
        del wb[extra]
    for sentence in wording.headline(document):
        summary.append([_xlsx_safe(neutralise(sentence))])
        summary.cell(summary.max_row, 1).alignment = Alignment(wrap_text=True, vertical="top")
        summary.merge_cells(start_row=summary.max_row, start_column=1, end_row=summary.max_row, end_column=2)
    summary.append([])
    run = document["run"]
    for key, label in RUN_LABELS.items():
        value = when(run.get(key)) if key in ("started", "ended") else run.get(key, "")
        summary.append([_(label), _xlsx_safe(neutralise(value))])
    summary.append([])
    summary.append([_("Change"), _("Count")])
    summary.cell(summary.max_row, 1).font = bold
    summary.cell(summary.max_row, 2).font = bold
    for kind, count in document["counts"]["operations"].items():
        summary.append([wording.kind_label(kind), count])
    summary.append([])
    guard = document["guard"]
    summary.append([_("Rejected rows"), len(document["rejects"])])
    summary.append([_("Conflicts"), len(document["conflicts"])])
    summary.append([_("Held deletions"), guard["held"]])
    summary.append([_("Deletion guard"), wording.held_note(document) if guard["tripped"] else _("passed")])
    summary.column_dimensions["A"].width = 28
    summary.column_dimensions["B"].width = 90
    summary.freeze_panes = "A2"

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

    changes = sheet(changes_title, op_headings(), (_xlsx_op_row(op, document) for op in document["operations"]))
    for row_cells, op in zip(changes.iter_rows(min_row=2), document["operations"], strict=False):
        if op["changed"] or (op["old_number"] and op["old_number"] != op["number"]):
            row_cells[4].fill = changed_fill  # the "before → after" column
    sheet(rejects_title, problem_headings(), (problem_row(r) for r in document["rejects"]))
    sheet(conflicts_title, op_headings(), (_xlsx_op_row(op, document) for op in document["conflicts"]))
    with open_private(path, "wb") as handle:
        wb.save(handle)


register_writer(".xlsx", _write_xlsx)
