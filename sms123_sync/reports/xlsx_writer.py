"""The XLSX report: sheets Summary, Changes (changed fields highlighted), Rejects, Conflicts."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sms123_sync.files import open_private
from sms123_sync.reports.rows import OP_COLUMNS, neutralise, op_row, release_text
from sms123_sync.reports.writers import register_writer


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

    release = release_text(document)
    changes = sheet("Changes", OP_COLUMNS, (op_row(op, release) for op in document["operations"]))
    for row_cells, op in zip(changes.iter_rows(min_row=2), document["operations"], strict=False):
        if op["changed"]:
            row_cells[OP_COLUMNS.index("changed")].fill = changed_fill
    sheet(
        "Rejects",
        ["row", "column", "value", "code", "reason"],
        (
            [r["row"], neutralise(r["column"]), neutralise(r["value"]), r["code"], neutralise(r["message"])]
            for r in document["rejects"]
        ),
    )
    sheet("Conflicts", OP_COLUMNS, (op_row(op) for op in document["conflicts"]))
    with open_private(path, "wb") as handle:
        wb.save(handle)


register_writer(".xlsx", _write_xlsx)
