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
import mmap
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from sms123_sync.errors import InputError
from sms123_sync.i18n import N_
from sms123_sync.i18n import lazy_gettext as _
from sms123_sync.sources.base import LeftOutRow, SourceOptions, SourceTable
from sms123_sync.sources.files import (
    HEADER_SEARCH_ROWS,
    check_header,
    drop_unnamed,
    file_fingerprint,
    find_header_row,
    placeholder_names,
    require_file,
    strip_header,
    text_types,
)
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
    (b"PK\x03\x04", N_("a zip archive (an .xlsx workbook?): give it its .xlsx extension, or export as CSV")),
    (b"\xd0\xcf\x11\xe0", N_("an old Excel (.xls) workbook: give it its .xls extension, or export as CSV")),
    (b"%PDF", N_("a PDF document, not an export: export the contacts as CSV or XLSX")),
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
    if _is_utf8(path):
        return "utf-8"
    try:
        path.read_bytes().decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"  # decodes any byte sequence
    return "cp1252"


def _is_utf8(path: Path) -> bool:
    """Whether the whole file is valid UTF-8, checked by Arrow's validator over a memory
    map: twice as fast as decoding it into a Python string, which every export paid."""
    if path.stat().st_size == 0:
        return True
    try:
        return _is_utf8_mapped(path)
    except (OSError, ValueError):  # a file system that cannot map files: decode it instead
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True


def _is_utf8_mapped(path: Path) -> bool:
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        data = pa.py_buffer(mapped)
        offsets = pa.py_buffer(np.array([0, len(mapped)], dtype=np.int64).tobytes())
        whole = pa.LargeBinaryArray.from_buffers(pa.large_binary(), 1, [None, offsets, data])
        try:
            whole.cast(pa.large_string())
        except pa.ArrowInvalid:
            return False
        finally:
            del whole, data  # the map cannot close while Arrow views it
    return True


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
        raise InputError(_("{path}: the file is empty").format(path=path))
    _refuse_binary_signature(path, head)
    encoding = detect_encoding(head, path) if options.encoding == "auto" else options.encoding
    try:
        sample = head.decode(encoding, errors="ignore").lstrip("\ufeff")
    except LookupError:
        raise InputError(
            _("{path}: unknown encoding {encoding} in the mapping's source.encoding").format(
                path=path, encoding=repr(encoding)
            )
        ) from None
    if "\x00" in sample:
        raise InputError(
            _(
                "{path}: holds NUL bytes: a binary file, not a text CSV; export the contacts as CSV or XLSX "
                "(UTF-16 text without a byte-order mark: save it again as UTF-8)"
            ).format(path=path)
        )
    delimiter = _delimiter(sample, options)
    top = _first_records(sample, delimiter)
    at = options.header_row - 1 if options.header_row is not None else find_header_row(top)
    if at >= len(top):
        raise InputError(
            _("{path}: source.header_row is {row}, but the file's first rows end at row {last}").format(
                path=path, row=at + 1, last=len(top)
            )
        )
    header = [strip_header(h) for h in top[at]]
    check_header(path, header, at + 1)
    names = placeholder_names(header)
    skip = at + 1  # Arrow counts the blank lines it skips, like the user does
    # Arrow reads UTF-8 itself and skips its BOM; other codecs go through Python's, which
    # take the UTF-16/32 byte-order marks off.
    arrow_encoding = "utf8" if encoding in ("utf-8", "utf-8-sig") else encoding
    footer = _footer(path, encoding, delimiter, len(names))
    data: Path | pa.BufferReader = path
    if footer:
        with path.open("rb") as handle:
            data = pa.BufferReader(handle.read(footer[0]))
    end = footer[0] if footer else path.stat().st_size
    # The search for blank lines reads the whole file and needs nothing Arrow finds: it
    # runs beside the parse (0.05 s at a million rows, on the core the parse leaves idle
    # at its ends).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="blank-lines") as search:
        blank = search.submit(_has_inner_blank_line, path, end)
        # "utf-8" is detected only once the whole file passed Arrow's validator: the
        # parse need not check every cell again (0.03 s at a million rows).
        checked = options.encoding == "auto" and encoding == "utf-8"
        where = (encoding, at + 1)
        table = _arrow_csv(path, data, arrow_encoding, names, delimiter, skip, where, check_utf8=not checked)
        frame = drop_unnamed(path, table.to_pandas(types_mapper=text_types), at + 1)
        inner = blank.result()
    rows = _rows_around_blank_lines(path, encoding, delimiter, at, end, len(frame)) if inner else None
    return SourceTable(
        str(path), frame, encoding, delimiter, first_row=at + 2, left_out=footer[1] if footer else (), rows=rows
    )


