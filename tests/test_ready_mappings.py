"""Ready mappings, ``sms123-sync init`` and ``-m NAME`` (issue 12).

Every sample in samples/ready/ is recognised by ``init``, synced into the sandbox with
the mapping ``init`` wrote, then synced again a night later (a row gone, an opt-out, a
changed number); the same files with their column names replaced still reach at least
90 % of the contacts through the mapping ``init`` guesses.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from samples.make_ready_samples import (
    PEOPLE,
    SAMPLES,
    SCHOOL,
    next_night,
    school_next_night,
    write_sample,
    write_school,
)
from sms123_sync.api.connection import ConnectionSettings
from sms123_sync.cli import cli
from sms123_sync.mapping.model import load_mapping
from sms123_sync.mapping.pipeline import read_desired
from sms123_sync.mapping.ready import BY_NAME, READY_DIR, SYSTEMS, resolve_mapping
from sms123_sync.reconcile.plan import PlanOptions
from sms123_sync.reconcile.sync import run_sync
from sms123_sync.sandbox.server import Sandbox
from sms123_sync.sources import read_source
from tests.helpers import FAST_RETRY

ROOT = Path(__file__).parent.parent
READY_SAMPLES = ROOT / "samples" / "ready"
NAMES = (
    "google-contacts",
    "outlook",
    "hubspot",
    "salesforce",
    "dolibarr",
    "odoo",
    "brevo",
    "school-parents",
)
# The number each sample person's row gives (the first mobile of its phone columns);
# Farid (6) has landlines only and is rejected.
NUMBERS = {1: "33612345601", 2: "33781234502", 3: "33612345603", 4: "33612345604", 5: "33612345605"}
NUMBERS |= {7: "33612345607", 8: "33612345608"}
NO_LIMIT = PlanOptions(None, None, False)


def _init(tmp_path: Path, export: Path, *extra: str) -> tuple[Path, str]:
    mapping = tmp_path / f"{export.stem}.yaml"
    result = CliRunner().invoke(cli, ["init", str(export), "-o", str(mapping), "--force", *extra])
    assert result.exit_code == 0, result.output
    return mapping, result.output


def _sync(sandbox: Sandbox, tmp_path: Path, export: Path, mapping: Path) -> dict[str, set[str]]:
    settings = ConnectionSettings(user="sandbox", api_key="sandbox-key", base_url=sandbox.url, retry=FAST_RETRY)
    report = run_sync(export, mapping, tmp_path / "state.sqlite", settings, plan_options=NO_LIMIT)
    assert report.exit_code == 0
    groups: dict[str, set[str]] = {}
    for group, number in sandbox.store.memberships():
        groups.setdefault(group, set()).add(number)
    return groups


def test_every_ready_mapping_is_shipped_and_loads() -> None:
    assert tuple(system.name for system in SYSTEMS) == NAMES
    for name in NAMES:
        mapping = load_mapping(READY_DIR / f"{name}.yaml")
        assert mapping.groups.always, name  # one group for everyone
        text = (READY_DIR / f"{name}.yaml").read_text(encoding="utf-8")
        assert text.startswith("# "), name  # opens with how to make the export
        top = ROOT / "mappings" / f"{name}.yaml"
        assert top.read_text(encoding="utf-8") == text, f"mappings/{name}.yaml differs from the packaged one"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_synced_then_changed(name: str, sandbox: Sandbox, tmp_path: Path) -> None:
    sample = SAMPLES[name]
    export = READY_SAMPLES / name
    mapping, output = _init(tmp_path, export)
    assert f"the ready mapping {sample.system!r}" in output
    everyone = load_mapping(mapping).groups.always[0]
    expected = {pid for pid in NUMBERS if not (pid == 4 and sample.has_opt_out)}
    account = _sync(sandbox, tmp_path, export, mapping)
    assert account[everyone] == {NUMBERS[pid] for pid in expected}
    assert account["VIP"] == {NUMBERS[1], NUMBERS[5]}

    later = write_sample(sample, next_night(PEOPLE, sample.has_opt_out), tmp_path / f"later{export.suffix}")
    account = _sync(sandbox, tmp_path, later, mapping)
    expected -= {8, 1} if sample.has_opt_out else {8}
    numbers = {NUMBERS[pid] for pid in expected - {3}} | {"33612345633"}
    assert account[everyone] == numbers
    assert account["VIP"] == ({NUMBERS[5]} if sample.has_opt_out else {NUMBERS[1], NUMBERS[5]})


def test_school_list_synced_then_changed(sandbox: Sandbox, tmp_path: Path) -> None:
    mapping, output = _init(tmp_path, READY_SAMPLES / "school-parents.xlsx")
    assert "the ready mapping 'school-parents'" in output
    account = _sync(sandbox, tmp_path, READY_SAMPLES / "school-parents.xlsx", mapping)
    martin = {"33612345671", "33612345672"}
    assert account["Toute l'école"] == {*martin, "33781234567", "33611111111", "33622334455"}
    assert account["CM1"] == {*martin, "33781234567"}  # the Petit family has not consented
    assert account["CE2"] == martin
    # each class's record names its own child
    fields = sandbox.store.memberships()
    assert fields[("CM1", "33612345671")]["v1"] == "Léa" and fields[("CE2", "33612345671")]["v1"] == "Hugo"

    later = write_school(school_next_night(SCHOOL), tmp_path / "later.xlsx")
    account = _sync(sandbox, tmp_path, later, mapping)
    assert account["Toute l'école"] == {*martin, "33622334456"}
    assert "CM2" in account and account["CM2"] == {"33622334456"}


@pytest.mark.parametrize("name", [*sorted(SAMPLES), "school-parents.xlsx"])
def test_renamed_headers_reach_most_contacts(name: str, tmp_path: Path) -> None:
    """Without any known column name, the guessed mapping finds ≥ 90 % of the contacts."""
    export = READY_SAMPLES / name
    ready, _ = _init(tmp_path, export)
    reached = set(read_desired(export, ready).state.contacts["numero"])
    frame = read_source(export).frame
    renamed = tmp_path / "renamed.csv"
    frame.rename(columns={c: f"Colonne {i}" for i, c in enumerate(frame.columns)}).to_csv(renamed, index=False)
    guessed, output = _init(tmp_path, renamed)
    assert "no known system recognised" in output
    found = set(read_desired(renamed, guessed).state.contacts["numero"])
    assert len(found & reached) >= 0.9 * len(reached)


def test_init_guesses_from_named_columns(tmp_path: Path) -> None:
    export = tmp_path / "adherents.csv"
    export.write_text(
        "N° adhérent;Nom;Prénom;Portable;Ville;Groupes;Désinscrit SMS\n"
        "A1;Martin;Alice;06 12 34 56 01;Lyon;Bureau, Bénévoles;Non\n"
        "A2;Petit;Bruno;07 81 23 45 02;Lyon;Bénévoles;Oui\n"
        "A3;Durand;Chloé;06 12 34 56 03;Paris;Bureau;Non\n",
        encoding="utf-8",
    )
    mapping, output = _init(tmp_path, export)
    text = mapping.read_text(encoding="utf-8")
    assert 'numero: "Portable"' in text and "100% of its 3 filled cells are phone numbers" in text
    assert 'identity: "N° adhérent"' in text
    assert '{column: "Désinscrit SMS", is: false}' in text
    assert '{column: "Groupes", separator: ","}' in text
    account = read_desired(export, mapping).state
    assert set(account.contacts["numero"]) == {"33612345601", "33612345603"}  # Bruno opted out
    assert "first contacts:" in output and "next: sms123-sync sync" in output


def test_init_without_phone_column_exits_2(tmp_path: Path) -> None:
    export = tmp_path / "emails.csv"
    export.write_text("Nom;Email;Ville\nMartin;a@example.org;Lyon\nPetit;b@example.org;Paris\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["init", str(export), "-o", str(tmp_path / "m.yaml")])
    assert result.exit_code == 2
    assert "no column holds phone numbers" in result.output and "'Email'" in result.output
    assert not (tmp_path / "m.yaml").exists()


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    target = tmp_path / "mapping.yaml"
    target.write_text("# mine\n", encoding="utf-8")
    args = ["init", str(READY_SAMPLES / "outlook.csv"), "-o", str(target)]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 2 and "--force" in refused.output
    assert target.read_text(encoding="utf-8") == "# mine\n"
    forced = CliRunner().invoke(cli, [*args, "--force"])
    assert forced.exit_code == 0 and "Outlook" in forced.output


def test_init_from_names_the_system(tmp_path: Path) -> None:
    mapping, output = _init(tmp_path, READY_SAMPLES / "outlook-fr.csv", "--from", "outlook")
    assert "Outlook (French) export (named with --from)" in output
    text = mapping.read_text(encoding="utf-8")
    assert '"Tél. mobile"' in text and '"%d/%m/%Y"' in text and '"Mobile Phone"' not in text


def test_mappings_lists_the_ready_ones() -> None:
    result = CliRunner().invoke(cli, ["mappings"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()[: len(NAMES)]] == list(NAMES)


def test_m_name_reads_the_ready_mapping_and_a_file_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    export = shutil.copy(READY_SAMPLES / "outlook.csv", tmp_path / "contacts.csv")
    assert resolve_mapping("outlook") == BY_NAME["outlook"].path
    assert resolve_mapping("outlook.yaml") == BY_NAME["outlook"].path
    named = CliRunner().invoke(cli, ["validate", str(export), "-m", "outlook"])
    assert named.exit_code == 0, named.output
    assert "contacts" in named.output
    (tmp_path / "outlook").write_text("fields: {numero: Nowhere}\ngroups: {always: [A]}\n", encoding="utf-8")
    own = CliRunner().invoke(cli, ["validate", str(export), "-m", "outlook"])
    assert own.exit_code == 2 and "'Nowhere'" in own.output  # the file in the folder was read
    missing = CliRunner().invoke(cli, ["validate", str(export), "-m", "no-such-system"])
    assert missing.exit_code == 2 and "no-such-system" in missing.output


def test_ready_mapping_on_a_translated_export_points_to_init() -> None:
    result = CliRunner().invoke(cli, ["validate", str(READY_SAMPLES / "outlook-fr.csv"), "-m", "outlook"])
    assert result.exit_code == 2
    assert "did you mean 'Catégories'?" in result.output
    assert "run `sms123-sync init" in result.output
