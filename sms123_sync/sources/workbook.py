"""Workbooks (XLSX, XLSM, ODS, XLS): one sheet read as text cells, zip bombs refused.

Excel numbers that are whole become their digits (``612345678``, not ``612345678.0``),
so a leading zero lost by Excel can still be restored; dates become ISO dates.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from sms123_sync.errors import InputError
from sms123_sync.i18n import lazy_gettext as _
from sms123_sync.sources.base import SourceOptions, SourceTable
from sms123_sync.sources.files import (
    HEADER_SEARCH_ROWS,
    check_header,
    drop_unnamed,
    file_fingerprint,
    find_header_row,
    placeholder_names,
    require_file,
    strip_header,
)
from sms123_sync.text import printable

_EXCEL = {".xlsx", ".xlsm", ".xls", ".ods"}

#: Most bytes a workbook's members may unzip to, all together. An XLSX is a zip of XML:
#: a 1 MB file can hold gigabytes of repeated XML that the Excel reader would build in
#: memory. Real exports of a million contacts unzip to a few hundred megabytes.
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024

#: Highest unzipped/zipped ratio of a large member; real sheets compress 5 to 50 times,
#: a zip bomb about 1000 times.
MAX_RATIO = 400

_RATIO_FLOOR = 16 * 1024 * 1024  # members smaller than this are not judged by their ratio

_DEFLATE_MAX_RATIO = 1032  # the most deflate can expand its input: bounds what a member may hold

_ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}


class WorkbookReader:
    """Reads files whose extension names a workbook format."""

    kind = "workbook"

    def claims(self, location: str) -> bool:
        return Path(location).suffix.lower() in _EXCEL

    def read(self, location: str, options: SourceOptions) -> SourceTable:
        return _read_excel(require_file(location, "export"), options)

    def fingerprint(self, location: str) -> str:
        return file_fingerprint(location)


def _read_excel(path: Path, options: SourceOptions) -> SourceTable:
    check_unzipped_size(path)
    sheet = options.sheet if options.sheet is not None else 0
    try:
        cells = pd.read_excel(path, sheet_name=sheet, engine="calamine", dtype=object, header=None)
    except ValueError as exc:
        names = ", ".join(map(printable, _sheet_names(path)))
        raise InputError(
            _("{path}: sheet {sheet} not found ({reason}); the workbook has: {names}").format(
                path=path, sheet=repr(sheet), reason=printable(str(exc)), names=names
            )
        ) from None
    except Exception as exc:  # calamine raises its own types for broken files
        raise InputError(
            _("{path}: cannot read as an Excel workbook: {reason}").format(path=path, reason=printable(str(exc), 300))
        ) from None
    top = [[_excel_text(v) for v in row] for row in cells.head(HEADER_SEARCH_ROWS).itertuples(index=False)]
    at = options.header_row - 1 if options.header_row is not None else find_header_row(top)
    if not len(cells):
        check_header(path, [])
    if at >= len(cells):
        raise InputError(
            _("{path}: source.header_row is {row}, but the sheet ends at row {last}").format(
                path=path, row=at + 1, last=len(cells)
            )
        )
    header = _numbered_repeats([strip_header(_header_text(v)) for v in cells.iloc[at]])
    check_header(path, header, at + 1)
    columns = placeholder_names(header)
    frame = cells.iloc[at + 1 :].set_axis(columns, axis=1).reset_index(drop=True)
    text = pd.DataFrame({col: frame[col].map(_excel_text) for col in columns}, index=frame.index)
    text = drop_unnamed(path, text, at + 1)
    sheet_name = sheet if isinstance(sheet, str) else _sheet_names(path)[sheet]
    return SourceTable(str(path), text.astype(pd.StringDtype("pyarrow")), sheet=sheet_name, first_row=at + 2)


def check_unzipped_size(path: Path) -> None:
    """Refuses a workbook whose members would unzip to more than :data:`MAX_UNZIPPED_BYTES`,
    or a large member compressed more than :data:`MAX_RATIO` times, before any parsing.

    The sizes a zip declares are read first (instant). They can lie, so when the zipped
    bytes could hold more than the limit, the members are inflated into nothing and
    counted, stopping at the limit: memory stays flat whatever the file claims.
    Old ``.xls`` files are not zips; their size on disk bounds what they hold.
    """
    if not zipfile.is_zipfile(path):
        return
    limit_mb = MAX_UNZIPPED_BYTES // 2**20
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(
            _("{path}: a damaged workbook ({reason}); save it again from Excel").format(
                path=path, reason=printable(str(exc))
            )
        ) from None
    declared = sum(info.file_size for info in members)
    if declared > MAX_UNZIPPED_BYTES:
        raise InputError(
            _(
                "{path}: the workbook would unzip to {size} MB, over the {limit} MB this tool reads; "
                "export the contacts as CSV instead"
            ).format(path=path, size=declared // 2**20, limit=limit_mb)
        )
    for info in members:
        if info.compress_type not in _ZIP_METHODS:
            raise InputError(
                _(
                    "{path}: member {member} uses zip method {method}, "
                    "which Excel never writes; save the workbook again from Excel"
                ).format(path=path, member=repr(printable(info.filename)), method=info.compress_type)
            )
        ratio = info.file_size // max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and ratio > MAX_RATIO:
            raise InputError(
                _(
                    "{path}: member {member} would unzip {ratio} times its size "
                    "(the limit is {limit}): a zip bomb, not an export; refused"
                ).format(path=path, member=repr(printable(info.filename)), ratio=ratio, limit=MAX_RATIO)
            )
    bound = sum(info.compress_size * (_DEFLATE_MAX_RATIO if info.compress_type else 1) for info in members)
    if bound > MAX_UNZIPPED_BYTES and _inflated_size(path, members) > MAX_UNZIPPED_BYTES:
        raise InputError(
            _(
                "{path}: the workbook unzips to more than {limit} MB although its directory claims "
                "{size} MB: a forged zip, refused"
            ).format(path=path, limit=limit_mb, size=declared // 2**20)
        )


def _inflated_size(path: Path, members: list[zipfile.ZipInfo]) -> int:
    """The members' true unzipped size, counted up to just past the limit, in 1 MB steps."""
    total = 0
    with path.open("rb") as handle:
        for info in members:
            handle.seek(info.header_offset)
            local = handle.read(30)
            if len(local) < 30 or local[:4] != b"PK\x03\x04":
                raise InputError(
                    _("{path}: a damaged workbook (bad zip entry); save it again from Excel").format(path=path)
                )
            name_length, extra_length = struct.unpack("<HH", local[26:30])
            handle.seek(name_length + extra_length, io.SEEK_CUR)
            inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type else None
            left = info.compress_size
            while left > 0 and total <= MAX_UNZIPPED_BYTES:
                chunk = handle.read(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
                if inflater is None:
                    total += len(chunk)
                    continue
                try:
                    while chunk and total <= MAX_UNZIPPED_BYTES:
                        total += len(inflater.decompress(chunk, 1 << 20))
                        chunk = inflater.unconsumed_tail
                except zlib.error:
                    raise InputError(
                        _("{path}: a damaged workbook (bad compressed data); save it again").format(path=path)
                    ) from None
    return total


def _sheet_names(path: Path) -> list[str]:
    from python_calamine import CalamineWorkbook

    return list(CalamineWorkbook.from_path(str(path)).sheet_names)


def _numbered_repeats(header: list[str]) -> list[str]:
    """A name given twice becomes ``Nom``, ``Nom.1``, as pandas has always read workbooks:
    mappings written for such a file keep working."""
    seen: set[str] = set()
    named = []
    for name in header:
        base, count = name, 0
        while name and name in seen:
            count += 1
            name = f"{base}.{count}"
        seen.add(name)
        named.append(name)
    return named


def _header_text(value: object) -> str:
    """A header cell as the column name the mapping uses: as pandas has always named
    them (a date or TRUE header keeps its Python spelling, so no mapping changes)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _excel_text(value: object) -> str:
    """An Excel cell as the text a user would type for it."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)
