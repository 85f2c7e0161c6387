"""Rejects and warnings as values: one dataclass, a stable code, the cell it concerns.

Modelled on frictionless' cell errors: reports render these, tests assert on ``code``,
and nobody parses the message text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sms123_sync.text import quote


class ProblemCode(StrEnum):
    """Stable identifiers of the problems a row can have."""

    INVALID_PHONE = "invalid-phone"
    LANDLINE = "landline"
    PHONE_TEXT = "phone-text"
    EXTRA_PHONE = "extra-phone"
    MISSING_VALUE = "missing-value"
    GROUP_SEPARATOR = "group-separator"
    NO_GROUP = "no-group"
    DUPLICATE = "duplicate-row"
    SHARED_NUMBER = "shared-number"
    BAD_DATE = "bad-date"
    TOO_LONG = "too-long"
    NOT_A_BOOLEAN = "not-yes-or-no"
    FILTER_KEEPS_NOTHING = "filter-keeps-nothing"
    LEFT_OUT_ROWS = "not-data"


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
