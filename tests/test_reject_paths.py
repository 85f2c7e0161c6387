"""The shortcuts that keep reject-heavy exports fast give the exact path's answers.

Two shortcuts: the overseas re-reading skips regions whose plans cannot hold the number
(phone.py), and the column path settles clean cells that hold no number in any plan
without libphonenumber (normalize.py, ``_InvalidPath``). Each is compared with the exact
path on generated numbers shaped like rejects.
"""

from __future__ import annotations

import random

import phonenumbers
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from sms123_sync.mapping.normalize import INVALID, _surely_invalid, choose_in_cell, phone_choices
from sms123_sync.mapping.phone import _overseas, _overseas_exactly


def test_overseas_shortcut_agrees_with_trying_every_region() -> None:
    rng = random.Random(3)
    # Every three-digit start of a French national number, a few endings each: the plans
    # of the overseas regions differ in their first digits.
    numbers = [f"0{start:03d}{rng.randrange(10**6):06d}" for start in range(100, 1000) for _ in range(3)]
    found = 0
    for text in numbers:
        number = phonenumbers.parse(text, "FR")
        fast, exact = _overseas(number, "FR"), _overseas_exactly(number, "FR")
        assert fast == exact, text
        found += fast is not None
    assert found > 50  # the sample reaches overseas numbers, not only misses


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


# Rejects as exports hold them, and their near misses: numbers of no plan (070…), a digit
# short or long, with and without the country code, Excel floats, separators that part
# two numbers, spaces of every kind, overseas and other types that must stay exact.
reject_cells = st.one_of(
    st.builds(lambda d: "07 0" + d, _digits(7)),
    st.builds(lambda n, d: "0" + d[:n], st.integers(1, 12), st.from_regex(r"[1-9]\d{11}", fullmatch=True)),
    st.builds(lambda d: "+33 7 0" + d, _digits(7)),
    st.builds(lambda d: "0033 70" + d, _digits(7)),
    st.builds(lambda d: "3370" + d, _digits(7)),
    st.builds(lambda d: "70" + d, _digits(7)),
    st.builds(lambda d: "070" + d + ".0", _digits(7)),
    st.builds(lambda d: "061234567.0" + d, st.sampled_from(["", "0", " "])),
    st.builds(lambda d, sep: "07" + sep + "0" + d, _digits(7), st.sampled_from([" ", ".", "-", "/", "\t", "\xa0"])),
    st.builds(lambda d: "+33 (0)7 0" + d, _digits(7)),
    st.builds(lambda d, pad: pad + "070" + d + pad, _digits(7), st.sampled_from(["", " ", "\u2009", "\x0b", "\n"])),
    st.builds(lambda d: "069" + d, _digits(7)),
    st.builds(lambda d: "08" + d, _digits(8)),
    st.builds(lambda d: "09" + d, _digits(8)),
    st.builds(lambda a, b: "0" + a + " / 0" + b, _digits(9), _digits(9)),
    st.text(alphabet="0123456789 .-/()+\xa0", max_size=16),
)
type_sets = st.sampled_from([frozenset({"mobile"}), frozenset({"mobile", "fixed_line"}), frozenset({"voip"})])


@settings(max_examples=300, deadline=None)
@given(st.lists(reject_cells, min_size=1, max_size=30), type_sets)
def test_column_rejects_agree_with_the_cell_rule(values: list[str], types: frozenset[str]) -> None:
    column = phone_choices(pa.array(values, pa.string()), "FR", types)
    for i, raw in enumerate(values):
        cell = choose_in_cell(raw, "FR", types)
        assert column.digits[i].as_py() == (cell.chosen.digits if cell.chosen else None), raw
        assert column.first[i].as_py() == (cell.first.digits if cell.first else None), raw
        assert column.first_kinds[i].as_py() == (cell.first.kind if cell.first else None), raw
        assert (int(column.status[i]), int(column.note[i])) == (cell.status, cell.note), raw


def test_common_rejects_skip_libphonenumber() -> None:
    # The shortcut is in use (an export of rejects would take minutes without it), and
    # what it must leave to the exact path it leaves there.
    settled = ["07 01 23 45 67", "06 12 34 56 7", "0612345678 9", "+33 7 01 23 45 67", "70 12 34 567"]
    exact = ["0692 12 34 56", "06 12 34 56 78", "0612345678.0", "07 01 23 45 67 / 06 12 34 56 78", "09 51 23 45 67"]
    marked = _surely_invalid(pa.array(settled + exact, pa.string()), "FR").tolist()
    assert marked == [True] * len(settled) + [False] * len(exact)
    for raw in settled:
        assert choose_in_cell(raw, "FR", frozenset({"mobile"})).status == INVALID
