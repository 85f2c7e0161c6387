"""Reading a CRM export (CSV, XLSX, XLSM) into a table of text cells.

Every cell comes back as text so a leading zero is never lost; Excel numbers that are
whole become their digits (``612345678``, not ``612345678.0``) and Excel dates become
ISO dates. Row numbers are those the user sees: the header is row 1.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from sms123_sync.errors import InputError
from sms123_sync.mapping.model import SourceOptions

_EXCEL = {".xlsx", ".xlsm", ".xls", ".ods"}
_DELIMITERS = ";,\t|"
_SNIFF_BYTES = 256 * 1024


@dataclass(frozen=True)
class SourceTable:
    """The cells of one export, as text, with how they were read."""

    path: Path
    frame: pd.DataFrame  # every column of dtype object/str; missing cells are ""
    encoding: str | None
    delimiter: str | None
    sheet: str | None

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def row_number(self, position: int) -> int:
        """The row the user sees for the record at ``position`` (header is row 1)."""
        return position + 2


def read_source(path: Path | str, options: SourceOptions | None = None) -> SourceTable:
    """Reads ``path`` by its extension; raises InputError with what to do."""
    path = Path(path)
    options = options or SourceOptions()
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() in _EXCEL:
        return _read_excel(path, options)
    return _read_csv(path, options)


def detect_encoding(head: bytes, path: Path) -> str:
    """utf-8 with BOM, utf-8, else cp1252 (Excel's "CSV" on French Windows), else latin-1."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    data = path.read_bytes()
    for encoding in ("utf-8", "cp1252"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"  # decodes any byte sequence


def detect_delimiter(sample: str) -> str:
    """The delimiter of ``sample`` among ; , tab and |."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _read_csv(path: Path, options: SourceOptions) -> SourceTable:
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.strip():
        raise InputError(f"{path}: the file is empty")
    encoding = detect_encoding(head, path) if options.encoding == "auto" else options.encoding
    try:
        sample = head.decode(encoding, errors="ignore").lstrip("\ufeff")
    except LookupError:
        raise InputError(f"{path}: unknown encoding {encoding!r} in the mapping's source.encoding") from None
    delimiter = detect_delimiter(sample) if options.delimiter == "auto" else options.delimiter
    header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
    header = [h.strip() for h in header]
    _check_header(path, header)
    arrow_encoding = "utf8" if encoding in ("utf-8", "utf-8-sig") else encoding
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=arrow_encoding, column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(f"{path}: cannot read as CSV with delimiter {delimiter!r}: {_arrow_reason(exc)}") from None
    frame = table.to_pandas(types_mapper=_text_types)
    return SourceTable(path, frame, encoding, delimiter, None)


def _text_types(arrow_type: pa.DataType) -> object:
    return pd.StringDtype("pyarrow") if arrow_type == pa.string() else None


def _arrow_reason(exc: Exception) -> str:
    text = str(exc)
    if "Expected" in text and "columns" in text:
        return text.split("\n")[0] + " (a row has more or fewer cells than the header; check quoting)"
    return text.split("\n")[0]


def _check_header(path: Path, header: list[str]) -> None:
    if not header or all(not h for h in header):
        raise InputError(f"{path}: the first row must hold the column names")
    seen: set[str] = set()
    for i, name in enumerate(header, start=1):
        if not name:
            raise InputError(f"{path}: row 1, column {i} has no name; every column needs a header")
        if name in seen:
            raise InputError(f"{path}: row 1: the column name {name!r} appears twice; rename one")
        seen.add(name)


def _read_excel(path: Path, options: SourceOptions) -> SourceTable:
    sheet = options.sheet if options.sheet is not None else 0
    try:
        frame = pd.read_excel(path, sheet_name=sheet, engine="calamine", dtype=object, header=0)
    except ValueError as exc:
        names = _sheet_names(path)
        raise InputError(f"{path}: sheet {sheet!r} not found ({exc}); the workbook has: {', '.join(names)}") from None
    except Exception as exc:  # calamine raises its own types for broken files
        raise InputError(f"{path}: cannot read as an Excel workbook: {exc}") from None
    header = [str(c).strip() for c in frame.columns]
    _check_header(path, [h if not h.startswith("Unnamed:") else "" for h in header])
    frame.columns = header
    text = pd.DataFrame({col: frame[col].map(_excel_text) for col in header}, index=frame.index)
    sheet_name = sheet if isinstance(sheet, str) else _sheet_names(path)[sheet]
    return SourceTable(path, text.astype(pd.StringDtype("pyarrow")), None, None, sheet_name)


def _sheet_names(path: Path) -> list[str]:
    from python_calamine import CalamineWorkbook

    return list(CalamineWorkbook.from_path(str(path)).sheet_names)


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
