"""Reading a CRM export (CSV, XLSX, XLSM) into a table of text cells.

Every cell comes back as text so a leading zero is never lost; Excel numbers that are
whole become their digits (``612345678``, not ``612345678.0``) and Excel dates become
ISO dates. Row numbers are those the user sees: the header is row 1.

A file that cannot be read gives an :class:`InputError` naming it and what to do, never a
traceback: a missing path or a directory, a binary file, a workbook that would unzip to
more than :data:`MAX_UNZIPPED_BYTES`. Text files with a byte-order mark are read in the
encoding it names (UTF-8, or UTF-16 as Excel's "Unicode text" saves it).
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from sms123_sync.errors import InputError
from sms123_sync.mapping.model import SourceOptions
from sms123_sync.mapping.normalize import strip_invisible
from sms123_sync.mapping.problems import printable

_EXCEL = {".xlsx", ".xlsm", ".xls", ".ods"}
_DELIMITERS = ";,\t|"
_SNIFF_BYTES = 256 * 1024

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

# Byte-order marks, longest first (UTF-32-LE starts like UTF-16-LE), and the codec reading each.
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
# Signatures of binary files a user may name .csv by mistake, and what to do about each.
_SIGNATURES = (
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook?): give it its .xlsx extension, or export as CSV"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) workbook: give it its .xls extension, or export as CSV"),
    (b"%PDF", "a PDF document, not an export: export the contacts as CSV or XLSX"),
)
# Arrow's CSV reader cuts the file into blocks of 1 MB by default and refuses a row that
# straddles two; a longer cell is retried with these block sizes.
_BLOCK_SIZES = (64 * 1024 * 1024, 2**31 - 1)


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


def require_file(path: Path | str, what: str = "file") -> Path:
    """``path`` when it is a readable file; else an InputError saying what is wrong with it."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a directory; give the path of the {what} itself")
    if not path.is_file():
        raise InputError(f"{path}: no such file; check the path")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise InputError(f"{path}: cannot open the {what}: {exc.strerror}") from None
    return path


def read_source(path: Path | str, options: SourceOptions | None = None) -> SourceTable:
    """Reads ``path`` by its extension; raises InputError with what to do."""
    path = require_file(path, "export")
    options = options or SourceOptions()
    if path.suffix.lower() in _EXCEL:
        return _read_excel(path, options)
    return _read_csv(path, options)


def bom_encoding(head: bytes) -> str | None:
    """The codec named by the byte-order mark ``head`` starts with, if any."""
    return next((codec for bom, codec in _BOMS if head.startswith(bom)), None)


def detect_encoding(head: bytes, path: Path) -> str:
    """The byte-order mark's encoding, else utf-8, else cp1252 (Excel's "CSV" on French
    Windows), else latin-1."""
    marked = bom_encoding(head)
    if marked is not None:
        return marked
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
    _refuse_binary_signature(path, head)
    encoding = detect_encoding(head, path) if options.encoding == "auto" else options.encoding
    try:
        sample = head.decode(encoding, errors="ignore").lstrip("\ufeff")
    except LookupError:
        raise InputError(f"{path}: unknown encoding {encoding!r} in the mapping's source.encoding") from None
    if "\x00" in sample:
        raise InputError(
            f"{path}: holds NUL bytes: a binary file, not a text CSV; export the contacts as CSV or XLSX "
            "(UTF-16 text without a byte-order mark: save it again as UTF-8)"
        )
    delimiter = detect_delimiter(sample) if options.delimiter == "auto" else options.delimiter
    header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
    header = [strip_header(h) for h in header]
    _check_header(path, header)
    # Arrow reads UTF-8 itself and skips its BOM; other codecs go through Python's, which
    # take the UTF-16/32 byte-order marks off.
    arrow_encoding = "utf8" if encoding in ("utf-8", "utf-8-sig") else encoding
    frame = _arrow_csv(path, arrow_encoding, header, delimiter).to_pandas(types_mapper=_text_types)
    return SourceTable(path, frame, encoding, delimiter, None)


