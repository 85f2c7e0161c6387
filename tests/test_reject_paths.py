"""The shortcuts that keep reject-heavy exports fast give the exact path's answers.

Two shortcuts: the overseas re-reading skips regions whose plans cannot hold the number
(phone.py), and the column path settles clean cells that hold no number in any plan
without libphonenumber (normalize.py, ``_InvalidPath``). Each is compared with the exact
path on generated numbers shaped like rejects.
"""

from __future__ import annotations

import csv
import random
import re
from concurrent.futures import ThreadPoolExecutor

import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sms123_sync.mapping import desired
from sms123_sync.mapping.normalize import (
    _SEPARATORS,
    _TRUNK_MARK,
    INVALID,
    REFUSED,
    TYPE_LABELS,
    PhoneChoices,
    _surely_invalid,
    choose_in_cell,
    may_have_own_reason,
    phone_choices,
    plain_reason,
    strip_separators,
    why_invalid,
)
from sms123_sync.mapping.phone import _overseas, _overseas_exactly
from sms123_sync.mapping.pipeline import read_desired
from sms123_sync.mapping.problems import ProblemCode


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


# Short text as people type it in a phone column, with every character libphonenumber may
# read as a digit: digits of other scripts, superscripts, letters (a keypad), ı and ſ.
short_text = st.text(
    alphabet=st.sampled_from([*"0123456789 +.-/()", *"telposnaTELXı", "ſ", "٦", "۱", "²", "１", "＋", "\xa0"]),
    min_size=1,
    max_size=14,
)


# Numbers written partly in letters (libphonenumber reads them on a phone keypad) or in
# another script's digits: few ASCII digits, yet a valid number.
keypad_cells = st.builds(
    lambda head, letters: f"0{head} {letters}",
    st.sampled_from(["6", "61", "612", "7 5"]),
    st.text(alphabet="ABCDEFGHJKLMNOPRSTUVWXYıſ", min_size=3, max_size=9),
)
other_digits = st.builds(lambda d: "".join(chr(0x0660 + int(c)) for c in "06" + d), _digits(8))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(short_text, keypad_cells, other_digits, reject_cells), min_size=1, max_size=20), type_sets)
def test_cells_with_few_digits_agree_with_the_cell_rule(values: list[str], types: frozenset[str]) -> None:
    column = phone_choices(pa.array(values, pa.string()), "FR", types)
    for i, raw in enumerate(values):
        cell = choose_in_cell(raw, "FR", types)
        assert (int(column.status[i]), column.digits[i].as_py()) == (
            cell.status,
            cell.chosen.digits if cell.chosen else None,
        ), raw


def test_text_with_few_digits_skips_libphonenumber() -> None:
    # Comments in a phone column are settled in Arrow; what might still hold a number,
    # letters after digits included (a keypad number), goes the exact way.
    settled = ["tel 1234", "poste 214", "n/a", "voir Marie", "ext. 12", "+33 (tel)"]
    # Digits and separators alone are left to the rules for clean cells ("1234" has no prefix).
    exact = ["tel 06 12 34 56 78", "06 12 ABC DEF", "0612 34 56 7x", "", "   ", "--", "1234"]
    marked = _surely_invalid(pa.array(settled + exact, pa.string()), "FR").tolist()
    assert marked == [True] * len(settled) + [False] * len(exact)
    for raw in settled:
        assert choose_in_cell(raw, "FR", frozenset({"mobile"})).status == INVALID


# Cells made of what strip_separators treats specially, and what it must leave alone:
# brackets and zeros (the trunk mark), every separator, the no-break space, spaces RE2
# does not count (\v, em space, narrow no-break space) and letters of two and three bytes.
separator_cells = st.text(alphabet="0()(0)123 \t\n\f\r\v.-/\u00a0\u2003\u202féà€+", max_size=14)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(separator_cells, st.none()), min_size=1, max_size=40), st.integers(0, 5))
def test_separators_stripped_as_the_regex_passes_strip_them(values: list[str | None], skip: int) -> None:
    column = pa.array(values, pa.string()).slice(min(skip, len(values) - 1))  # offsets not at zero too
    exact = pc.replace_substring_regex(pc.replace_substring_regex(column, _TRUNK_MARK, ""), _SEPARATORS, "")
    fast = strip_separators(column)
    fast.validate(full=True)  # offsets and UTF-8 hold
    assert fast.to_pylist() == exact.to_pylist()


def test_separators_stripped_on_a_phone_column_shaped_like_exports() -> None:
    rng = random.Random(5)
    spellings = [
        "06 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "06.12.34.56.78",
        "(0)612345678",
        "0612-345-678",
        "+33\u00a06\u00a012\u00a034\u00a056\u00a078",
        "06 12 34 56 78 / 07 98 76 54 32",
        "",
        "n/a",
        "+262 692 12 34 56",
    ]
    column = pa.array([rng.choice(spellings) if rng.random() > 0.1 else None for _ in range(5000)], pa.string())
    exact = pc.replace_substring_regex(pc.replace_substring_regex(column, _TRUNK_MARK, ""), _SEPARATORS, "")
    assert strip_separators(column).to_pylist() == exact.to_pylist()


