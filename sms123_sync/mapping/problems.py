"""Rejects and warnings as values: one dataclass, a stable code, the cell it concerns.

Modelled on frictionless' cell errors: reports render these, tests assert on ``code``,
and nobody parses the message text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import chain, pairwise
from typing import overload

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


class ProblemTable(Sequence[Problem]):
    """Many problems held as five columns, read as a sequence of :class:`Problem`.

    An export half rejects has hundreds of thousands of them: a Problem object each cost
    more than judging the cells (0.8 µs apiece), and the rejects file is written from the
    columns anyway. A Problem is made only when one is read; the table compares equal to
    a list of the same problems.
    """

    __slots__ = ("codes", "columns", "messages", "rows", "values")

    def __init__(
        self,
        codes: list[ProblemCode],
        rows: list[int],
        columns: list[str],
        values: list[str],
        messages: list[str],
    ) -> None:
        if not len(codes) == len(rows) == len(columns) == len(values) == len(messages):
            raise ValueError("the columns of a problem table differ in length")
        self.codes, self.rows, self.columns, self.values, self.messages = codes, rows, columns, values, messages

    @classmethod
    def of(cls, problems: Iterable[Problem]) -> ProblemTable:
        """The table of ``problems``, in their order."""
        if isinstance(problems, ProblemTable):
            return problems
        items = list(problems)
        return cls(
            [p.code for p in items],
            [p.row for p in items],
            [p.column for p in items],
            [p.value for p in items],
            [p.message for p in items],
        )

    @classmethod
    def joined(cls, parts: Iterable[Iterable[Problem]]) -> ProblemTable:
        """The problems of ``parts`` one after the other."""
        tables = [table for table in map(cls.of, parts) if len(table)]
        if len(tables) == 1:
            return tables[0]  # the common case: only the phones' rejects (tables are not changed in place)
        return cls(
            list(chain.from_iterable(t.codes for t in tables)),
            list(chain.from_iterable(t.rows for t in tables)),
            list(chain.from_iterable(t.columns for t in tables)),
            list(chain.from_iterable(t.values for t in tables)),
            list(chain.from_iterable(t.messages for t in tables)),
        )

    def lists(self) -> tuple[list[ProblemCode], list[int], list[str], list[str], list[str]]:
        """The five columns, in the order Problem names its fields."""
        return self.codes, self.rows, self.columns, self.values, self.messages

    def by_row(self) -> ProblemTable:
        """The same problems ordered by row; problems of one row keep their order."""
        rows = self.rows
        if len(rows) > 1000:  # a whole column of rejects: checked in NumPy, not pair by pair
            import numpy as np  # here: the light commands never load NumPy for their problems

            if bool((np.diff(np.fromiter(rows, dtype=np.int64, count=len(rows))) >= 0).all()):
                return self
        elif all(a <= b for a, b in pairwise(rows)):
            return self
        order = sorted(range(len(rows)), key=rows.__getitem__)
        return ProblemTable(
            [self.codes[i] for i in order],
            [rows[i] for i in order],
            [self.columns[i] for i in order],
            [self.values[i] for i in order],
            [self.messages[i] for i in order],
        )

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> Problem: ...
    @overload
    def __getitem__(self, index: slice) -> ProblemTable: ...
    def __getitem__(self, index: int | slice) -> Problem | ProblemTable:
        if isinstance(index, slice):
            return ProblemTable(
                self.codes[index], self.rows[index], self.columns[index], self.values[index], self.messages[index]
            )
        i = index
        return Problem(self.codes[i], self.rows[i], self.columns[i], self.values[i], self.messages[i])

    def __iter__(self) -> Iterator[Problem]:
        return map(Problem, *self.lists())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ProblemTable):
            return self.lists() == other.lists()
        if isinstance(other, list):  # as a list would: equal to a list, not to a tuple
            return list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable lists inside, like a list

    def __repr__(self) -> str:
        return f"ProblemTable({list(self)!r})"
