"""The rejects file written column by column is, byte for byte, the one csv.writer writes.

``reports/columnar_csv.py`` quotes, neutralises and joins cells with Arrow's kernels; the
row path (``rows.problem_rows`` through ``csv.writer``) is the reference. Cells are drawn
with what changes a CSV cell: the delimiter, quotes, line breaks, formula starts, text
outside ASCII.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms123_sync.mapping.problems import Problem, ProblemCode, ProblemTable
from sms123_sync.reports import columnar_csv, csv_writer, i18n
from sms123_sync.reports.csv_writer import write_problems_csv
from sms123_sync.reports.rows import problem_headings, problem_rows

cells = st.text(alphabet=st.sampled_from([*";\"\r\n\t =+-@'aé€ 0123456789,", "\xa0", "😀"]), max_size=12)
problems = st.lists(
    st.builds(Problem, st.sampled_from(list(ProblemCode)), st.integers(2, 10**7), cells, cells, cells), max_size=40
)


def _row_by_row(items: list[Problem]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";").writerows(problem_rows(items))
    return buffer.getvalue().encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(problems, st.sampled_from(["en", "fr"]))
def test_columns_give_the_bytes_rows_give(items: list[Problem], language: str) -> None:
    with i18n.use(language):
        assert b"".join(columnar_csv.problem_lines(items)) == _row_by_row(items)
        assert b"".join(columnar_csv.problem_lines(ProblemTable.of(items))) == _row_by_row(items)


def test_lines_come_in_chunks_that_join_up(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [Problem(ProblemCode.INVALID_PHONE, row, "Tel", f"07 {row}", 'no; "plan"') for row in range(2, 25)]
    monkeypatch.setattr(columnar_csv, "_CHUNK", 5)
    chunks = list(columnar_csv.problem_lines(items))
    assert len(chunks) == 5
    assert b"".join(chunks) == _row_by_row(items)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_large_rejects_file_is_the_file_rows_write(tmp_path: Path, language: str) -> None:
    # Above the threshold the columnar writer runs; the file, BOM and heading included,
    # is the one the row path writes, and reads back cell for cell.
    codes = list(ProblemCode)
    items = [
        Problem(codes[i % len(codes)], i + 2, "=Tel" if i % 5 == 0 else "Tel", f'06 "{i}"; x', f"message {i % 7}\n")
        for i in range(csv_writer._COLUMNAR_FROM + 10)
    ]
    with i18n.use(language):
        write_problems_csv(tmp_path / "columns.csv", ProblemTable.of(items))
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow(problem_headings())
        writer.writerows(problem_rows(items))
    written = (tmp_path / "columns.csv").read_bytes()
    assert written == buffer.getvalue().encode("utf-8-sig")
    with (tmp_path / "columns.csv").open(encoding="utf-8-sig", newline="") as handle:
        read = list(csv.reader(handle, delimiter=";"))
    assert len(read) == len(items) + 1
    assert read[1][:4] == ["2", "'=Tel", '06 "0"; x', codes[0].value]


def test_a_few_rejects_are_written_row_by_row(tmp_path: Path) -> None:
    items = [Problem(ProblemCode.NO_GROUP, 3, "Segments", "", "the row names no group")]
    write_problems_csv(tmp_path / "few.csv", iter(items))
    text = (tmp_path / "few.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines()[1].startswith("3;Segments;;no-group;")


@pytest.mark.parametrize(
    "odd",
    [
        Problem(ProblemCode.INVALID_PHONE, 5, "Tel", None, "no number"),  # type: ignore[arg-type]
        Problem(ProblemCode.INVALID_PHONE, 5, None, "06", "no number"),  # type: ignore[arg-type]
        Problem(ProblemCode.INVALID_PHONE, 5, "Tel", "06", None),  # type: ignore[arg-type]
        Problem(ProblemCode.INVALID_PHONE, 5, "Tel", 612345678, "no number"),  # type: ignore[arg-type]
    ],
)
def test_a_cell_that_is_not_text_is_written_as_the_rows_write_it(tmp_path: Path, odd: Problem) -> None:
    # Problem is public and checks no types: a library caller's None or number in a cell
    # must not drop its line from a large file (the columnar path hands over to the rows).
    items = [Problem(ProblemCode.NO_GROUP, row, "G", "", "no group") for row in range(2, csv_writer._COLUMNAR_FROM + 2)]
    items.insert(3, odd)
    write_problems_csv(tmp_path / "odd.csv", items)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(problem_headings())
    writer.writerows(problem_rows(items))
    assert (tmp_path / "odd.csv").read_bytes() == buffer.getvalue().encode("utf-8-sig")