# Cells with and without a country code, in digits of other scripts too (Python's \d
# reads them, RE2's does not), and text around them.
reason_cells = st.one_of(
    reject_cells,
    st.text(alphabet="0123456789+ ()tel\u0660\u0663\u0666\u06f0\u0966\uff10\uff13", max_size=16),
    st.builds(lambda d: "tel " + d, _digits(4)),
    # the country code written with separators inside it: its digits still start with it
    st.builds(
        lambda p, d: p + d, st.sampled_from(["0 033 70", "(00) 33 70", "3 3 70", "0-0-32 4", "5 9 0 690"]), _digits(7)
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(reason_cells, min_size=1, max_size=30), st.sampled_from(["FR", "BE", "GP"]))
def test_the_plain_reason_is_only_skipped_where_why_invalid_says_it(values: list[str], region: str) -> None:
    maybe = may_have_own_reason(pa.array(values, pa.string()), region)
    for value, flagged in zip(values, maybe.tolist(), strict=True):
        if not flagged:
            assert why_invalid(value, region) == plain_reason(region), value


# Cells of a phone column as exports hold them: rejects, landlines and other types, numbers
# written with a country code (their reject says more), mobiles, blanks and "idem".
export_cells = st.one_of(
    reject_cells,
    st.builds(lambda d: "01 " + d, _digits(8)),
    st.builds(lambda d: "+33 1 " + d, _digits(8)),
    st.builds(lambda d: "09 " + d, _digits(8)),
    st.builds(lambda d: "06 " + d, _digits(8)),
    st.builds(lambda d: "+44 7" + d, _digits(6)),
    st.builds(lambda d: "+590 690 " + d, _digits(6)),
    st.sampled_from(["", " ", "idem", "-"]),
)


def _exact_phone_reject(cells: list[str], columns: list[str], types: frozenset[str]) -> tuple[object, ...] | None:
    """One row's phone reject as the scalar rules say it: the first refused number's cell,
    else the first invalid cell, else nothing written; None when a cell gives a number."""
    choices = [choose_in_cell(cell, "FR", types) for cell in cells]
    if any(c.chosen for c in choices):
        return None
    for cell, column, choice in zip(cells, columns, choices, strict=True):
        if choice.status == REFUSED:
            assert choice.first is not None
            label = TYPE_LABELS.get(choice.first.kind, choice.first.kind)
            wanted = ", ".join(sorted(types))
            message = (
                f"{choice.first.digits} is {label}, which cannot receive SMS (the mapping accepts: {wanted}); put the "
                f"person's mobile in the CRM, or add {choice.first.kind} to phone.types for voice campaigns"
            )
            return ProblemCode.LANDLINE, column, cell, message
    for cell, column, choice in zip(cells, columns, choices, strict=True):
        if choice.status == INVALID:
            return ProblemCode.INVALID_PHONE, column, cell, why_invalid(cell, "FR")
    empty = "the phone number is empty" if len(columns) == 1 else "every phone column is empty"
    return ProblemCode.MISSING_VALUE, columns[0], "", empty


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(export_cells, export_cells), min_size=1, max_size=40), type_sets, st.booleans())
def test_phone_rejects_of_a_real_export_are_the_rows_judged_one_by_one(
    tmp_path_factory: pytest.TempPathFactory, cells: list[tuple[str, str]], types: frozenset[str], two: bool
) -> None:
    # The rejects are built column by column (desired._phone_rejects); each must be what
    # the row says when judged alone, code, column, cell and message alike.
    folder = tmp_path_factory.mktemp("export")
    columns = ["Mobile", "Téléphone"] if two else ["Mobile"]
    source = folder / "export.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Id", "Nom", *columns])
        writer.writerows([f"C{i}", "Martin", *pair[: len(columns)]] for i, pair in enumerate(cells))
    mapping = folder / "m.yaml"
    rules = {
        "identity": "Id",
        "fields": {"numero": {"columns": columns}, "nom": "Nom"},
        "phone": {"region": "FR", "types": sorted(types)},
        "groups": {"always": ["Tous"]},
    }
    mapping.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    result = read_desired(source, mapping)
    expected = []
    for i, pair in enumerate(cells):
        exact = _exact_phone_reject(list(pair[: len(columns)]), columns, types)
        if exact is not None:
            expected.append((i + 2, *exact))
    got = [(p.row, p.code, p.column, p.value, p.message) for p in result.rejects]
    assert got == expected
    assert all(type(p.code) is ProblemCode for p in result.rejects)


