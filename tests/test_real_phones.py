"""Phone numbers as real CRM exports hold them (issue 10, points 1, 3, 4 and 9).

Each sample is a small file with the headers and cell spellings of one system's export:
Google Contacts CSV (``Phone 1 - Label``/``Phone 1 - Value``, `` ::: `` between values),
Outlook CSV (``Mobile Phone``, ``Home Phone``, ``Business Phone``), Dolibarr's French CSV
(``Tél. portable``, ``Tél. perso``, ``Tél. pro``) and an Odoo XLSX in French (numbers typed
as Excel numbers). The assertions name which number of each person reaches the account.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from sms123_sync.cli import cli
from sms123_sync.errors import MappingError
from sms123_sync.mapping.desired import DesiredResult
from sms123_sync.mapping.model import PHONE_TYPE_NAMES, parse_mapping
from sms123_sync.mapping.normalize import choose_in_cell, normalize_phone, phone_choices, read_phone_cell
from sms123_sync.mapping.pipeline import read_desired
from sms123_sync.mapping.problems import Problem, ProblemCode
from sms123_sync.sandbox.numbers import read_number
from sms123_sync.sandbox.server import Sandbox
from tests.helpers import CREDS

GOOGLE = (
    "First Name,Middle Name,Last Name,Labels,E-mail 1 - Label,E-mail 1 - Value,"
    "Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value\n"
    "Alice,,Martin,* myContacts,* Home,alice@example.org,Mobile,+33 6 12 34 56 01 ::: +33 7 56 34 56 01,,\n"
    "Bruno,,Durand,* myContacts,,,Home,01 45 67 89 02,Mobile,06 12 34 56 02\n"
    "Chloé,,Petit,* myContacts,,,Work,+33 1 45 67 89 03,,\n"
    "Denis,,Leroy,* myContacts,,,Mobile,+33 6 90 11 22 33,,\n"
    "Emma,,Payet,* myContacts,,,Mobile,0690 11 22 34,,\n"
    "Farid,,Benali,* myContacts,,,Mobile,+33 6 12 34 56 06,Home,+33 6 12 34 56 66\n"
)
GOOGLE_MAPPING = """
fields:
  numero: {columns: ["Phone 1 - Value", "Phone 2 - Value"]}
  nom: Last Name
  prenom: First Name
groups: {always: [Contacts Google]}
"""

OUTLOOK = (
    "First Name,Middle Name,Last Name,Title,Suffix,Nickname,E-mail Address,Home Phone,"
    "Business Phone,Mobile Phone,Categories\n"
    "Gilles,,Moreau,,,,gilles@example.org,,,06 57 68 79 80 (perso),Clients\n"
    "Hélène,,Roux,,,,,,06 57 68 79 81 poste 214,,Clients\n"
    "Ines,,Faure,,,,,01 23 45 67 89,,,Clients\n"
    "Jules,,Blanc,,,,,,,,Clients\n"
    "Karim,,Noel,,,,,,+33 (0)1 23 45 67 90 ext. 204,,Clients\n"
    "Léa,,Girard,,,,,+33 1 23 45 67 91,,+33 6 57 68 79 83 (travail),Clients\n"
)
OUTLOOK_MAPPING = """
fields:
  numero: {columns: [Mobile Phone, Home Phone, Business Phone]}
  nom: Last Name
groups: {column: Categories}
"""

DOLIBARR = (
    "Réf. contact;Civilité;Nom;Prénom;Tél. pro;Tél. perso;Tél. portable;Email;Catégories\n"
    "1;MR;Bernard;Marc;Tél: 01 23 45 67 01;;Mobile, 06 11 22 33 01;marc@example.org;Adhérents\n"
    "2;MME;Thomas;Julie;;;06 11 22 33 02 / 07 56 11 22 02;;Adhérents\n"
    "3;MR;Robert;Paul;01 23 45 67 03;06.11.22.33.03;;;Adhérents\n"
    "4;MME;Richard;Anne;;0756112204;0611223304;;Adhérents\n"
    "5;MR;Dubois;Éric;;09 51 23 45 05;;;Adhérents\n"
)
DOLIBARR_MAPPING = """
identity: Réf. contact
fields:
  numero: {columns: ["Tél. portable", "Tél. perso", "Tél. pro"]}
  nom: Nom
  prenom: Prénom
