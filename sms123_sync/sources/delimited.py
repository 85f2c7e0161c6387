"""Delimited text files (CSV with commas, semicolons, tabs or pipes) read as text cells.

Every cell comes back as text, so a leading zero is never lost. The encoding is the one
a byte-order mark names (UTF-8, or UTF-16 as Excel's "Unicode text" saves it), else
UTF-8, else cp1252 (Excel's "CSV" on a French Windows), else latin-1; the delimiter is
sniffed from the first rows. A binary file, a NUL byte or a row that cannot be parsed
gives an :class:`InputError` naming the file and what to do, never a traceback.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from sms123_sync.errors import InputError
from sms123_sync.sources.base import SourceOptions, SourceTable
from sms123_sync.sources.files import check_header, file_fingerprint, require_file, strip_header, text_types
from sms123_sync.text import printable

_DELIMITERS = ";,\t|"
_SNIFF_BYTES = 256 * 1024


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
    check_header(path, header)
    # Arrow reads UTF-8 itself and skips its BOM; other codecs go through Python's, which
    # take the UTF-16/32 byte-order marks off.
    arrow_encoding = "utf8" if encoding in ("utf-8", "utf-8-sig") else encoding
    frame = _arrow_csv(path, arrow_encoding, header, delimiter).to_pandas(types_mapper=text_types)
    return SourceTable(str(path), frame, encoding, delimiter)


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


def _arrow_reason(exc: Exception) -> str:
    text = printable(str(exc).split("\n")[0], 300)
    if "Expected" in text and "columns" in text:
        return text + " (a row has more or fewer cells than the header; check quoting)"
    if "straddl" in text:
        return f"a row is longer than {_BLOCK_SIZES[-1] // 2**20} MB"
    return text


class DelimitedReader:
    """Reads any other file as delimited text (CSV, semicolons, tabs, pipes)."""

    kind = "csv"

    def claims(self, location: str) -> bool:
        return True  # the fallback for files: asked last, after every other reader

    def read(self, location: str, options: SourceOptions) -> SourceTable:
        return _read_csv(require_file(location, "export"), options)

    def fingerprint(self, location: str) -> str:
        return file_fingerprint(location)