# Cleaned cells around the national-number shapes: each region's prefixes, a digit short or
# long, a leading 0 where the number starts, non-ASCII bytes, letters, nulls.
_PREFIXES = ["", "0", "00", "8", "33", "+33", "0033", "590", "+590", "00590", "370", "+370", "994", "+994", "00373"]
cleaned_cells = st.one_of(
    st.none(),
    st.builds(lambda p, d: p + d, st.sampled_from(_PREFIXES), st.text("0123456789", min_size=8, max_size=11)),
    st.builds(lambda p, d: p + d, st.sampled_from(_PREFIXES), st.text("0123456789", max_size=12)),
    st.builds(
        lambda p, d: p + d, st.sampled_from(["+33", "+994", "+590", "+370"]), st.text("0123456789x+", max_size=9)
    ),
    st.text(alphabet="0123456789+é٦x", max_size=14),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(cleaned_cells, max_size=30), st.sampled_from(["FR", "GP", "LT", "AZ", "MD"]), st.integers(0, 3))
def test_national_numbers_are_the_regex_extract(values: list[str | None], region: str, skip: int) -> None:
    from sms123_sync.mapping.normalize import _fast_path

    fast = _fast_path(region)
    assert fast is not None
    cells = pa.array(values, pa.string())[skip:]  # a slice: the offsets start past 0
    # The regex the byte arithmetic replaced: the prefixes in order, then the number.
    prefixes = "|".join(re.escape(p) for p in fast.prefixes if p)
    extract = rf"^(?:{prefixes})?(?P<nsn>[1-9]\d{{{fast.length - 1}}})$"
    expected = pc.struct_field(pc.extract_regex(cells, extract), [0])
    got = fast.national_numbers(cells)
    got.validate(full=True)
    assert got.to_pylist() == expected.to_pylist()


def test_excel_floats_are_read_as_the_cell_rule_reads_them() -> None:
    # A number Excel stored as a float loses its ".0" on the exact path; once stripped of
    # separators some would look like a number of another length to the fast path.
    cells = ["61234567.0", "0612345678.0", "0612345678.00 ", "612345678.0", " 33612345678.0", "06.12.34.56.78"]
    column = phone_choices(pa.array(cells, pa.string()), "FR", frozenset({"mobile"}))
    for i, raw in enumerate(cells):
        cell = choose_in_cell(raw, "FR", frozenset({"mobile"}))
        assert (int(column.status[i]), column.digits[i].as_py()) == (
            cell.status,
            cell.chosen.digits if cell.chosen else None,
        ), raw


@pytest.mark.parametrize(
    ("region", "cell"),
    [("EH", "05 20 12 34 56"), ("MA", "05 28 12 34 56"), ("IM", "020 7946 0000"), ("JE", "01624 612345")],
)
def test_a_number_of_a_region_sharing_the_country_code_is_judged_exactly(region: str, cell: str) -> None:
    # Western Sahara and Morocco share +212, the Isle of Man and Jersey +44 with Britain:
    # a number valid in the other region is valid, and its type is the other region's.
    for types in (frozenset({"mobile"}), frozenset({"fixed_line"})):
        column = phone_choices(pa.array([cell], pa.string()), region, types)
        exact = choose_in_cell(cell, region, types)
        assert (int(column.status[0]), column.digits[0].as_py(), column.first_kinds[0].as_py()) == (
            exact.status,
            exact.chosen.digits if exact.chosen else None,
            exact.first.kind if exact.first else None,
        )


class _EagerHelper(ThreadPoolExecutor):
    """A helper thread that is free at once: what it is given runs before the caller goes on."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        future = super().submit(fn, *args, **kwargs)
        future.result()
        return future


def _same_choices(a: PhoneChoices, b: PhoneChoices) -> None:
    for name in ("digits", "kinds", "first", "first_kinds"):
        assert getattr(a, name).to_pylist() == getattr(b, name).to_pylist(), name
    assert a.status.tolist() == b.status.tolist() and a.note.tolist() == b.note.tolist()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(reject_cells, st.sampled_from(["06 12 34 56 78", "", "0690 45 67 89"])), min_size=1, max_size=60)
)
def test_a_phone_column_judged_in_slices_by_two_threads_is_judged_whole(values: list[str]) -> None:
    """desired._column_choices shares a column's slices with the second core once it is
    free: whoever judges which slice, the column is the one phone_choices gives whole."""
    column = pa.array(values, pa.string())
    whole = phone_choices(column, "FR", frozenset({"mobile"}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(desired, "_PHONE_SLICE", 3)
        for helper in (ThreadPoolExecutor(max_workers=1), _EagerHelper(max_workers=1)):
            with helper:
                _same_choices(desired._column_choices(column, "FR", frozenset({"mobile"}), helper), whole)