groups: {column: Catégories}
"""


def _write(tmp: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp / name
    path.write_bytes(text.encode(encoding))
    return path


def _numbers(result: DesiredResult, by: str = "nom") -> dict[str, str]:
    contacts = result.state.contacts
    return dict(zip(contacts[by], contacts["numero"], strict=True))


def _problems(problems: Sequence[Problem], code: ProblemCode) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.value) for p in problems if p.code is code]


def test_google_contacts_export(tmp_path: Path) -> None:
    result = read_desired(_write(tmp_path, "contacts.csv", GOOGLE), _write(tmp_path, "m.yaml", GOOGLE_MAPPING))
    assert _numbers(result) == {
        "Martin": "33612345601",  # the first of the two mobiles Google joined with " ::: "
        "Durand": "33612345602",  # landline in Phone 1, mobile in Phone 2: the mobile
        "Payet": "590690112234",  # written nationally: Guadeloupe
        "Benali": "33612345606",  # two mobiles in two columns: the preferred column
    }
    assert _problems(result.rejects, ProblemCode.LANDLINE) == [(4, "Phone 1 - Value", "+33 1 45 67 89 03")]
    assert _problems(result.rejects, ProblemCode.INVALID_PHONE) == [(5, "Phone 1 - Value", "+33 6 90 11 22 33")]
    invalid = next(p for p in result.rejects if p.code is ProblemCode.INVALID_PHONE)
    assert "+33" in invalid.message and "Guadeloupe" in invalid.message and "0690112233" in invalid.message
    assert _problems(result.warnings, ProblemCode.EXTRA_PHONE) == [
        (2, "Phone 1 - Value", "+33 6 12 34 56 01 ::: +33 7 56 34 56 01")
    ]
    assert "33756345601" in result.warnings[0].message


def test_outlook_export_mobiles_only_by_default(tmp_path: Path) -> None:
    source = _write(tmp_path, "outlook.csv", OUTLOOK)
    result = read_desired(source, _write(tmp_path, "m.yaml", OUTLOOK_MAPPING))
    assert _numbers(result) == {
        "Moreau": "33657687980",  # "(perso)" dropped
        "Roux": "33657687981",  # a mobile in Business Phone, "poste 214" dropped
        "Girard": "33657687983",  # the mobile column first, though Home Phone is filled
    }
    assert _problems(result.rejects, ProblemCode.LANDLINE) == [
        (4, "Home Phone", "01 23 45 67 89"),
        (6, "Business Phone", "+33 (0)1 23 45 67 90 ext. 204"),
    ]
    landline = result.rejects[0]
    assert "33123456789 is a fixed line" in landline.message and "phone.types" in landline.message
    assert _problems(result.rejects, ProblemCode.MISSING_VALUE) == [(5, "Mobile Phone", "")]
    assert {p.row for p in result.warnings if p.code is ProblemCode.PHONE_TEXT} == {2, 3, 7}
    # A landline row is a reject, and a reject never deletes what the account holds.
    assert {"33123456789", "33123456790"} <= result.state.protected


def test_outlook_export_for_voice_keeps_fixed_lines(tmp_path: Path) -> None:
    voice = "phone: {types: [mobile, fixed_line]}\n" + OUTLOOK_MAPPING
    result = read_desired(_write(tmp_path, "outlook.csv", OUTLOOK), _write(tmp_path, "m.yaml", voice))
    numbers = _numbers(result)
    assert numbers["Faure"] == "33123456789" and numbers["Noel"] == "33123456790"
    assert numbers["Girard"] == "33657687983"  # column order still decides: Mobile Phone first
    assert [p.code for p in result.rejects] == [ProblemCode.MISSING_VALUE]


def test_dolibarr_french_export(tmp_path: Path) -> None:
    source = _write(tmp_path, "dolibarr.csv", DOLIBARR, "cp1252")
    result = read_desired(source, _write(tmp_path, "m.yaml", DOLIBARR_MAPPING))
    assert _numbers(result, "key") == {
        "1": "33611223301",  # "Mobile, 06 …": the label dropped
        "2": "33611223302",  # "06 … / 07 …": the first mobile, the second warned about
        "3": "33611223303",  # Tél. perso holds the mobile, Tél. pro a landline
        "4": "33611223304",
    }
    assert _problems(result.warnings, ProblemCode.EXTRA_PHONE) == [
        (3, "Tél. portable", "06 11 22 33 02 / 07 56 11 22 02")
    ]
    assert _problems(result.warnings, ProblemCode.PHONE_TEXT) == [(2, "Tél. portable", "Mobile, 06 11 22 33 01")]
    # 09 numbers are French box (VoIP) lines: not a mobile either.
    assert _problems(result.rejects, ProblemCode.LANDLINE) == [(6, "Tél. perso", "09 51 23 45 05")]
    assert "a VoIP line" in result.rejects[0].message and "voip" in result.rejects[0].message


def test_odoo_xlsx_with_numbers_typed_as_numbers(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Contact (res.partner)"
    ws.append(["Nom", "Téléphone", "Mobile", "Courriel", "Étiquettes"])
    ws.append(["Laurent Mercier", 145678901, 612345678, "lm@example.org", "Bénévoles"])  # lost zeros
    ws.append(["Sophie Garnier", "+33 1 45 67 89 02", None, None, "Bénévoles"])
    ws.append(["Hugo Lefèvre", "06 12 34 56 03 (perso)", "", None, "Bénévoles"])
    path = tmp_path / "odoo.xlsx"
    wb.save(path)
    mapping = "fields:\n  numero: {columns: [Mobile, Téléphone]}\n  nom: Nom\ngroups: {column: Étiquettes}\n"
    result = read_desired(path, _write(tmp_path, "m.yaml", mapping))
    assert _numbers(result) == {"Laurent Mercier": "33612345678", "Hugo Lefèvre": "33612345603"}
    assert _problems(result.rejects, ProblemCode.LANDLINE) == [(3, "Téléphone", "+33 1 45 67 89 02")]


def test_cli_validate_lists_the_new_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "outlook.csv", OUTLOOK)
    _write(tmp_path, "m.yaml", OUTLOOK_MAPPING)
    result = CliRunner().invoke(cli, ["validate", "outlook.csv", "-m", "m.yaml", "--rejects", "rejects.csv"])
    assert result.exit_code == 0, result.output
    for code in ("landline", "missing-value", "phone-text"):
        assert code in result.output
    rejects = (tmp_path / "rejects.csv").read_text(encoding="utf-8")
    assert "landline" in rejects and "+33 (0)1 23 45 67 90 ext. 204" in rejects


def test_cli_sync_google_export_reaches_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox
) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "contacts.csv", GOOGLE)
    _write(tmp_path, "m.yaml", GOOGLE_MAPPING)
    args = ["sync", "contacts.csv", "-m", "m.yaml", "--state", "state.sqlite", "--yes"]
    args += ["--base-url", sandbox.url, "--user", CREDS.user, "--api-key", CREDS.api_key]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    remote = sandbox.store.memberships()
    assert sorted(number for _, number in remote) == ["33612345601", "33612345602", "33612345606", "590690112234"]
    assert {group for group, _ in remote} == {"Contacts Google"}
    second = CliRunner().invoke(cli, args)
    assert second.exit_code == 0 and "nothing to do" in second.output


# -- point 9: a written country code is kept -------------------------------------------


@pytest.mark.parametrize("raw", ["+33 6 90 11 22 33", "0033690112233", "33690112233", "+33 (0)6 90 11 22 33"])
def test_a_written_country_code_is_never_changed(raw: str) -> None:
    assert normalize_phone(raw) is None
    cell = choose_in_cell(raw, "FR", frozenset({"mobile"}))
    assert cell.chosen is None and cell.first is None
    # The API would file it under Guadeloupe: that is why the client refuses it first.
    sandbox_reading = read_number(raw.replace(" ", "").replace("(0)", ""))
    assert sandbox_reading is None or sandbox_reading.digits.startswith("590")


@pytest.mark.parametrize("raw", ["0690112233", "690112233", "06 90 11 22 33", "+590690112233", "00590 690 11 22 33"])
def test_only_numbers_written_nationally_get_an_overseas_code(raw: str) -> None:
    # nationally (or with a lost leading zero): Guadeloupe's code; with +590: as written
    phone = normalize_phone(raw)
    assert phone is not None and phone.digits == "590690112233"


def test_a_number_valid_nowhere_says_so(tmp_path: Path) -> None:
    csv = "Tel;G\n+44 12;A\n06 12;A\n+33 6 92 12 34 56;A\n"
    mapping = "fields: {numero: Tel}\ngroups: {column: G}\n"
    result = read_desired(_write(tmp_path, "in.csv", csv), _write(tmp_path, "m.yaml", mapping))
    messages = [p.message for p in result.rejects]
    assert [p.code for p in result.rejects] == [ProblemCode.INVALID_PHONE] * 3
    assert "+44" in messages[0] and "nor anywhere else" in messages[0]
    assert "region FR or the French overseas regions" in messages[1]
    assert "La Réunion" in messages[2] and "+262 692123456" in messages[2]


# -- the mapping -----------------------------------------------------------------------


def test_mapping_shapes_for_phone_columns_and_types() -> None:
    plain = parse_mapping("fields: {numero: Mobile}\ngroups: {always: [A]}\n")
    assert plain.people[0].phone_columns == ["Mobile"] and plain.phone.types == ["mobile"]
    several = parse_mapping(
        'fields: {numero: {columns: [Mobile, "Tél portable", Téléphone]}}\ngroups: {always: [A]}\n'
        "phone: {types: [mobile, fixed_line]}\n"
    )
    assert several.people[0].phone_columns == ["Mobile", "Tél portable", "Téléphone"]
    assert several.columns_used()["Téléphone"] == "fields.numero.columns[2]"
    assert several.phone.accepted == {"mobile", "fixed_line"}
    assert set(PHONE_TYPE_NAMES) >= {"mobile", "fixed_line", "voip", "toll_free", "premium_rate"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fields: {numero: [Mobile, Tel]}", "several phone columns are written {columns: [Mobile, Téléphone]}"),
        ("fields: {numero: {colums: [Mobile]}}", "did you mean 'columns'?"),
        ("fields: {numero: {columns: []}}", "list at least one phone column"),
        ("fields: {numero: {columns: [A, A]}}", "column 'A' is listed twice"),
        ("fields: {numero: A}\nphone: {types: [mobil]}", "unknown number type 'mobil'; did you mean 'mobile'?"),
        ("fields: {numero: A}\nphone: {types: []}", "types needs at least one number type"),
    ],
)
def test_mapping_mistakes_are_explained(text: str, expected: str) -> None:
    with pytest.raises(MappingError) as caught:
        parse_mapping(text + "\ngroups: {always: [A]}\n")
    assert expected in str(caught.value)
    assert "PhoneColumns" not in str(caught.value) and "FromColumn" not in str(caught.value)


def test_a_missing_phone_column_is_named(tmp_path: Path) -> None:
    source = _write(tmp_path, "in.csv", "Mobile;G\n0612345678;A\n")
    mapping = _write(tmp_path, "m.yaml", "fields: {numero: {columns: [Mobile, Téléphone]}}\ngroups: {column: G}\n")
    with pytest.raises(MappingError, match=r"fields\.numero\.columns\[1\]: column 'Téléphone' is not in"):
        read_desired(source, mapping)


# -- cells -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "numbers", "clean"),
    [
        ("06 57 68 79 80", ["33657687980"], True),
        ("06 57 68 79 80 (perso)", ["33657687980"], False),
        ("06 57 68 79 80 (travail)", ["33657687980"], False),
        ("06 57 68 79 80 poste 214", ["33657687980"], False),
        ("+33 6 57 68 79 80 ext. 204", ["33657687980"], False),
        ("Tél: 06 57 68 79 80", ["33657687980"], False),
        ("Mobile, 06 57 68 79 80", ["33657687980"], False),
        ("06 57 68 79 80 / 07 56 34 56 78", ["33657687980", "33756345678"], False),
        ("0657687980;0756345678", ["33657687980", "33756345678"], False),
        ("+33 6 57 68 79 80 ::: +33 7 56 34 56 78", ["33657687980", "33756345678"], False),
        ("01 23 45 67 89 / 06 57 68 79 80", ["33123456789", "33657687980"], False),
        ("0657687980 ::: +33 6 57 68 79 80", ["33657687980"], False),  # one number, two spellings
        ("06/57/68/79/80", ["33657687980"], True),
        ("n/a", [], False),
        ("", [], True),
    ],
)
def test_cells_as_people_write_them(raw: str, numbers: list[str], clean: bool) -> None:
    cell = read_phone_cell(raw)
    assert ([p.digits for p in cell.numbers], cell.clean) == (numbers, clean)


first_wave_cells = st.one_of(
    st.from_regex(r"0[1-79]( ?\d\d){4}", fullmatch=True),
    st.from_regex(r"(\+|00)?33 ?[1-9]( ?\d\d){4}", fullmatch=True),
    st.from_regex(r"069[0-7]\d{6}", fullmatch=True),
    st.from_regex(r"(Tél: ?|tel:)?0[67]\d{8}( x\d{2}|;07\d{8})?", fullmatch=True),
    st.text(alphabet="0123456789 +.-()/:;x", max_size=20),
)


@settings(max_examples=200, deadline=None)
@given(first_wave_cells)
def test_a_cell_the_first_release_read_keeps_its_number(raw: str) -> None:
    """Nothing accepted before changes: with every type accepted, the cell's chosen number
    is the one the first release's reading gives (landlines are refused by type only)."""
    before = normalize_phone(raw)
    cell = choose_in_cell(raw, "FR", frozenset(PHONE_TYPE_NAMES))
    if before is not None:
        assert cell.chosen == before, raw
        if before.kind == "mobile":
            assert choose_in_cell(raw, "FR", frozenset({"mobile"})).chosen == before, raw