def _arrow_csv(path: Path, encoding: str, header: list[str], delimiter: str) -> pa.Table:
    """The CSV's rows as an Arrow table of strings; a row longer than Arrow's block is
    read again with larger blocks rather than refused."""
    for block_size in (None, *_BLOCK_SIZES):
        read_options = pacsv.ReadOptions(encoding=encoding, column_names=header, skip_rows=1)
        if block_size is not None:
            read_options.block_size = block_size
        try:
            return pacsv.read_csv(
                path,
                read_options=read_options,
                parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(header, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid as exc:
            if "straddl" in str(exc) and block_size != _BLOCK_SIZES[-1]:
                continue
            raise InputError(f"{path}: cannot read as CSV with delimiter {delimiter!r}: {_arrow_reason(exc)}") from None
        except UnicodeDecodeError as exc:  # a byte the declared encoding has no character for
            raise InputError(
                f"{path}: byte 0x{exc.object[exc.start]:02x} cannot be read as {encoding}; "
                "set source.encoding in the mapping to the file's encoding, or save it as UTF-8"
            ) from None
    raise AssertionError("unreachable: the last block size either reads or raises")


def _refuse_binary_signature(path: Path, head: bytes) -> None:
    """Names the kind of a binary file given as a CSV, so the user knows what to do."""
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise InputError(f"{path}: is {what}")


def strip_header(name: str) -> str:
    """A column name without surrounding spaces or invisible format characters (a BOM
    or zero-width space pasted into a header would hide the column from the mapping)."""
    return strip_invisible(name).strip()


def _text_types(arrow_type: pa.DataType) -> object:
    return pd.StringDtype("pyarrow") if arrow_type == pa.string() else None


def _arrow_reason(exc: Exception) -> str:
    text = printable(str(exc).split("\n")[0], 300)
    if "Expected" in text and "columns" in text:
        return text + " (a row has more or fewer cells than the header; check quoting)"
    if "straddl" in text:
        return f"a row is longer than {_BLOCK_SIZES[-1] // 2**20} MB"
    return text


def _check_header(path: Path, header: list[str]) -> None:
    if not header or all(not h for h in header):
        raise InputError(f"{path}: the first row must hold the column names")
    seen: set[str] = set()
    for i, name in enumerate(header, start=1):
        if not name:
            raise InputError(f"{path}: row 1, column {i} has no name; every column needs a header")
        if name in seen:
            raise InputError(f"{path}: row 1: the column name {printable(name)!r} appears twice; rename one")
        seen.add(name)


def _read_excel(path: Path, options: SourceOptions) -> SourceTable:
    check_unzipped_size(path)
    sheet = options.sheet if options.sheet is not None else 0
    try:
        frame = pd.read_excel(path, sheet_name=sheet, engine="calamine", dtype=object, header=0)
    except ValueError as exc:
        names = ", ".join(map(printable, _sheet_names(path)))
        raise InputError(
            f"{path}: sheet {sheet!r} not found ({printable(str(exc))}); the workbook has: {names}"
        ) from None
    except Exception as exc:  # calamine raises its own types for broken files
        raise InputError(f"{path}: cannot read as an Excel workbook: {printable(str(exc), 300)}") from None
    header = [strip_header(str(c)) for c in frame.columns]
    _check_header(path, [h if not h.startswith("Unnamed:") else "" for h in header])
    frame.columns = header
    text = pd.DataFrame({col: frame[col].map(_excel_text) for col in header}, index=frame.index)
    sheet_name = sheet if isinstance(sheet, str) else _sheet_names(path)[sheet]
    return SourceTable(path, text.astype(pd.StringDtype("pyarrow")), None, None, sheet_name)


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
        raise InputError(f"{path}: a damaged workbook ({printable(str(exc))}); save it again from Excel") from None
    declared = sum(info.file_size for info in members)
    if declared > MAX_UNZIPPED_BYTES:
        raise InputError(
            f"{path}: the workbook would unzip to {declared // 2**20} MB, over the {limit_mb} MB this tool reads; "
            "export the contacts as CSV instead"
        )
    for info in members:
        if info.compress_type not in _ZIP_METHODS:
            raise InputError(
                f"{path}: member {printable(info.filename)!r} uses zip method {info.compress_type}, "
                "which Excel never writes; save the workbook again from Excel"
            )
        ratio = info.file_size // max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and ratio > MAX_RATIO:
            raise InputError(
                f"{path}: member {printable(info.filename)!r} would unzip {ratio} times its size "
                f"(the limit is {MAX_RATIO}): a zip bomb, not an export; refused"
            )
    bound = sum(info.compress_size * (_DEFLATE_MAX_RATIO if info.compress_type else 1) for info in members)
    if bound > MAX_UNZIPPED_BYTES and _inflated_size(path, members) > MAX_UNZIPPED_BYTES:
        raise InputError(
            f"{path}: the workbook unzips to more than {limit_mb} MB although its directory claims "
            f"{declared // 2**20} MB: a forged zip, refused"
        )


def _inflated_size(path: Path, members: list[zipfile.ZipInfo]) -> int:
    """The members' true unzipped size, counted up to just past the limit, in 1 MB steps."""
    total = 0
    with path.open("rb") as handle:
        for info in members:
            handle.seek(info.header_offset)
            local = handle.read(30)
            if len(local) < 30 or local[:4] != b"PK\x03\x04":
                raise InputError(f"{path}: a damaged workbook (bad zip entry); save it again from Excel")
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
                    raise InputError(f"{path}: a damaged workbook (bad compressed data); save it again") from None
    return total


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
