"""What the file-based readers share: checking the path, the header, the fingerprint."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow as pa

from sms123_sync.errors import InputError
from sms123_sync.i18n import N_
from sms123_sync.i18n import lazy_gettext as _
from sms123_sync.text import printable, strip_invisible

# What ``require_file`` calls the file it checks, for the catalog.
FILE_KINDS = (N_("file"), N_("export"), N_("mapping"))


def require_file(path: Path | str, what: str = "file") -> Path:
    """``path`` when it is a readable file; else an InputError saying what is wrong with it."""
    path = Path(path)
    if path.is_dir():
        raise InputError(
            _("{path}: is a directory; give the path of the {what} itself").format(path=path, what=_(what))
        )
    if not path.is_file():
        raise InputError(_("{path}: no such file; check the path").format(path=path))
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise InputError(
            _("{path}: cannot open the {what}: {reason}").format(path=path, what=_(what), reason=exc.strerror)
        ) from None
    return path


def file_fingerprint(path: Path | str) -> str:
    """The SHA-256 of a file, read in 1 MB chunks."""
    digest = hashlib.sha256()
    with require_file(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def strip_header(name: str) -> str:
    """A column name without surrounding spaces or invisible format characters (a BOM
    or zero-width space pasted into a header would hide the column from the mapping)."""
    return strip_invisible(name).strip()


_UNNAMED = "\x00unnamed column "

#: How many rows above the data a title, a date and blank rows may take before the header.
HEADER_SEARCH_ROWS = 30


def find_header_row(rows: list[list[str]]) -> int:
    """The index in ``rows`` (the file's first rows, a blank row as []) of the column names.

    A title, an export date or blank rows above the header fill one or two cells, where
    the header names every column: the header is the first row that fills at least half
    as many cells as the fullest of these rows. A file whose first row is its header
    keeps it, since no data row fills more cells than a header that names them all.
    """
    filled = [sum(1 for cell in row if cell.strip()) for row in rows[:HEADER_SEARCH_ROWS]]
    widest = max(filled, default=0)
    if widest == 0:
        return 0
    return next(i for i, count in enumerate(filled) if 2 * count >= widest)


def placeholder_names(header: list[str]) -> list[str]:
    """``header`` with a unique stand-in for each column without a name (a separator at
    the end of every line, as Dolibarr writes, or an empty header cell), so the reader
    can take its cells and :func:`drop_unnamed` can check they are empty."""
    return [name or f"{_UNNAMED}{i}" for i, name in enumerate(header, start=1)]


def drop_unnamed(path: Path, frame: pd.DataFrame, row: int) -> pd.DataFrame:
    """``frame`` without its unnamed columns, which must hold no data (else an InputError)."""
    unnamed = [c for c in frame.columns if str(c).startswith(_UNNAMED)]
    for column in unnamed:
        cells = frame[column].fillna("").astype(str).str.strip()
        if (cells != "").any():
            number = str(column).removeprefix(_UNNAMED)
            raise InputError(
                _(
                    "{path}: row {row}, column {number} has no name but holds data; "
                    "every column with data needs a header"
                ).format(path=path, row=row, number=number)
            )
    return frame.drop(columns=unnamed) if unnamed else frame


def check_header(path: Path, header: list[str], row: int = 1) -> None:
    """Refuses a header without names, or naming a column twice; ``row`` as the user sees it."""
    if not header or all(not h for h in header):
        raise InputError(
            _("{path}: row {row} must hold the column names (or set source.header_row in the mapping)").format(
                path=path, row=row
            )
        )
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise InputError(
                _("{path}: row {row}: the column name {name} appears twice; rename one").format(
                    path=path, row=row, name=repr(printable(name))
                )
            )
        seen.add(name)


def text_types(arrow_type: pa.DataType) -> object:
    """pandas' Arrow-backed string dtype for Arrow's text columns. Its arrays hold large
    strings: a column read as such is taken without a copy."""
    return pd.StringDtype("pyarrow") if arrow_type in (pa.string(), pa.large_string()) else None
