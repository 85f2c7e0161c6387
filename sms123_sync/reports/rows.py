"""The report document as table rows, in the reader's language: what the spreadsheet and
page writers share.

Spreadsheet cells that would run as a formula (starting with ``= + - @``, a tab or a
carriage return) are neutralised with a leading apostrophe. Numbers are text written as
people write them (``06 12 34 56 78``), never a spreadsheet number.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sms123_sync.i18n import DEFAULT_LANGUAGE, current
from sms123_sync.mapping.problems import Problem
from sms123_sync.reports import wording
from sms123_sync.reports.i18n import N_, _, phone

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell value that a spreadsheet will show, never evaluate."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


# Column keys (stable, for code) and their headings (translated where shown).
OP_COLUMNS = ["change", "groups", "number", "name", "details", "reason", "status", "code", "note"]
_OP_HEADINGS = {
    "change": N_("Change"),
    "groups": N_("Groups"),
    "number": N_("Phone number"),
    "name": N_("Name"),
    "details": N_("Before → after"),
    "reason": N_("Why"),
    "status": N_("Status"),
    "code": N_("API code"),
    "note": N_("Note"),
}
PROBLEM_COLUMNS = ["row", "column", "value", "code", "problem", "todo"]
_PROBLEM_HEADINGS = {
    "row": N_("Row"),
    "column": N_("Column"),
    "value": N_("Value"),
    "code": N_("Code"),
    "problem": N_("Problem"),
    "todo": N_("What to do"),
}


def op_headings() -> list[str]:
    return [_(_OP_HEADINGS[key]) for key in OP_COLUMNS]


def problem_headings() -> list[str]:
    return [_(_PROBLEM_HEADINGS[key]) for key in PROBLEM_COLUMNS]


def op_values(op: dict[str, Any], document: dict[str, Any]) -> list[str]:
    """An operation's cells in words; a held one says how to release it."""
    return [
        wording.title(op),
        ", ".join(op["groups"]),
        phone(op["number"]),
        wording.person(op),
        wording.changes_text(op),
        wording.reason(op["reason"]),
        wording.status(op),
        str((op.get("outcome") or {}).get("code") or ""),
        wording.note(op, document),
    ]


def op_row(op: dict[str, Any], document: dict[str, Any]) -> list[str]:
    """An operation's cells for a spreadsheet: formulas neutralised."""
    return [neutralise(v) for v in op_values(op, document)]


def problem_rows(problems: Iterable[Problem]) -> Iterator[tuple[Any, ...]]:
    """:func:`problem_row` for many problems: a file of half a million rejects says each
    code's wording once, not once a row."""
    said: dict[str, tuple[str, str] | None] = {}
    english = current() == DEFAULT_LANGUAGE
    for p in problems:
        code = p.code.value
        if code not in said:  # a code without wording says its own message, as problem_row does
            said[code] = wording.problem({"code": code, "message": ""}) if code in wording.PROBLEMS else None
        what, todo = said[code] or (p.message, "")
        yield p.row, neutralise(p.column), neutralise(p.value), code, neutralise(p.message if english else what), todo


def problem_row(p: dict[str, Any]) -> list[Any]:
    """A reject or warning's cells for a spreadsheet (``p`` as the document holds it)."""
    what, todo = wording.problem(p)
    return [p["row"], neutralise(p["column"]), neutralise(p["value"]), p["code"], neutralise(what), todo]