def test_many_rejects_take_one_libphonenumber_call_per_distinct_value() -> None:
    # 30 000 rows of three distinct bad cells and one landline: the column is judged from few readings.
    values = pa.array(["06 12", "n/a", "", "01 23 45 67 89"] * 7500, pa.string())
    choose_in_cell.cache_clear()
    found = phone_choices(values, "FR", frozenset({"mobile"}))
    # The landline, "06 12" (a number of the wrong length) and "n/a" (too few digits) are
    # settled in Arrow (issue 13): only the empty cell is read by the cell rule.
    assert choose_in_cell.cache_info().misses == 1
    assert found.digits.null_count == len(values)


@pytest.mark.parametrize("identity", ["", "identity: Id\n"])
def test_landlines_synced_before_are_not_deleted_after_the_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox, identity: str
) -> None:
    # The first release synced landlines; a mapping that kept them (types: [mobile, fixed_line])
    # gives that account. With the new default they become rejects, and rejects never delete.
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "in.csv", "Id;Tel;Nom;G\n1;0612345601;Martin;A\n2;01 45 67 89 02;Durand;A\n")
    mapping = identity + "fields: {numero: Tel, nom: Nom}\ngroups: {column: G}\n"
    args = ["sync", "in.csv", "-m", "m.yaml", "--state", "state.sqlite", "--yes"]
    args += ["--base-url", sandbox.url, "--user", CREDS.user, "--api-key", CREDS.api_key]
    _write(tmp_path, "m.yaml", "phone: {types: [mobile, fixed_line]}\n" + mapping)
    before = CliRunner().invoke(cli, args)
    assert before.exit_code == 0, before.output
    assert sorted(n for _, n in sandbox.store.memberships()) == ["33145678902", "33612345601"]
    _write(tmp_path, "m.yaml", mapping)
    after = CliRunner().invoke(cli, args)
    assert after.exit_code == 0, after.output
    assert "nothing to do" in after.output  # no delete planned for the rejected landline
    validated = CliRunner().invoke(cli, ["validate", "in.csv", "-m", "m.yaml"])
    assert validated.exit_code == 0 and "landline" in validated.output and "row 3" in validated.output
    assert sorted(n for _, n in sandbox.store.memberships()) == ["33145678902", "33612345601"]
