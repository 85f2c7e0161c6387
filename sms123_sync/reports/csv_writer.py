"""The CSV report: one row per operation, and the rejects beside it in ``…-rejects.csv``.

Headings and cells are in the reader's language; scripts read the JSON report instead.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sms123_sync import i18n
from sms123_sync.files import open_private
from sms123_sync.mapping.problems import Problem, ProblemTable
from sms123_sync.memory import paused_collector
from sms123_sync.reports.rows import op_headings, op_row, problem_headings, problem_row, problem_rows
from sms123_sync.reports.writers import register_writer


def _write_csv(path: Path, document: dict[str, Any]) -> None:
    with open_private(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(op_headings())
        writer.writerows(op_row(op, document) for op in document["operations"])
    rejects_path = path.with_name(path.stem + "-rejects.csv")
    with open_private(rejects_path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(problem_headings())
        writer.writerows(problem_row(r) for r in document["rejects"])


def write_problems_csv(path: Path, problems: Iterable[Problem]) -> None:
    """Writes rejects or warnings, one per row, in UTF-8 with BOM (Excel opens it right).

    Many problems are written column by column through Arrow (:mod:`columnar_csv`), which
    gives the bytes :func:`csv.writer` gives; a few go row by row, which starts faster.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    problems = problems if isinstance(problems, list | ProblemTable) else list(problems)
    with i18n.pinned():
        if len(problems) >= _COLUMNAR_FROM:
            from sms123_sync.reports.columnar_csv import problem_lines

            try:
                with open_private(path, "wb") as binary:
                    binary.write(_header_bytes(problem_headings()))
                    for chunk in problem_lines(problems):
                        binary.write(chunk)
                return
            except (TypeError, ValueError):
                pass  # a cell that is not text (a library caller's Problem): the rows rewrite the file
        with paused_collector(), open_private(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(problem_headings())
            writer.writerows(problem_rows(problems))


#: From how many problems the columnar writer is used: below, importing and preparing
#: Arrow costs more than the rows it saves.
_COLUMNAR_FROM = 2000


def _header_bytes(headings: list[str]) -> bytes:
    """The BOM and the heading line, as the csv module writes them."""
    line = io.StringIO()
    csv.writer(line, delimiter=";").writerow(headings)
    return "\ufeff".encode() + line.getvalue().encode("utf-8")


register_writer(".csv", _write_csv)