def _rows_around_blank_lines(
    path: Path, encoding: str, delimiter: str, header: int, end: int, count: int
) -> np.ndarray | None:
    """The row of each record of a file with blank lines between records
    (:func:`_has_inner_blank_line`); None when the two parsers count records apart.

    Arrow skips blank lines without counting them, which would move every later reject
    up by one. A byte search finds whether the file has any (most have none, and pay
    only for that search); if so, Python's parser numbers the records as the user sees them.
    """
    numbers: list[int] = []
    with path.open("rb") as handle:
        data = handle.read(end).decode(encoding, errors="replace")
    for row, record in enumerate(csv.reader(io.StringIO(data.lstrip("\ufeff")), delimiter=delimiter), start=1):
        if row > header + 1 and record:
            numbers.append(row)
    if len(numbers) < count:
        return None  # the two parsers disagree: keep the plain numbering rather than a wrong one
    return np.asarray(numbers[:count], dtype=np.int64)


def _has_inner_blank_line(path: Path, end: int) -> bool:
    """Whether the first ``end`` bytes hold an empty line followed by more text.

    Line ends are found with numpy over a memory map: a tenth of the time ``bytes.find``
    takes on a copy of the file, which matters since every export pays for this search.
    """
    if end <= 0:
        return False
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        data = np.frombuffer(mapped, dtype=np.uint8, count=min(end, len(mapped)))
        ends = np.flatnonzero(data == 0x0A)
        gaps = np.diff(ends)
        blank = (gaps == 1) | ((gaps == 2) & (data[ends[:-1] + 1] == 0x0D))
        found = np.flatnonzero(blank)
        size = len(data)
        # Blank lines after the last text move no record.
        last_text = max(size - 4096, 0) + len(bytes(mapped[max(size - 4096, 0) : size]).rstrip())
        inner = bool(len(found)) and int(ends[found[0] + 1]) < last_text
        del data, ends, gaps, blank  # the map cannot close while numpy views it
    return inner


def _delimiter(sample: str, options: SourceOptions) -> str:
    """The delimiter the mapping gives, else the one sniffed from the header row onwards.

    A title and blank lines above the header hold no delimiter and would make every
    candidate look consistent: the sniffer starts at the first line holding one.
    """
    if options.delimiter != "auto":
        return options.delimiter
    lines = sample.splitlines(keepends=True)
    if options.header_row is not None:
        lines = lines[options.header_row - 1 :]
    else:
        first = next((i for i, line in enumerate(lines[:HEADER_SEARCH_ROWS]) if any(d in line for d in _DELIMITERS)), 0)
        lines = lines[first:]
    return detect_delimiter("".join(lines))


def _first_records(sample: str, delimiter: str) -> list[list[str]]:
    """The sample's first rows as cells (a blank line as []), to find the header in."""
    lines = sample.splitlines(keepends=True)[: HEADER_SEARCH_ROWS * 4]
    reader = csv.reader(io.StringIO("".join(lines)), delimiter=delimiter)
    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
            if len(records) >= HEADER_SEARCH_ROWS:
                break
    except csv.Error:
        pass  # a cell cut at the sample's end: the rows read so far are enough
    return records


#: Bytes read from the end of a file to find a report's footer in.
_TAIL_BYTES = 64 * 1024


def _footer(path: Path, encoding: str, delimiter: str, width: int) -> tuple[int, tuple[LeftOutRow, ...]] | None:
    """Where the data ends, and the footer rows after it, when the file ends with a report's footer.

    A report export (Salesforce) ends with a blank line, then lines of a cell or two: the
    report's name, a copyright, "Generated By", the organisation. A footer is exactly
    that: lines with fewer cells than the header, none opening a quote it does not close,
    separated from the last full row by a blank line. Anything else is data, and a short
    row there stays an error.
    """
    if width < 2 or encoding.startswith(("utf-16", "utf-32")):
        return None  # one column cannot tell a footer from data; UTF-16 lines are not split on bytes
    size = path.stat().st_size
    tail_start = max(0, size - _TAIL_BYTES)
    with path.open("rb") as handle:
        handle.seek(tail_start)
        tail = handle.read()
    lines: list[tuple[int, bytes]] = []  # (where the line starts in the file, its bytes)
    offset = tail_start
    for raw in tail.split(b"\n"):
        lines.append((offset, raw))
        offset += len(raw) + 1
    if tail_start:
        lines = lines[1:]  # the first one is cut
    footer: list[tuple[int, str]] = []
    cut = None
    for position, raw in reversed(lines):
        text = raw.decode(encoding, errors="replace").strip().lstrip("\ufeff")
        if not text:
            cut = position if footer else None
            continue
        cells = next(csv.reader([text], delimiter=delimiter), [])
        if len(cells) >= width or text.count('"') % 2:
            break  # the last row of data
        footer.append((position, " ".join(cell.strip() for cell in cells if cell.strip())))
        cut = None
    else:
        return None  # nothing but short lines: not a report with a footer
    if cut is None or not footer:
        return None
    before = _count_lines(path, cut)
    rows = tuple(
        LeftOutRow(before + 1 + tail[cut - tail_start : position - tail_start].count(b"\n"), text)
        for position, text in reversed(footer)
    )
    return cut, rows


