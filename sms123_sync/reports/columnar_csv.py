"""Problems written as CSV column by column, through Arrow's string kernels.

Half a million rejects written row by row cost more than reading the export that made
them (1.25 s for 447 000): each row is a Python tuple, six cells neutralised one by one,
one ``csv.writer`` call and one encode. Here each column is one Arrow array, neutralised,
quoted and joined in a few passes, and the file is written from the joined buffer.

The bytes are those :func:`sms123_sync.reports.rows.problem_rows` gives through
``csv.writer(delimiter=";")``: a cell is quoted when it holds the delimiter, a quote or a
line break, and its quotes are doubled (``tests/test_columnar_csv.py`` compares the two).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sms123_sync.i18n import DEFAULT_LANGUAGE, current
from sms123_sync.mapping.problems import Problem, ProblemTable
from sms123_sync.reports import wording

#: Rows joined per buffer. Small buffers are reused from the allocator's warm pages: with
#: 200 000 rows a buffer, first touching the memory cost 0.1 s of a 447 000-reject file.
_CHUNK = 10_000

# A cell a spreadsheet would run as a formula, as rows.neutralise reads it.
_FORMULA_START = r"^[=+\-@\t\r]"
# A cell csv.writer quotes (QUOTE_MINIMAL, delimiter ";", line terminator "\r\n").
_NEEDS_QUOTES = '[;"\r\n]'


def problem_lines(problems: Sequence[Problem]) -> Iterator[memoryview]:
    """The CSV lines of ``problems`` (no heading), in chunks of UTF-8 bytes."""
    english = current() == DEFAULT_LANGUAGE
    for start in range(0, len(problems), _CHUNK):
        part = problems[start : start + _CHUNK]
        yield _joined(_problem_columns(part, english=english))


def _problem_columns(problems: Sequence[Problem], *, english: bool) -> list[pa.Array]:
    """The six cells of :func:`~sms123_sync.reports.rows.problem_rows` as Arrow columns,
    already neutralised and quoted. Codes, column names and messages repeat: each distinct
    one is prepared once and spread by index."""
    table = ProblemTable.of(problems)
    code_at, codes = _factorised(table.codes)
    # Each code's wording is looked up once; a code without wording keeps its own message.
    said = [wording.problem({"code": c, "message": ""}) if c in wording.PROBLEMS else None for c in codes]
    message_at, messages = _factorised(table.messages)
    if english:
        what = _spread(messages, message_at)
    else:
        what = pc.coalesce(_spread([s[0] if s else None for s in said], code_at), _spread(messages, message_at))
    column_at, columns = _factorised(table.columns)
    rows = pa.array(table.rows, pa.int64())
    if rows.null_count:
        raise ValueError("a problem without a row number")
    values = _quoted(_neutralised(pc.fill_null(pa.array(table.values, pa.string()), "")))
    return [
        rows.cast(pa.string()),
        _spread(columns, column_at),
        values,
        _spread(codes, code_at),
        what,
        _spread([s[1] if s else "" for s in said], code_at),
    ]


def _factorised(items: Sequence[str]) -> tuple[pa.Array, list[str]]:
    """Each item's index among the distinct items, and those (a dict: str hashes are cached).
    A column of a few distinct values (codes, a column name) is compared value by value
    in NumPy instead of indexed item by item."""
    distinct = list(dict.fromkeys(items))
    if len(distinct) <= _FEW:
        cells = np.empty(len(items), dtype=object)
        cells[:] = items
        at = np.zeros(len(items), dtype=np.int32)
        for i, value in enumerate(distinct[1:], start=1):
            at[cells == value] = i
        return pa.array(at), distinct
    index = {item: i for i, item in enumerate(distinct)}
    return pa.array([index[item] for item in items], pa.int32()), distinct


# Up to how many distinct values a column is compared value by value.
_FEW = 8


def _spread(distinct: Sequence[str | None], at: pa.Array) -> pa.Array:
    """The distinct cells neutralised and quoted, then taken for every row."""
    cells = pa.array(distinct, pa.string())  # TypeError for a cell that is not text
    return pc.take(_quoted(_neutralised(cells)), at)


def _neutralised(cells: pa.Array) -> pa.Array:
    """:func:`~sms123_sync.reports.rows.neutralise` over a column: a leading apostrophe
    before a cell a spreadsheet would evaluate."""
    formula = pc.match_substring_regex(cells, _FORMULA_START)
    if not pc.any(formula).as_py():
        return cells
    return pc.if_else(formula, pc.binary_join_element_wise("'", cells, ""), cells)


def _quoted(cells: pa.Array) -> pa.Array:
    """Cells as csv.writer writes them: quoted, quotes doubled, only where needed."""
    needs = pc.match_substring_regex(cells, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return cells
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(cells, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, cells)


def _joined(columns: list[pa.Array]) -> memoryview:
    """Prepared columns as CSV lines, one buffer: cells joined by ";", lines ended by CRLF."""
    lines = pc.binary_join_element_wise(*columns, ";")
    lines = pc.binary_join_element_wise(lines, "\r\n", "")
    if lines.null_count:  # a cell None would drop its line: the row writer says it as ""
        raise ValueError("a problem with a cell that is not text")
    if not isinstance(lines, pa.Array) or not len(lines):
        return memoryview(b"")
    offsets, data = lines.buffers()[1], lines.buffers()[2]
    assert offsets is not None and data is not None
    bounds = np.frombuffer(offsets, dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
    return memoryview(data)[int(bounds[0]) : int(bounds[-1])]
