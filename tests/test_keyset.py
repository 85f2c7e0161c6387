"""The protected keys of rejected rows, held in Arrow, read as the frozenset they stand for."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from sms123_sync.mapping.desired import _protected
from sms123_sync.mapping.keyset import KeySet
from sms123_sync.reconcile.plan import _is_in

texts = st.one_of(st.none(), st.sampled_from(["", "K1", "K2", "336123", "Zoé"]), st.text(max_size=4))


def _as_python(keys: pd.Series, digits: pd.Series, refused: pd.Series, bad: np.ndarray) -> frozenset[str]:
    """The rule as the Python sets said it: the texts of rejected people, no gap, no ""."""
    found = set(keys[bad & keys.notna().to_numpy()].astype(str).tolist())
    found |= set(digits[bad & digits.notna().to_numpy()].tolist())
    found |= set(refused[bad & refused.notna().to_numpy()].tolist())
    return frozenset(found - {""})


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(texts, texts, texts, st.booleans()), max_size=30), st.booleans())
def test_protected_keys_are_the_rejected_peoples_texts(rows: list[tuple[str | None, ...]], numeric: bool) -> None:
    keys = pd.Series([k for k, *_ in rows], dtype="str")
    if numeric:  # an identity column a workbook gave as numbers
        keys = pd.Series([len(k) if k is not None else None for k, *_ in rows], dtype=object)
    digits = pd.Series([d for _, d, _, _ in rows], dtype="str")
    refused = pd.Series([r for _, _, r, _ in rows], dtype=object)
    bad = np.array([b for *_, b in rows], dtype=bool)
    protected: AbstractSet[str] = _protected(keys, digits, refused, bad)
    expected = _as_python(keys, digits, refused, bad)
    assert protected == expected and expected == protected
    assert len(protected) == len(expected) and sorted(protected) == sorted(expected)
    assert all(key in protected for key in expected) and "" not in protected
    # The planner probes its deletes through the array, as it would through the set.
    probes = pd.Series(["K1", "K2", "", "336123", "Zoé", "absent"], dtype="str")
    assert _is_in(probes, protected).tolist() == _is_in(probes, expected).tolist()


def test_a_keyset_is_compared_and_combined_as_a_frozenset() -> None:
    keys: AbstractSet[str] = KeySet(pa.array(["A", "B", "A"], pa.string()))
    assert keys == frozenset({"A", "B"}) and {"A"} <= keys and "C" not in keys and len(keys) == 2
    assert keys | {"C"} == frozenset({"A", "B", "C"}) and keys & {"B", "C"} == frozenset({"B"})
    assert keys - {"A"} == frozenset({"B"}) and isinstance(keys - {"A"}, frozenset)
    assert repr(keys) == "KeySet(['A', 'B'])"
    assert repr(KeySet(pa.array([str(i) for i in range(11)], pa.string()))) == "KeySet(<11 texts>)"


def test_rejected_keys_of_a_column_that_is_not_text_are_each_made_text() -> None:
    # A workbook's identity column of dates: each rejected key reads as pandas writes it
    # alone, not as the whole column would format it.
    keys = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02 10:30"], format="mixed"))
    empty = pd.Series([None, None], dtype=object)
    bad = np.array([True, False])
    protected: AbstractSet[str] = _protected(keys, empty.astype("str"), empty, bad)
    assert protected == _as_python(keys, empty.astype("str"), empty, bad) == {"2024-01-01"}


def test_a_few_deletes_are_probed_against_many_protected_keys() -> None:
    many = KeySet(pa.array([f"K{i}" for i in range(200_000)], pa.string()))
    deletes = pd.Series(["K5", "K199999", "X", "K200000", "K5"], dtype="str")
    assert _is_in(deletes, many).tolist() == [True, True, False, False, True]
    assert not _is_in(pd.Series([], dtype="str"), many).tolist()
