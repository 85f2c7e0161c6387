"""The report document as table rows: what the spreadsheet and page writers share.

Spreadsheet cells that would run as a formula (starting with ``= + - @``, a tab or a
carriage return) are neutralised with a leading apostrophe.
"""

from __future__ import annotations

from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell value that a spreadsheet will show, never evaluate."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


OP_COLUMNS = [
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


def op_values(op: dict[str, Any], release: str = "") -> list[str]:
    """An operation's cells; a held one reads "held", with how to release it."""
    outcome = op.get("outcome") or ({"status": "held", "meaning": release} if op.get("held") else {})
    return [
        op["kind"],
        ", ".join(op["groups"]),
        op["number"] or "",
        op_name(op),
        op["old_number"] or "",
        op["new_name"] or "",
        op["reason"],
        "; ".join(f"{f}: {op['before'][f]} → {op['after'][f]}" for f in op["changed"]),
        outcome.get("status", "planned"),
        outcome.get("code") or "",
        outcome.get("meaning") or "",
    ]


def op_name(op: dict[str, Any]) -> str:
    fields = op["after"] or op["before"] or {}
    return " ".join(p for p in (fields.get("prenom", ""), fields.get("nom", "")) if p)


def op_row(op: dict[str, Any], release: str = "") -> list[str]:
    """An operation's cells for a spreadsheet: formulas neutralised."""
    return [neutralise(v) for v in op_values(op, release)]


def release_text(document: dict[str, Any]) -> str:
    return str((document.get("guard") or {}).get("release") or "")
