"""The interface every kind of source implements, and the registry that picks one.

A source kind is one module with a reader: it says which locations it claims (a file
extension, a URL scheme), reads one into a :class:`SourceTable` of text cells, and gives
a fingerprint of what it read for the run history. Registering it is one call to
:func:`register_reader`; the CLI, the pipeline and ``state import`` then accept its
locations with no other change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sms123_sync.errors import InputError
from sms123_sync.i18n import lazy_gettext as _


class SourceOptions(BaseModel):
    """How to read the export (the mapping's ``source:``); ``auto`` means detected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sheet: str | int | None = None
    encoding: str = "auto"
    delimiter: str = "auto"
    header_row: int | None = Field(default=None, ge=1)  # the row of the column names; found when not given

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str) -> str:
        named = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}
        value = named.get(value, value)
        if value != "auto" and len(value) != 1:
            raise ValueError("delimiter must be one character, 'tab' or 'auto'")
        return value


@dataclass(frozen=True)
class LeftOutRow:
    """A row after the data that holds no record (a report's name, copyright, "Generated
    By"), left out of the table; the pipeline warns about them once, naming them."""

    row: int  # as the user sees it
    text: str


@dataclass(frozen=True)
class SourceTable:
    """The cells of one export, as text, with how they were read.

    ``frame`` has one text column per header (missing cells are ""); ``row_number``
    turns a record's position into the row the user sees in the original, so every
    reject and warning can point at it, wherever the header is (a title and blank
    rows above it move the first record down).
    """

    location: str  # as the user named it, for messages
    frame: pd.DataFrame
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    first_row: int = 2  # the row the user sees for the first record (header_row + 1)
    left_out: tuple[LeftOutRow, ...] = ()  # rows after the data that are not records
    # The row of each record when blank lines between records moved them (else None).
    rows: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def row_number(self, position: int) -> int:
        """The row the user sees for the record at ``position``."""
        return int(self.rows[position]) if self.rows is not None else position + self.first_row

    def row_numbers(self, positions: np.ndarray) -> np.ndarray:
        """:meth:`row_number` for many positions at once."""
        return self.rows[positions] if self.rows is not None else positions + self.first_row


class SourceReader(Protocol):
    """One kind of source: which locations it reads, how, and how to fingerprint them."""

    kind: str  # a short name for messages and the run history ("csv", "workbook")

    def claims(self, location: str) -> bool:
        """Whether this reader reads ``location`` (by extension, scheme, ...)."""
        ...

    def read(self, location: str, options: SourceOptions) -> SourceTable:
        """The table at ``location``; an InputError saying what to do when it cannot be read."""
        ...

    def fingerprint(self, location: str) -> str:
        """A digest of what ``read`` would read, recorded with each run."""
        ...


# Newest first: a reader registered later is asked before the built-in ones.
_READERS: list[SourceReader] = []


def register_reader(reader: SourceReader) -> Callable[[], None]:
    """Adds a kind of source; returns a function that removes it again (for tests)."""
    _READERS.insert(0, reader)
    return lambda: _READERS.remove(reader)


def reader_for(location: str) -> SourceReader:
    """The reader that claims ``location``."""
    for reader in _READERS:
        if reader.claims(location):
            return reader
    kinds = ", ".join(r.kind for r in _READERS) or _("none registered")
    raise InputError(
        _("{location}: no reader for this kind of source (known kinds: {kinds})").format(location=location, kinds=kinds)
    )


def read_source(location: object, options: SourceOptions | None = None) -> SourceTable:
    """Reads ``location`` with the reader that claims it."""
    where = str(location)
    return reader_for(where).read(where, options or SourceOptions())


def source_fingerprint(location: object) -> str:
    """The fingerprint the reader of ``location`` gives it."""
    where = str(location)
    return reader_for(where).fingerprint(where)
