"""Rejects and warnings as values: one dataclass, a stable code, the cell it concerns.

Modelled on frictionless' cell errors: reports render these, tests assert on ``code``,
and nobody parses the message text.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

#: Longest piece of user data quoted in an error message.
QUOTE_LIMIT = 120


class ProblemCode(StrEnum):
    """Stable identifiers of the problems a row can have."""

    INVALID_PHONE = "invalid-phone"
    MISSING_VALUE = "missing-value"
    GROUP_SEPARATOR = "group-separator"
    NO_GROUP = "no-group"
    NUMBER_TAKEN = "number-taken"
    DUPLICATE = "duplicate-row"
    BAD_DATE = "bad-date"
    TOO_LONG = "too-long"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of one cell: a reject (row dropped) or a warning (row kept)."""

    code: ProblemCode
    row: int  # as the user sees it: the header is row 1
    column: str
    value: str
    message: str

    def describe(self, source: str = "") -> str:
        where = f"{source}, " if source else ""
        return f"{where}row {self.row}, column {self.column!r}, value {quote(self.value)}: {self.message}"


def printable(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` made safe to quote in a message: control and format characters (a NUL, an
    escape sequence, a right-to-left override) shown as ``\\xNN``/``\\uNNNN`` escapes, so
    they can neither hide nor reorder what a terminal shows; cut to ``limit`` characters."""
    cut = len(text) > limit
    shown = "".join(_escape(c) if unicodedata.category(c) in ("Cc", "Cf") else c for c in text[:limit])
    return shown + "…" if cut else shown


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def quote(value: str, limit: int = QUOTE_LIMIT) -> str:
    """``value`` as a quoted literal (``repr`` escapes what cannot be shown), cut to ``limit``
    characters so a 2 MB cell does not flood the terminal."""
    return repr(value[:limit]) + ("…" if len(value) > limit else "")
