"""The input pipeline on real files: sources, mapping rules, normalisation, rejects."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from sms123_sync.contact import FIELD_NAMES
from sms123_sync.errors import InputError, MappingError
from sms123_sync.mapping.desired import _template, _usable_digests, fields_hash
from sms123_sync.mapping.model import load_mapping, parse_mapping
from sms123_sync.mapping.normalize import (
    CHOSEN,
    choose_in_cell,
    clean_text_array,
    datea_column,
    normalize_phone,
    normalize_phones,
    normalize_text,
    phone_choices,
    to_datea,
)
from sms123_sync.mapping.pipeline import read_desired
from sms123_sync.mapping.problems import ProblemCode
from sms123_sync.sources import SourceOptions, read_source

ROOT = Path(__file__).parent.parent

BASIC = """
identity: Id
fields:
  numero: Tel
  nom: Nom
  datea: {column: Naissance, format: "%d/%m/%Y"}
  v1: {template: "{CP} {Ville}"}
  v3: {value: CRM}
groups:
  column: Groupes
  separator: ","
  rename: {VIP: Clients VIP}
  always: [Tous]
"""


def _write(tmp: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def _csv(tmp: Path, content: str, encoding: str = "utf-8", name: str = "in.csv") -> Path:
    path = tmp / name
    path.write_bytes(content.encode(encoding))
    return path


HEADER = "Id;Tel;Nom;Naissance;CP;Ville;Groupes\n"


@pytest.mark.parametrize(
    ("last_name", "encoding", "expected"),
    [("Noël", "utf-8", "utf-8"), ("Noël", "cp1252", "cp1252"), ("No\x81l", "latin-1", "latin-1")],
)
def test_the_encoding_is_judged_on_the_whole_file(tmp_path: Path, last_name: str, encoding: str, expected: str) -> None:
    # 3000 plain rows (beyond the sniffed head), then one name in the file's encoding.
    rows = "".join(f"{i};06 12 34 {i // 100:02d} {i % 100:02d};Martin;;;;VIP\n" for i in range(3000))
    src = tmp_path / "in.csv"
    src.write_bytes((HEADER + rows).encode("ascii") + f"9999;07 56 34 56 78;{last_name};;;;VIP\n".encode(encoding))
    assert read_source(src, SourceOptions()).encoding == expected
    result = read_desired(src, _write(tmp_path, BASIC))
    assert result.state.contacts.set_index("numero").loc["33756345678", "nom"] == last_name


def test_cp1252_semicolon_file(tmp_path: Path) -> None:
    src = _csv(tmp_path, HEADER + "1;06 12 34 56 78;Hélène Noël;12/02/1968;75011;Paris;VIP\n", "cp1252")
    result = read_desired(src, _write(tmp_path, BASIC))
    row = result.state.contacts.iloc[0]
    assert (row["numero"], row["nom"], row["datea"], row["v1"], row["v3"]) == (
        "33612345678",
        "Hélène Noël",
        "120268",
        "75011 Paris",
        "CRM",
    )
    assert sorted(result.state.memberships["group"]) == ["Clients VIP", "Tous"]


def test_bom_and_comma_delimited(tmp_path: Path) -> None:
    content = HEADER.replace(";", ",") + '1,+33 6 12 34 56 78,"Dupont, Jean",,,,"A,B"\n'
    src = _csv(tmp_path, "\ufeff" + content, "utf-8")
    table = read_source(src)
    assert (table.encoding, table.delimiter, table.columns[0]) == ("utf-8-sig", ",", "Id")
    result = read_desired(src, _write(tmp_path, BASIC))
    assert result.state.contacts.iloc[0]["nom"] == "Dupont, Jean"
    assert sorted(result.state.memberships["group"]) == ["A", "B", "Tous"]


def test_quoted_newlines_and_leading_zeros_kept(tmp_path: Path) -> None:
    src = _csv(tmp_path, HEADER + '007;0612345678;"Ligne 1\nLigne 2";;01000;Bourg;A\n2;0698765432;X;;;;A\n')
    table = read_source(src)
    assert table.frame["Id"].tolist() == ["007", "2"]
    assert table.frame["CP"].tolist() == ["01000", ""]
    result = read_desired(src, _write(tmp_path, BASIC))
    assert result.state.contacts.iloc[0]["nom"] == "Ligne 1 Ligne 2"  # inner newline collapsed


def test_xlsx_numeric_phones_and_real_dates(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.create_sheet("Export", 0)
    del wb[wb.sheetnames[1]]  # the default empty sheet
    ws.title = "Export"
    ws.append(["Id", "Tel", "Nom", "Naissance", "CP", "Ville", "Groupes"])
    ws.append([1, 612345678, "Martin", datetime(1968, 2, 12), 75011, "Paris", "VIP"])
    ws.append([2, "0692 12 34 56", "Payet", "pas une date", None, "Saint-Denis", "A"])
    wb.create_sheet("Autre")
    path = tmp_path / "in.xlsx"
    wb.save(path)
    mapping = _write(tmp_path, "source: {sheet: Export}\n" + BASIC.replace(', format: "%d/%m/%Y"', ""))
    result = read_desired(path, mapping)
    contacts = result.state.contacts.set_index("key")
    assert contacts.loc["1", "numero"] == "33612345678"
    assert contacts.loc["1", "datea"] == "120268"
    assert contacts.loc["2", "numero"] == "262692123456"
    assert [w.code for w in result.warnings] == [ProblemCode.BAD_DATE]
    assert result.warnings[0].row == 3
    bad_sheet = _write(tmp_path, "source: {sheet: Nope}\n" + BASIC, "bad.yaml")
    with pytest.raises(InputError, match="Export, Autre"):
        read_desired(path, bad_sheet)


@pytest.mark.parametrize(
    ("rule", "kept"),
    [
        ("{column: Opt, equals: Oui}", ["1"]),
        ("{column: Opt, not_equals: Oui}", ["2", "3"]),
        ("{column: Opt, in: [Oui, Non]}", ["1", "2"]),
        ("{column: Opt, not_in: [Oui, Non]}", ["3"]),
        ("{column: Opt, empty: true}", ["3"]),
        ("{column: Opt, not_empty: true}", ["1", "2"]),
        ("{column: Opt, matches: '^O'}", ["1"]),
    ],
)
def test_filter_rules(tmp_path: Path, rule: str, kept: list[str]) -> None:
    src = _csv(tmp_path, "Id;Tel;Opt\n1;0612345671;Oui\n2;0612345672;Non\n3;0612345673;\n")
    mapping = _write(tmp_path, f"identity: Id\nfields: {{numero: Tel}}\ngroups: {{always: [G]}}\nfilter:\n  - {rule}\n")
    result = read_desired(src, mapping)
    assert sorted(result.state.contacts["key"]) == kept
    assert result.stats.filtered_out == 3 - len(kept)


def test_duplicates_merge_memberships_and_keep_last_fields(tmp_path: Path) -> None:
    # Where rows with one number meet in a group, the last row's fields win there (issue 10
    # point 5: in a group where only one of them is, that row's fields; before, row 3's everywhere).
    src = _csv(tmp_path, "Tel;Nom;G\n0612345678;Ancien;A,B\n06 12 34 56 78;Nouveau;B\n")
    mapping = _write(tmp_path, "fields: {numero: Tel, nom: Nom}\ngroups: {column: G, separator: ','}\n")
    result = read_desired(src, mapping)
    state = result.state
    names = state.contacts["nom"].iloc[state.memberships["contact"]]
    records = dict(zip(state.memberships["group"], names, strict=True))
    assert records == {"A": "Ancien", "B": "Nouveau"}
    (warning,) = result.warnings
    assert (warning.code, warning.row) == (ProblemCode.DUPLICATE, 2)
    assert "row 3" in warning.message


def test_rejects_name_row_column_value(tmp_path: Path) -> None:
    src = _csv(tmp_path, "Id;Tel;G\n1;0612;A\n2;;A\n3;0612345678;Promo--Noël\n;0612345679;A\n5;0612345670;\n")
    mapping = _write(tmp_path, "identity: Id\nfields: {numero: Tel}\ngroups: {column: G}\n")
    result = read_desired(src, mapping)
    got = [(p.code, p.row, p.column, p.value) for p in result.rejects]
    assert got == [
        (ProblemCode.INVALID_PHONE, 2, "Tel", "0612"),
        (ProblemCode.MISSING_VALUE, 3, "Tel", ""),
        (ProblemCode.GROUP_SEPARATOR, 4, "G", "Promo--Noël"),
        (ProblemCode.MISSING_VALUE, 5, "Id", ""),
        (ProblemCode.NO_GROUP, 6, "G", ""),
    ]
    assert {"1", "2", "3", "5"} <= result.state.protected
    assert result.state.contacts.empty


def test_same_number_under_two_identities(tmp_path: Path) -> None:
    # Issue 10 point 5: a shared number is no longer rejected (number-taken); where the two
    # meet, one record keeps the lower identity's fields, with a warning.
    src = _csv(tmp_path, "Id;Tel\nA;0612345678\nB;+33612345678\n")
    result = read_desired(src, _write(tmp_path, "identity: Id\nfields: {numero: Tel}\ngroups: {always: [G]}\n"))
    assert result.rejects == []
    assert [(p.code, p.row) for p in result.warnings] == [(ProblemCode.SHARED_NUMBER, 3)]
    assert result.state.memberships[["key", "group"]].values.tolist() == [["A", "G"]]


def test_mapping_with_several_errors_reports_all(tmp_path: Path) -> None:
    text = "phone: {regoin: FR}\nfields:\n  nom: Nom\n  prenon: X\ngroups: {colum: G}\nmode: mirorr\n"
    with pytest.raises(MappingError) as caught:
        load_mapping(_write(tmp_path, text))
    problems = caught.value.problems
    assert len(problems) == 5
    assert any("line 1" in p and "did you mean 'region'" in p for p in problems)
    assert any("fields.numero: required" in p for p in problems)
    assert any("did you mean 'prenom'" in p for p in problems)
    assert any("line 5" in p and "did you mean 'column'" in p for p in problems)
    assert any("line 6" in p and "mode" in p for p in problems)


def test_missing_columns_listed_with_suggestion(tmp_path: Path) -> None:
    src = _csv(tmp_path, "Identifiant;Telephone;Groupes\n1;0612345678;A\n")
    mapping = _write(tmp_path, "identity: Id\nfields: {numero: Téléphone}\ngroups: {column: Groupes}\n")
    with pytest.raises(MappingError) as caught:
        read_desired(src, mapping)
    text = str(caught.value)
    assert "did you mean 'Telephone'" in text and "the file has: 'Identifiant', 'Telephone', 'Groupes'" in text


def _yaml_block(page: str) -> str:
    return (ROOT / page).read_text(encoding="utf-8").split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_documented_mappings_load() -> None:
    reference = parse_mapping(_yaml_block("docs/mappings.md"))
    assert reference.identity == "CRM Id" and reference.groups.rename == {"VIP": "Clients VIP"}
    short = parse_mapping(_yaml_block("README.md"))
    assert short.groups.always == ["Tous les clients"] and short.mode == "mirror"


def test_every_problem_code_is_documented_with_what_to_do() -> None:
    reference = (ROOT / "docs" / "mappings.md").read_text(encoding="utf-8")
    for code in ProblemCode:
        assert f"| `{code.value}` |" in reference, f"{code.value} is missing from docs/mappings.md"


@pytest.mark.parametrize(
    "raw",
    [
        "06 12 34 56 78",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "0033612345678",
        "06.12.34.56.78",
        "33612345678",
        "612345678",
        "06-12-34-56-78",
    ],
)
def test_french_spellings(raw: str) -> None:
    assert normalize_phone(raw) is not None
    digits, kinds = normalize_phones(pd.array([raw], dtype="string[pyarrow]").__arrow_array__())
    assert digits.to_pylist() == ["33612345678"] and kinds.to_pylist() == ["mobile"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0692 12 34 56", "262692123456"),
        ("0690 12 34 56", "590690123456"),
        ("0696 12 34 56", "596696123456"),
        # Issue 10, point 9: written with +33, it is not moved to La Réunion (the first
        # release made it 262692123456); it is no French number, so it is no number at all.
        ("+33 692 12 34 56", None),
        ("01 23 45 67 89", "33123456789"),
    ],
)
def test_overseas_numbers_get_their_country_code(raw: str, expected: str | None) -> None:
    phone = normalize_phone(raw)
    assert (phone.digits if phone else None) == expected


phones = st.one_of(
    st.from_regex(r"0[1-79]( ?\d\d){4}", fullmatch=True),
    st.from_regex(r"\+33 ?[67]( ?\d\d){4}", fullmatch=True),
    st.from_regex(r"069[0-7]\d{6}", fullmatch=True),
    st.text(alphabet="0123456789 +.-()", max_size=16),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(phones, min_size=1, max_size=20))
def test_normalisation_is_idempotent_and_fast_path_agrees(values: list[str]) -> None:
    import pyarrow as pa

    digits, _ = normalize_phones(pa.array(values, pa.string()))
    for raw, got in zip(values, digits.to_pylist(), strict=True):
        exact = normalize_phone(raw)
        assert got == (exact.digits if exact else None), raw
        if got is not None and len(got) > 9:  # 9 digits is read as a lost leading zero (normalize.py)
            again = normalize_phone(got)
            assert again is not None and again.digits == got
            assert normalize_phones(pa.array([got]))[0].to_pylist() == [got]


# Cells as people type them: clean spellings, comments, labels, two numbers, Google's
# " ::: ", landlines, overseas numbers with and without a written country code.
phone_cells = st.one_of(
    phones,
    st.builds(
        lambda a, sep, b: a + sep + b,
        phones,
        st.sampled_from([" ::: ", " / ", ";", ", ", " (perso)", " poste ", " ext. ", " ou ", "\n"]),
        st.one_of(phones, st.sampled_from(["", "214", "perso", "(travail)"])),
    ),
    st.builds(lambda label, a: label + a, st.sampled_from(["Tél: ", "Mobile, ", "tel:", "Portable : "]), phones),
    st.sampled_from(["", "  ", "n/a", "idem", "+33 6 90 11 22 33", "0690112233", "09 51 23 45 67", "0800 12 34 56"]),
)
type_sets = st.sampled_from([frozenset({"mobile"}), frozenset({"mobile", "fixed_line"}), frozenset({"fixed_line"})])


@settings(max_examples=150, deadline=None)
@given(st.lists(phone_cells, min_size=1, max_size=20), type_sets)
def test_column_choice_agrees_with_the_cell_rule(values: list[str], types: frozenset[str]) -> None:
    # The Arrow fast path and the scalar rule must choose the same number, type, verdict and note.
    column = phone_choices(pa.array(values, pa.string()), "FR", types)
    for i, raw in enumerate(values):
        cell = choose_in_cell(raw, "FR", types)
        assert column.digits[i].as_py() == (cell.chosen.digits if cell.chosen else None), raw
        assert column.kinds[i].as_py() == (cell.chosen.kind if cell.chosen else None), raw
        assert column.first[i].as_py() == (cell.first.digits if cell.first else None), raw
        assert (int(column.status[i]), int(column.note[i])) == (cell.status, cell.note), raw
        if cell.chosen is not None:
            # never a rejected cell while it holds an accepted number
            assert cell.status == CHOSEN and cell.chosen.kind in types


# Letters, ASCII and Unicode spaces (no-break, em, ideographic, line separator, NEL),
# tabs and newlines, C0 controls and DEL, invisible format characters (BOM, zero-width
# space and joiner, right-to-left override, word joiner): what CRM cells carry.
cell_text = st.text(
    alphabet=st.sampled_from(
        [
            *"ab é",
            *"\t\n\r\x0b\x01\x1f\x7f",
            *"\xa0\u2003\u3000\u2028\x85",
            *"\ufeff\u200b\u200d\u202e\u2060",
        ]
    ),
    max_size=12,
)


@given(st.lists(cell_text, min_size=1, max_size=20))
@example(["a  b", "ab", "a b ", " é", "é\u2003é", "b"])  # clean rows beside rows with only spaces to fix
@settings(max_examples=300, deadline=None)
def test_text_column_cleaning_matches_the_scalar_rule(values: list[str]) -> None:
    # Group names go through normalize_text, field columns through Arrow: one rule for both.
    expected = [normalize_text(v) for v in values]
    assert clean_text_array(pa.array(values, pa.string())).to_pylist() == expected
    # Only the rows that may need it are judged and rewritten: a slice (offsets that do
    # not start at 0) and chunks give the same cells.
    sliced = pa.array([" a  b ", *values, "\x85"], pa.string())[1:-1]
    assert clean_text_array(sliced).to_pylist() == expected
    chunked = pa.chunked_array([pa.array(values[:3], pa.string()), pa.array(values[3:], pa.string())])
    assert clean_text_array(chunked).to_pylist() == expected


templates = st.sampled_from(
    [
        "{A} {B}",
        "{A}{B}",
        "{A} - {B}",
        " {A}",
        "{A}  {B} ",
        "({A})",
        "{A}\t{B}",
        "{{{A}}}",
        "{A}\u00a0{B}",
        "{A}, {A}",
        "Tél. {B}",
    ]
)


@given(st.lists(st.tuples(cell_text, cell_text), min_size=1, max_size=12), templates)
@example([("", "Paris"), ("75001", "Paris"), ("75001", ""), ("", "")], "{A} {B}")
@settings(max_examples=300, deadline=None)
def test_template_fields_are_the_whole_text_cleaned(cells: list[tuple[str, str]], template: str) -> None:
    # Each column is cleaned, the text joined, and the result cleaned as a whole: the
    # rows that cannot need it (no empty column, clean text between) are left as joined.
    frame = pd.DataFrame(
        {"A": pd.array([a for a, _ in cells], dtype="str"), "B": pd.array([b for _, b in cells], dtype="str")}
    )
    got = _template(frame, template)
    expected = [normalize_text(template.format(A=normalize_text(a), B=normalize_text(b))) for a, b in cells]
    assert (got.to_pylist() if not isinstance(got, str) else [got] * len(cells)) == expected


date_cells = st.one_of(
    st.text(alphabet=st.sampled_from([*"0123456789/- :", "\xa0"]), max_size=19),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 1, 1)).map(lambda d: datetime(d.year, d.month, d.day)),
    st.sampled_from(["12/02/1968", "1968-02-12", "1/2/1968", "31/02/1968", "  12/02/1968 ", "1968-02-12 10:11:12"]),
)


@given(st.lists(date_cells, min_size=1, max_size=5), st.sampled_from(["%d/%m/%Y", None]))
@settings(max_examples=300, deadline=None)
def test_date_column_matches_the_scalar_rule(values: list[object], fmt: str | None) -> None:
    column = datea_column(pd.Series(values, dtype=object), fmt).fillna("").tolist()
    assert column == [to_datea(v, fmt) or "" for v in values]
    # A CSV column (Arrow strings) takes Arrow's path to its distinct cells: same dates.
    texts = [v if isinstance(v, str) else "" for v in values]
    arrow = datea_column(pd.Series(texts, dtype=pd.StringDtype("pyarrow")), fmt).fillna("").tolist()
    assert arrow == [to_datea(v, fmt) or "" for v in texts]


@pytest.mark.parametrize("usable_share", [0.0, 0.3, 0.79, 0.8, 1.0])
def test_usable_digests_are_the_usable_rows_digests(usable_share: float) -> None:
    """Few usable people (an export of rejects): only theirs are hashed, and each digest
    must be its row's own; from four in five, every row is hashed (the reference)."""
    rng = np.random.default_rng(int(usable_share * 100))
    texts = ["", "Zoé", "Martin", "13008 Marseille", "Ç'est ça", "0612345678"]
    values = pd.DataFrame({name: pd.array(rng.choice(texts, 200).tolist(), dtype="str") for name in FIELD_NAMES})
    usable = np.zeros(200, dtype=bool)
    usable[rng.permutation(200)[: int(200 * usable_share)]] = True
    digests = _usable_digests(values, usable)
    assert digests.tolist() == fields_hash(values)[usable].tolist()
    assert len(set(digests.tolist())) == len(values[usable].drop_duplicates())  # rows told apart
