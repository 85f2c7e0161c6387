"""The CSV report: one row per operation, and the rejects beside it in ``…-rejects.csv``."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sms123_sync.files import open_private
from sms123_sync.mapping.problems import Problem
from sms123_sync.reports.rows import OP_COLUMNS, neutralise, op_row, release_text
from sms123_sync.reports.writers import register_writer


def _write_csv(path: Path, document: dict[str, Any]) -> None:
    with open_private(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(OP_COLUMNS)
        writer.writerows(op_row(op, release_text(document)) for op in document["operations"])
    rejects_path = path.with_name(path.stem + "-rejects.csv")
    with open_private(rejects_path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["row", "column", "value", "code", "reason"])
        for r in document["rejects"]:
            writer.writerow(
                [r["row"], neutralise(r["column"]), neutralise(r["value"]), r["code"], neutralise(r["message"])]
            )


def write_problems_csv(path: Path, problems: Iterable[Problem]) -> None:
    """Writes rejects or warnings, one per row, in UTF-8 with BOM (Excel opens it right)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open_private(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["row", "column", "value", "code", "reason"])
        for p in problems:
            writer.writerow([p.row, neutralise(p.column), neutralise(p.value), p.code.value, neutralise(p.message)])


register_writer(".csv", _write_csv)