def _count_lines(path: Path, end: int) -> int:
    """How many line ends the file holds before byte ``end``."""
    count = 0
    with path.open("rb") as handle:
        while end > 0:
            chunk = handle.read(min(end, 1 << 20))
            if not chunk:
                break
            count += chunk.count(b"\n")
            end -= len(chunk)
    return count


def _arrow_csv(
    path: Path,
    data: Path | pa.BufferReader,
    encoding: str,
    names: list[str],
    delimiter: str,
    skip: int,
    where: tuple[str, int],
    *,
    check_utf8: bool = True,
) -> pa.Table:
    """The CSV's rows as an Arrow table of strings; a row longer than Arrow's block is
    read again with larger blocks rather than refused. ``where`` (the file's codec and
    its header row) lets a parse error name the line at fault. ``check_utf8=False`` only
    for bytes already known to be UTF-8."""
    for block_size in (None, *_BLOCK_SIZES):
        read_options = pacsv.ReadOptions(encoding=encoding, column_names=names, skip_rows=skip)
        if block_size is not None:
            read_options.block_size = block_size
        if isinstance(data, pa.BufferReader):
            data.seek(0)
        try:
            return pacsv.read_csv(
                data,
                read_options=read_options,
                parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    # Large strings, as pandas keeps them: the frame takes the columns
                    # without converting their offsets (0.03 s at a million rows).
                    column_types=dict.fromkeys(names, pa.large_string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                    check_utf8=check_utf8,
                ),
            )
        except pa.ArrowInvalid as exc:
            if "straddl" in str(exc) and block_size != _BLOCK_SIZES[-1]:
                continue
            if _NOT_UTF8.match(str(exc)):
                raise InputError(_not_utf8(path, names, exc)) from None
            line = _bad_line(path, *where, delimiter, len(names))
            if line:
                text = _("{path}: line {line}: cannot read as CSV with delimiter {delimiter}: {reason}")
            else:
                text = _("{path}: cannot read as CSV with delimiter {delimiter}: {reason}")
            raise InputError(
                text.format(path=path, line=line, delimiter=repr(delimiter), reason=_arrow_reason(exc))
            ) from None
        except UnicodeDecodeError as exc:  # a byte the declared encoding has no character for
            raise InputError(
                _(
                    "{path}: byte {byte} cannot be read as {encoding}; "
                    "set source.encoding in the mapping to the file's encoding, or save it as UTF-8"
                ).format(path=path, byte=f"0x{exc.object[exc.start]:02x}", encoding=encoding)
            ) from None
    raise AssertionError("unreachable: the last block size either reads or raises")


def _bad_line(path: Path, encoding: str, header_row: int, delimiter: str, width: int) -> int | None:
    """The line of the first record after the header whose cell count differs from the
    header's: read again with Python's parser, only once Arrow has refused the file."""
    try:
        with path.open(encoding=encoding, errors="replace", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            for number, record in enumerate(reader, start=1):
                if number > header_row and record and len(record) != width:
                    return reader.line_num
    except csv.Error:
        return reader.line_num
    return None


def _refuse_binary_signature(path: Path, head: bytes) -> None:
    """Names the kind of a binary file given as a CSV, so the user knows what to do."""
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise InputError(_("{path}: is {what}").format(path=path, what=_(what)))


# Arrow's refusal of a cell that is not UTF-8; its parse errors quote rows, which may say anything.
_NOT_UTF8 = re.compile(r"In CSV column #(\d+): CSV conversion error to \w+: invalid UTF8")


def _not_utf8(path: Path, names: list[str], exc: Exception) -> object:
    """What to say of a file that calls itself UTF-8 (a byte-order mark, source.encoding)
    and holds other bytes: the column Arrow names, and what to do."""
    found = _NOT_UTF8.match(str(exc))
    at = int(found.group(1)) if found else -1
    column = repr(printable(names[at])) if 0 <= at < len(names) else "?"
    return _(
        "{path}: column {column} holds bytes that are not UTF-8, though the file says it is UTF-8 "
        "(a byte-order mark, or source.encoding in the mapping); save it again as UTF-8, or set "
        "source.encoding to the encoding it was written in (cp1252 for Excel on a French Windows)"
    ).format(path=path, column=column)


def _arrow_reason(exc: Exception) -> object:
    text = printable(str(exc).split("\n")[0], 300)
    if "Expected" in text and "columns" in text:
        return _("{reason} (a row has more or fewer cells than the header; check quoting)").format(reason=text)
    if "straddl" in text:
        return _("a row is longer than {size} MB").format(size=_BLOCK_SIZES[-1] // 2**20)
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
