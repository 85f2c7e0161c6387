"""The command line in the reader's language: errors, reject lines and counts in French
with --lang fr or a French locale, English unchanged, and --json the same in both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sms123_sync import i18n
from sms123_sync.cli import cli
from sms123_sync.errors import InputError
from sms123_sync.sources import read_source

FRENCH = {"LANG": "fr_FR.UTF-8"}
NBSP = "\u00a0"


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A first sync done in the sandbox; the second export moves a number, drops a contact
    and has one row whose number cannot be read (row 4)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(
        "identity: Id\nfields: {numero: Tel, nom: Nom}\ngroups: {column: G, separator: ','}\n", encoding="utf-8"
    )
    (tmp_path / "night1.csv").write_text(
        "Id;Tel;Nom;G\n1;0612345671;Martin;A\n2;0612345672;Durand;A\n3;0612345673;Petit;VIP\n", "utf-8"
    )
    (tmp_path / "night2.csv").write_text(
        "Id;Tel;Nom;G\n1;0612345671;Martin;A\n2;0756123456;Durand;A\n5;0612;Moreau;A\n", "utf-8"
    )
    first = _run("sync", "night1.csv", "-m", "m.yaml", "--sandbox", "--yes")
    assert first.exit_code == 0, first.output
    return tmp_path


def _dry_run(*extra: str, env: dict[str, str] | None = None) -> Result:
    result = _run(
        "sync", "night2.csv", "-m", "m.yaml", "--sandbox", "--dry-run", "--max-delete", "none", *extra, env=env
    )
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("how", ["option", "locale"])
def test_a_dry_run_in_french_says_its_rejects_and_counts_in_french(workspace: Path, how: str) -> None:
    result = _dry_run("--lang", "fr") if how == "option" else _dry_run(env=FRENCH)
    lines = result.output.splitlines()
    assert f"1 ligne rejetée{NBSP}:" in lines  # one row: singular, not "1 lignes"
    reject = next(line for line in lines if "[invalid-phone]" in line)
    assert reject == (
        f"  [invalid-phone] night2.csv, ligne 4, colonne «{NBSP}Tel{NBSP}», valeur «{NBSP}0612{NBSP}»{NBSP}: "
        "numéro de téléphone invalide. Corrigez le numéro dans le CRM."
    )
    assert f"plan{NBSP}: 3 opérations" in lines
    assert f"(numéro changé dans l’export){NBSP}: numéro 06 12 34 56 72 → 07 56 12 34 56" in result.output
    assert "rows read" not in result.output and "rejected" not in result.output


def test_a_dry_run_in_english_is_unchanged(workspace: Path) -> None:
    result = _dry_run("--lang", "en", env=FRENCH)  # the option wins over the locale
    lines = result.output.splitlines()
    assert "1 rejected row:" in lines
    assert (
        "  [invalid-phone] night2.csv, row 4, column 'Tel', value '0612': not a valid phone number for region FR "
        "or the French overseas regions; fix the number in the CRM" in lines
    )
    assert "plan: 3 operations" in lines
    assert "(phone number changed): number 33612345672 → 33756123456" in result.output


def test_a_count_of_one_is_singular_in_english_too(workspace: Path) -> None:
    (workspace / "two.csv").write_text("Id;Tel;Nom;G\n1;0612;Martin;A\n2;0613;Durand;A\n", "utf-8")
    result = _run("validate", "two.csv", "-m", "m.yaml", "--rejects", "r.csv")
    assert result.exit_code == 0, result.output
    assert "2 rejected rows:" in result.output and "wrote 2 rejects to r.csv" in result.output
    french = _run("validate", "two.csv", "-m", "m.yaml", "--rejects", "r.csv", "--lang", "fr")
    assert french.exit_code == 0, french.output
    assert f"2 lignes rejetées{NBSP}:" in french.output and "2 rejets écrits dans r.csv" in french.output


@pytest.mark.parametrize("how", ["option", "locale"])
def test_a_bad_export_is_refused_in_french_naming_file_row_and_column(workspace: Path, how: str) -> None:
    (workspace / "dup.csv").write_text("Id;Tel;Nom;Tel\n1;0612345671;Martin;0612345672\n", "utf-8")
    args = ["validate", "dup.csv", "-m", "m.yaml"]
    result = _run(*args, "--lang", "fr") if how == "option" else _run(*args, env=FRENCH)
    assert result.exit_code == 2
    assert result.output == (
        f"erreur{NBSP}: dup.csv{NBSP}: ligne 1{NBSP}: le nom de colonne 'Tel' apparaît deux fois{NBSP}; "
        "renommez l'une des deux\n"
    )
    english = _run(*args, env=FRENCH | {"LC_ALL": "C.UTF-8"})  # LC_ALL decides before LANG
    assert english.exit_code == 2
    assert english.output == "error: dup.csv: row 1: the column name 'Tel' appears twice; rename one\n"


@pytest.mark.parametrize("how", ["option", "locale"])
def test_a_bad_number_to_adopt_is_refused_in_french_naming_its_value(workspace: Path, how: str) -> None:
    (workspace / "adopt.csv").write_text("numero;groupe\n0612345678;A\n06 12 AB;B\n", "utf-8")
    args = ["state", "import", "adopt.csv"]
    result = _run(*args, "--lang", "fr") if how == "option" else _run(*args, env=FRENCH)
    assert result.exit_code == 2
    assert result.output == (
        f"erreur{NBSP}: adopt.csv, ligne 3, colonne 'numero', valeur '06 12 AB'{NBSP}: "
        f"numéro de téléphone non valide{NBSP}; corrigez ou supprimez la ligne\n"
    )
    assert "Traceback" not in result.output


def test_an_option_error_speaks_the_language_chosen_before_it(workspace: Path) -> None:
    """--lang is read first, so a bad value of another option is refused in French."""
    result = _run("plan", "night2.csv", "-m", "m.yaml", "--max-delete", "beaucoup", "--lang", "fr")
    assert result.exit_code == 2
    assert "'beaucoup'" + NBSP + ": donnez un nombre (500), une proportion (25%) ou none" in result.output


def test_json_errors_stay_english_whatever_the_language(workspace: Path) -> None:
    outputs = {}
    for lang in ("fr", "en"):
        result = _run("plan", "missing.csv", "-m", "m.yaml", "--json", "--lang", lang)
        assert result.exit_code == 2
        outputs[lang] = json.loads(result.stdout)
        shown = result.stderr
        assert shown == (
            f"erreur{NBSP}: missing.csv{NBSP}: fichier introuvable{NBSP}; vérifiez le chemin\n"
            if lang == "fr"
            else "error: missing.csv: no such file; check the path\n"
        )
    assert outputs["fr"] == outputs["en"]
    assert outputs["en"]["error"] == "missing.csv: no such file; check the path"


def test_json_with_rejects_is_the_same_in_every_language(workspace: Path) -> None:
    outputs = {}
    for lang in ("fr", "en"):
        result = _dry_run("--json", "--lang", lang)
        summary = json.loads(result.stdout)
        summary["run"].pop("started")
        outputs[lang] = summary
        assert summary["rejects"] == 1
    assert outputs["fr"] == outputs["en"]


def test_an_error_is_said_when_shown_in_the_language_asked() -> None:
    """A library error keeps its facts and is said in the reader's language when shown;
    its English stays what --json and the log file carry."""
    with i18n.use("fr"), pytest.raises(InputError) as caught:
        read_source("nowhere/export.csv")
    error = caught.value
    with i18n.use("fr"):
        assert str(error) == f"nowhere/export.csv{NBSP}: fichier introuvable{NBSP}; vérifiez le chemin"
    with i18n.use("en"):
        assert str(error) == "nowhere/export.csv: no such file; check the path"
    assert error.english() == "nowhere/export.csv: no such file; check the path"


_PROBE = """
import sys
from sms123_sync.cli import main
sys.argv = ["sms123-sync", "mappings"]
try:
    main()
except SystemExit:
    pass
print("BABEL=" + str("babel" in sys.modules))
"""


@pytest.mark.parametrize(("lang", "loaded"), [("C.UTF-8", False), ("fr_FR.UTF-8", True)])
def test_english_reads_no_catalog(tmp_path: Path, lang: str, loaded: bool) -> None:
    """English is the msgids themselves: a command in English never loads Babel to read a
    catalog (start-up stays light); in French it does, which shows the probe sees it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMS123_", "LC_", "LANG"))}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=tmp_path,
        env={**env, "LANG": lang},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert f"BABEL={loaded}" in proc.stdout, proc.stdout + proc.stderr
    assert ("utilisation" in proc.stdout) is loaded  # the last line of `mappings`, translated


def test_a_bad_option_in_json_stays_english(workspace: Path) -> None:
    outputs = {}
    for lang in ("fr", "en"):
        result = _run("plan", "night2.csv", "-m", "m.yaml", "--max-delete", "lots", "--json", "--lang", lang)
        assert result.exit_code == 2
        outputs[lang] = json.loads(result.stdout)
    assert outputs["fr"] == outputs["en"]
    assert outputs["en"]["error"] == "Invalid value for --max-delete: 'lots': give a count (500), a share (25%) or none"
