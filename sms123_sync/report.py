"""Files written for people: rejects and (later) plan and run reports.

Cells that a spreadsheet would run as a formula (starting with ``= + - @``, or a tab
or carriage return) are neutralised with a leading apostrophe.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from sms123_sync.problems import Problem

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell value that a spreadsheet will show, never evaluate."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_problems_csv(path: Path, problems: Iterable[Problem]) -> None:
    """Writes rejects or warnings, one per row, in UTF-8 with BOM (Excel opens it right)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["row", "column", "value", "code", "reason"])
        for p in problems:
            writer.writerow([p.row, neutralise(p.column), neutralise(p.value), p.code.value, neutralise(p.message)])
