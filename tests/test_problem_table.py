"""ProblemTable: problems held as columns behave as the list of Problems they stand for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms123_sync.mapping.problems import Problem, ProblemCode, ProblemTable

problems = st.lists(
    st.builds(
        Problem,
        st.sampled_from(list(ProblemCode)),
        st.integers(2, 50),
        st.text(max_size=4),
        st.text(max_size=4),
        st.text(max_size=8),
    ),
    max_size=30,
)


@given(problems)
def test_a_table_reads_as_its_list(items: list[Problem]) -> None:
    table = ProblemTable.of(items)
    assert len(table) == len(items)
    assert list(table) == items and table == items and table != tuple(items)  # as a list compares
    assert [table[i] for i in range(len(items))] == items
    assert list(table[1:-1]) == items[1:-1]
    assert all(p.code is q.code for p, q in zip(table, items, strict=True))  # members, not their text
    if items:
        assert table[-1] == items[-1]


@given(problems, problems)
def test_joined_then_by_row_is_a_stable_sort(first: list[Problem], second: list[Problem]) -> None:
    joined = ProblemTable.joined([first, ProblemTable.of(second)])
    assert list(joined) == first + second
    assert list(joined.by_row()) == sorted(first + second, key=lambda p: p.row)


def test_a_table_differs_from_other_problems() -> None:
    one = Problem(ProblemCode.INVALID_PHONE, 2, "Tel", "07", "bad")
    other = Problem(ProblemCode.INVALID_PHONE, 3, "Tel", "07", "bad")
    assert ProblemTable.of([one]) != [other]
    assert ProblemTable.of([one]) != ProblemTable.of([])
    assert ProblemTable.of([one]) != "not problems"
    assert ProblemTable.of([]) == []


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        ProblemTable([ProblemCode.NO_GROUP], [2, 3], ["a"], ["b"], ["c"])


def test_a_long_table_is_ordered_as_a_short_one() -> None:
    # Above a thousand rows the order is checked in NumPy: sorted tables come back as they
    # are, others are sorted stably, as a list would be.
    code = ProblemCode.INVALID_PHONE
    items = [Problem(code, 2 + (i * 7919) % 1500, "Tel", str(i), "bad") for i in range(1500)]
    table = ProblemTable.of(items).by_row()
    assert list(table) == sorted(items, key=lambda p: p.row)
    assert table.by_row() is table
    twice = [Problem(code, 2 + i // 2, "Tel", str(i), "bad") for i in range(1500)]
    backwards = twice[::-1]  # rows in pairs: the sort must keep each pair's order
    assert list(ProblemTable.of(backwards).by_row()) == sorted(backwards, key=lambda p: p.row)
