"""Several people per row (``contacts:``) and numbers shared by several people.

Issue 10, points 2 and 5, on files shaped like the exports that have them: a parents'
association list in XLSX (mother and father per child, siblings in two classes) and a
Brevo contact export where a couple and an office share a mobile.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from sms123_sync.api.codes import Endpoint
from sms123_sync.api.connection import ConnectionSettings
from sms123_sync.cli import cli
from sms123_sync.errors import MappingError
from sms123_sync.mapping.desired import DesiredResult, same_as_before
from sms123_sync.mapping.model import parse_mapping
from sms123_sync.mapping.pipeline import read_desired
from sms123_sync.mapping.problems import ProblemCode
from sms123_sync.reconcile.sync import SyncReport, run_sync
from sms123_sync.sandbox.server import Sandbox
from tests.helpers import FAST_RETRY

ROOT = Path(__file__).parent.parent

HEADER = [
    "N° élève",
    "Nom enfant",
    "Prénom enfant",
    "Classe",
    "Nom mère",
    "Prénom mère",
    "Téléphone mère",
    "Nom père",
    "Prénom père",
    "Téléphone père",
    "Cotisation",
]
# As such lists are typed: spaces, dots, a number Excel turned into 612345671, "idem".
SCHOOL: list[list[object]] = [
    [101, "MARTIN", "Léa", "CM1", "Martin", "Sophie", "06 12 34 56 71", "Martin", "Paul", "06 12 34 56 72", "payée"],
    [102, "MARTIN", "Hugo", "CE2", "Martin", "Sophie", 612345671, "Martin", "Paul", "06.12.34.56.72", "payée"],
    [103, "DURAND", "Zoé", "CM1", "Durand", "Claire", "07 81 23 45 67", "Durand", "Marc", "idem", ""],
    [104, "PETIT", "Jules", "CE2", "Petit", "Anne", "+33 6 98 76 54 32", "Petit", "Luc", None, "payée"],
    [105, "LEROY", "Emma", "CM1", "Leroy", "Julie", None, "Leroy", "Thomas", "06 11 11 11 11", ""],
    [106, "MOREAU", "Inès", "CE2", "Moreau", "Nadia", "06 22 33 44 55", "Moreau", "Karim", "06 22 33 44 55", ""],
    [107, "SIMON", "Noé", "CM1", "Simon", "Eva", None, "Simon", "Yann", "", "payée"],
    [108, "BONNET", "Lou", "CE2", "Bonnet", "Lise", "06 12", "Bonnet", "Marc", "06 33 44 55 66", ""],
]
PARENTS = "Parents d'élèves"


def _docs_example() -> str:
    """The school-list mapping of docs/mappings.md, as printed there."""
    page = (ROOT / "docs" / "mappings.md").read_text(encoding="utf-8")
    section = page.split("## Several people per row", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def _xlsx(tmp: Path, rows: list[list[object]], name: str = "liste.xlsx") -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Liste APE"
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    path = tmp / name
    wb.save(path)
    return path


def _mapping(tmp: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def records(result: DesiredResult, *names: str) -> dict[tuple[str, str], tuple[str, ...]]:
    """{(group, number): (field, …)}: what the account should hold, record by record."""
    state = result.state
    fields = state.contacts.iloc[state.memberships["contact"].to_numpy()]
    numbers = fields["numero"].tolist()
    values = zip(*(fields[n].tolist() for n in names), strict=True)
    return dict(zip(zip(state.memberships["group"], numbers, strict=True), values, strict=True))


def test_school_list_two_parents_per_row(tmp_path: Path) -> None:
    result = read_desired(_xlsx(tmp_path, SCHOOL), _mapping(tmp_path, _docs_example()))
    got = records(result, "prenom", "v1", "key")
    # Siblings in two classes: each class's record names its own child; where they meet,
    # the lower identity (101) gives the record its fields.
    assert got[("CM1", "33612345671")] == ("Sophie", "Léa", "101/Téléphone mère")
    assert got[("CE2", "33612345671")] == ("Sophie", "Hugo", "102/Téléphone mère")
    assert got[(PARENTS, "33612345671")] == ("Sophie", "Léa", "101/Téléphone mère")
    assert got[("CE2", "33612345672")] == ("Paul", "Hugo", "102/Téléphone père")
    # "idem", an empty cell, a number repeated in the row: no second contact.
    assert ("CM1", "33781234567") in got and not any(v[0] == "Marc" and k[0] == "CM1" for k, v in got.items())
    assert got[("CE2", "33622334455")] == ("Nadia", "Inès", "106/Téléphone mère")
    assert got[("CM1", "33611111111")] == ("Thomas", "Emma", "105/Téléphone père")
    # A bad mother's number rejects her only; the father of row 9 is kept.
    assert got[("CE2", "33633445566")] == ("Marc", "Lou", "108/Téléphone père")
    assert len(got) == 16
    assert [(p.code, p.row, p.column, p.value) for p in result.rejects] == [
        (ProblemCode.MISSING_VALUE, 8, "Téléphone mère", ""),
        (ProblemCode.INVALID_PHONE, 9, "Téléphone mère", "06 12"),
    ]
    assert "108/Téléphone mère" in result.state.protected
    assert [(p.code, p.row, p.column) for p in result.warnings] == [
        (ProblemCode.SHARED_NUMBER, 3, "Téléphone mère"),
        (ProblemCode.SHARED_NUMBER, 3, "Téléphone père"),
        (ProblemCode.SHARED_NUMBER, 7, "Téléphone père"),
    ]
    assert "'101/Téléphone mère'" in result.warnings[0].message and PARENTS in result.warnings[0].message
    assert result.stats.contacts == 9 and result.stats.rejected == 2


def test_school_list_without_identity(tmp_path: Path) -> None:
    text = "\n".join(line for line in _docs_example().splitlines() if not line.startswith("identity"))
    result = read_desired(_xlsx(tmp_path, SCHOOL), _mapping(tmp_path, text))
    got = records(result, "prenom", "v1")
    assert got[("CM1", "33612345671")] == ("Sophie", "Léa")
    assert got[("CE2", "33612345671")] == ("Sophie", "Hugo")
    assert got[(PARENTS, "33612345671")] == ("Sophie", "Hugo")  # where the siblings meet, the last row wins
    assert len(got) == 16
    dup = [(p.code, p.row) for p in result.warnings if p.code is ProblemCode.DUPLICATE]
    assert dup == [(ProblemCode.DUPLICATE, 2), (ProblemCode.DUPLICATE, 2)]


# A Brevo contact export (French account): attributes in capitals, SMS in international form.
BREVO = """CONTACT ID,EMAIL,NOM,PRENOM,SMS,LISTES
1,jean.dupont@example.fr,DUPONT,Jean,33612345678,"Newsletter,Clients VIP"
2,marie.dupont@example.fr,DUPONT,Marie,+33612345678,"Newsletter,Fidélité"
3,accueil@garage-des-lilas.example,GARAGE DES LILAS,Accueil,33698765432,Newsletter
4,paul@garage-des-lilas.example,GARAGE DES LILAS,Paul,33698765432,"Newsletter,Atelier"
"""
BREVO_MAPPING = """identity: CONTACT ID
fields: {numero: SMS, nom: NOM, prenom: PRENOM}
groups: {column: LISTES, separator: ","}
"""


def test_couple_and_office_sharing_a_mobile(tmp_path: Path) -> None:
    source = tmp_path / "contacts_brevo.csv"
    source.write_text(BREVO, encoding="utf-8")
    result = read_desired(source, _mapping(tmp_path, BREVO_MAPPING))
    assert result.rejects == []  # was: number-taken for Marie and Paul
    assert records(result, "prenom") == {
        ("Newsletter", "33612345678"): ("Jean",),
        ("Clients VIP", "33612345678"): ("Jean",),
        ("Fidélité", "33612345678"): ("Marie",),  # alone there: her own fields
        ("Newsletter", "33698765432"): ("Accueil",),
        ("Atelier", "33698765432"): ("Paul",),
    }
    assert [(p.code, p.row, p.value) for p in result.warnings] == [
        (ProblemCode.SHARED_NUMBER, 3, "33612345678"),
        (ProblemCode.SHARED_NUMBER, 5, "33698765432"),
    ]
    unsorted = tmp_path / "resorted.csv"  # the same contacts, exported in another order
    head, *lines = BREVO.splitlines(keepends=True)
    unsorted.write_text(head + "".join(reversed(lines)), encoding="utf-8")
    again = read_desired(unsorted, _mapping(tmp_path, BREVO_MAPPING))
    assert records(again, "prenom") == records(result, "prenom")


@pytest.mark.parametrize(
    "cell", ["idem", "Idem.", "IDEM", "même numéro", "Meme numero", "même", "pareil", "same", "ditto", '"', " id. "]
)
def test_same_as_before_words(cell: str) -> None:
    assert same_as_before(cell)


@pytest.mark.parametrize("cell", ["", "0612345678", "idempotent", "voir mère", "n/a"])
def test_other_cells_are_not_same_as_before(cell: str) -> None:
    assert not same_as_before(cell)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("contacts: [{numero: A}]\nfields: {numero: A}\ngroups: {always: [G]}\n", "not both"),
        ("contacts: [{numero: A}, {numero: A}]\ngroups: {always: [G]}\n", "two entries read the phone column 'A'"),
        ("contacts: []\ngroups: {always: [G]}\n", "at least one entry"),
        ("contacts: [{nom: A}]\ngroups: {always: [G]}\n", "contacts[0].numero: required key is missing"),
        ("groups: {always: [G]}\n", "'contacts' (a list, one contact per phone column)"),
    ],
)
def test_contacts_mapping_errors(text: str, expected: str) -> None:
    with pytest.raises(MappingError) as caught:
        parse_mapping(text)
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems


def test_missing_column_names_the_entry(tmp_path: Path) -> None:
    text = _docs_example().replace('"Téléphone père"', '"Tel père"')
    with pytest.raises(MappingError, match=r"contacts\[1\]\.numero: column 'Tel père'"):
        read_desired(_xlsx(tmp_path, SCHOOL), _mapping(tmp_path, text))


class School:
    """The school list synced night after night against the sandbox, over real HTTP."""

    def __init__(self, tmp: Path, sandbox: Sandbox) -> None:
        self.tmp, self.sandbox, self.nights = tmp, sandbox, 0
        self.mapping = _mapping(tmp, _docs_example())

    def sync(self, rows: list[list[object]]) -> SyncReport:
        self.nights += 1
        for endpoint in self.sandbox.calls:
            self.sandbox.calls[endpoint] = 0
        settings = ConnectionSettings(
            user="sandbox", api_key="sandbox-key", base_url=self.sandbox.url, retry=FAST_RETRY
        )
        export = _xlsx(self.tmp, rows, f"night{self.nights}.xlsx")
        return run_sync(export, self.mapping, self.tmp / "state.sqlite", settings)

    def calls(self) -> dict[Endpoint, int]:
        return {e: c for e, c in self.sandbox.calls.items() if c}

    def account(self) -> dict[tuple[str, str], tuple[str, str]]:
        return {k: (v["prenom"], v["v1"]) for k, v in self.sandbox.store.memberships().items()}


def test_school_list_synced_twice_then_a_change_night(tmp_path: Path, sandbox: Sandbox) -> None:
    school = School(tmp_path, sandbox)
    first = school.sync(SCHOOL)
    assert first.exit_code == 0
    # One add per person, all their groups joined: the siblings' shared mobile is two adds.
    assert school.calls() == {Endpoint.GROUP_ADD: 3, Endpoint.CONTACT_ADD: 9}
    account = school.account()
    assert account[("CM1", "33612345671")] == ("Sophie", "Léa")
    assert account[("CE2", "33612345671")] == ("Sophie", "Hugo")
    assert len(account) == 16

    assert len(school.sync(SCHOOL).plan) == 0 and school.calls() == {}

    tonight = [list(row) for row in SCHOOL]
    tonight[0][9] = tonight[1][9] = "06 44 55 66 77"  # Paul Martin has a mobile of his own now
    tonight[2][9] = "07 99 88 77 66"  # Marc Durand's "idem" becomes his number
    tonight[3][2] = "Julien"  # a first name corrected
    changed = school.sync(tonight)
    assert changed.exit_code == 0
    # Paul's three records move to the new number (one update per group), Marc is added
    # to CM1 and the parents' group in one call, Jules → Julien in CE2 and the parents' group.
    assert school.calls() == {Endpoint.CONTACT_UPD: 5, Endpoint.CONTACT_ADD: 1}
    account = school.account()
    assert account[("CE2", "33644556677")] == ("Paul", "Hugo")
    assert ("CM1", "33612345672") not in account
    assert account[(PARENTS, "33799887766")] == ("Marc", "Zoé")
    assert account[("CE2", "33698765432")] == ("Anne", "Julien")
    assert len(school.sync(tonight).plan) == 0 and school.calls() == {}


def test_cli_validate_then_sync_twice_on_the_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    export, mapping = str(_xlsx(tmp_path, SCHOOL)), str(_mapping(tmp_path, _docs_example()))
    runner = CliRunner()
    validated = runner.invoke(cli, ["validate", export, "-m", mapping])
    assert validated.exit_code == 0, validated.output
    assert "[shared-number]" in validated.output and "row 7, column 'Téléphone père'" in validated.output
    first = runner.invoke(cli, ["sync", export, "-m", mapping, "--sandbox", "--yes"])
    assert first.exit_code == 0, first.output
    assert "done: 12 applied" in first.output
    second = runner.invoke(cli, ["sync", export, "-m", mapping, "--sandbox", "--yes"])
    assert second.exit_code == 0 and "nothing to do" in second.output


def test_shared_numbers_through_changes_on_the_sandbox(tmp_path: Path, sandbox: Sandbox) -> None:
    settings = ConnectionSettings(user="sandbox", api_key="sandbox-key", base_url=sandbox.url, retry=FAST_RETRY)
    mapping = _mapping(tmp_path, BREVO_MAPPING)

    def night(text: str, name: str) -> dict[Endpoint, int]:
        for endpoint in sandbox.calls:
            sandbox.calls[endpoint] = 0
        (tmp_path / name).write_text(text, encoding="utf-8")
        report = run_sync(tmp_path / name, mapping, tmp_path / "state.sqlite", settings)
        assert report.exit_code == 0
        return {e: c for e, c in sandbox.calls.items() if c}

    assert night(BREVO, "n1.csv") == {Endpoint.GROUP_ADD: 4, Endpoint.CONTACT_ADD: 4}
    assert night(BREVO, "n2.csv") == {}
    # Marie gets a mobile of her own: her Fidélité record moves to it (an update), her
    # Newsletter record is new (Jean's stays his). The office receptionist leaves: the
    # Newsletter record passes to Paul (an update), nothing is deleted.
    lines = BREVO.splitlines(keepends=True)
    changed = lines[0] + lines[1] + lines[2].replace("+33612345678", "0677889900") + lines[4]
    assert night(changed, "n3.csv") == {Endpoint.CONTACT_UPD: 2, Endpoint.CONTACT_ADD: 1}
    account = {k: v["prenom"] for k, v in sandbox.store.memberships().items()}
    assert account == {
        ("Newsletter", "33612345678"): "Jean",
        ("Clients VIP", "33612345678"): "Jean",
        ("Newsletter", "33677889900"): "Marie",
        ("Fidélité", "33677889900"): "Marie",
        ("Newsletter", "33698765432"): "Paul",
        ("Atelier", "33698765432"): "Paul",
    }
    assert night(changed, "n4.csv") == {}


def test_each_person_may_have_several_phone_columns_and_an_opt_out_removes_both(tmp_path: Path) -> None:
    # Several people per row meet several phone columns per person: the mother's home
    # line comes first but her mobile is chosen; the father has only an "idem".
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "identity: Id\n"
        "contacts:\n"
        '  - {numero: {columns: ["Tél. mère", "Portable mère"]}, prenom: "Prénom mère"}\n'
        '  - {numero: {columns: ["Portable père"]}, prenom: "Prénom père"}\n'
        "groups: {column: Classe}\n"
        "filter: [{column: SMS, is: true}]\n",
        encoding="utf-8",
    )
    export = tmp_path / "liste.csv"
    export.write_text(
        "Id;Classe;Tél. mère;Portable mère;Prénom mère;Portable père;Prénom père;SMS\n"
        "1;CP;01 42 00 00 01;06 11 22 33 44;Anne;idem;Marc;Oui\n"
        "2;CE1;;06 55 66 77 88;Lise;07 56 12 34 56;Paul;Non\n",
        encoding="utf-8",
    )
    result = read_desired(export, mapping)
    contacts = result.state.contacts.set_index("key")
    assert contacts.loc["1/Tél. mère", "numero"] == "33611223344"
    assert "1/Portable père" not in contacts.index  # "idem": no contact of his own, no reject
    assert result.rejects == []
    # Row 2 said no to SMS: both parents' keys are explained removals for the guard.
    assert result.state.filtered_out == frozenset({"2/Tél. mère", "2/Portable père"})
