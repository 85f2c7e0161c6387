"""Terminal rendering of results with rich; no logic beyond presentation."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from sms123_sync.desired import Stats
from sms123_sync.problems import Problem


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
