"""The command line in the reader's language: errors, reject lines and counts in French
with --lang fr or a French locale, English unchanged, and --json the same in both."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner, Result

from sms123_sync import click_i18n, i18n
from sms123_sync.cli import cli
from sms123_sync.errors import InputError, MappingError, StateError
from sms123_sync.reconcile.state import StateStore
from sms123_sync.sandbox.server import DEFAULT_KEY, DEFAULT_USER, Faults, Sandbox
from sms123_sync.sources import read_source
from tests.helpers import write_nights

FRENCH = {"LANG": "fr_FR.UTF-8"}
NBSP = "\u00a0"


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, prog_name="sms123-sync")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A first sync done in the sandbox; the second export moves a number, drops a contact
    and has one row whose number cannot be read (row 4)."""
    monkeypatch.chdir(tmp_path)
    write_nights(tmp_path, "Id;Tel;Nom;G\n1;0612345671;Martin;A\n2;0756123456;Durand;A\n5;0612;Moreau;A\n")
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


# -- the state file, stops, output paths ------------------------------------------------


def test_a_state_file_that_is_a_folder_is_refused_in_french(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("d").mkdir()
    result = _run("state", "show", "--state", "d", "--lang", "fr")
    assert result.exit_code == 2
    assert result.output == (
        f"erreur{NBSP}: d{NBSP}: c’est un dossier, pas un fichier d’état{NBSP}; "
        "passez --state avec le chemin d’un fichier\n"
    )
    english = _run("state", "show", "--state", "d", env=FRENCH | {"LC_ALL": "C.UTF-8"})
    assert english.exit_code == 2
    assert english.output == "error: d: is a folder, not a state file; pass --state with a file path\n"


def test_a_newer_state_file_is_refused_in_french(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    StateStore("s.sqlite").close()
    with sqlite3.connect("s.sqlite") as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.close()
    result = _run("runs", "--state", "s.sqlite", env=FRENCH)
    assert result.exit_code == 2
    assert result.output == (
        f"erreur{NBSP}: s.sqlite{NBSP}: écrit par une version plus récente de sms123-sync (schéma 99){NBSP}; "
        "mettez l’outil à jour\n"
    )


def test_a_held_lock_is_said_in_french_and_logged_in_english(workspace: Path) -> None:
    with StateStore(".sms123-sync/state.sqlite") as held:
        held.acquire()
        result = _run("sync", "night2.csv", "-m", "m.yaml", "--sandbox", "--yes", "--lang", "fr", "--json")
    assert result.exit_code == 2
    assert re.fullmatch(
        f"erreur{NBSP}: \\.sms123-sync/state\\.sqlite est utilisé par pid {os.getpid()} on .* since .*{NBSP}; "
        "attendez qu’il ait fini\n",
        result.stderr,
    ), result.stderr
    assert re.fullmatch(
        r"\.sms123-sync/state\.sqlite is in use by pid \d+ on .*; wait for it to finish",
        json.loads(result.stdout)["error"],
    )


def test_bad_report_paths_are_refused_in_french_and_english_in_json(workspace: Path) -> None:
    (workspace / "out.csv").mkdir()
    args = ["plan", "night2.csv", "-m", "m.yaml", "--report", "out", "--report", "out.csv", "--json"]
    for lang in ("fr", "en"):
        result = _run(*args, "--lang", lang)
        assert result.exit_code == 2
        assert json.loads(result.stdout)["error"] == (
            "--report out: unknown format '(none)'; use one of .csv, .html, .json, .xlsx; "
            "--report out.csv: out.csv is a folder; give a file name"
        )
        assert result.stderr == (
            f"erreur{NBSP}: --report out{NBSP}: format '(none)' inconnu{NBSP}; utilisez l’un de ces formats{NBSP}: "
            f".csv, .html, .json, .xlsx; --report out.csv{NBSP}: out.csv est un dossier{NBSP}; "
            "donnez un nom de fichier\n"
            if lang == "fr"
            else "error: --report out: unknown format '(none)'; use one of .csv, .html, .json, .xlsx; "
            "--report out.csv: out.csv is a folder; give a file name\n"
        )


def test_a_deadline_stop_is_said_in_french(workspace: Path, sandbox: Sandbox) -> None:
    lines = "".join(f"{i};06{20_000_000 + i};Nom{i};A\n" for i in range(40))
    (workspace / "many.csv").write_text("Id;Tel;Nom;G\n" + lines, "utf-8")
    sandbox.faults = Faults(latency_ms=30)
    args = ["sync", "many.csv", "-m", "m.yaml", "--state", "s.sqlite", "--yes", "--base-url", sandbox.url]
    args += ["--user", DEFAULT_USER, "--concurrency", "1", "--deadline", "0.3s", "--lang", "fr"]
    result = _run(*args, env={"SMS123_API_KEY": DEFAULT_KEY})
    assert result.exit_code == 1, result.output
    stop = re.search(
        f"l’heure limite de l’exécution est passée{NBSP}: (\\d+) opérations? faites?{NBSP}; "
        f"non lancées{NBSP}: (\\d+){NBSP}; la prochaine exécution reprendra à partir de là",
        result.output,
    )
    assert stop is not None, result.output
    assert int(stop[2]) > 0
    assert "deadline" not in result.output


# -- the mapping's problems and init's guesses --------------------------------------------

BAD_MAPPING = (
    "fields: {numero: Telephone, nom: [5]}\n"
    "groups: {column: G, level: first}\n"
    "mode: mirorr\n"
    "groupz: 1\n"
    "filter:\n"
    "  - {column: Nom, is: peut-etre}\n"
)


def test_mapping_problems_are_said_in_french_with_our_words_not_pydantics(workspace: Path) -> None:
    (workspace / "bad.yaml").write_text(BAD_MAPPING, encoding="utf-8")
    result = _run("validate", "night2.csv", "-m", "bad.yaml", "--lang", "fr")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"erreur{NBSP}: bad.yaml{NBSP}: 6 problèmes dans le mapping{NBSP}:",
        f"  - ligne 1{NBSP}: fields.nom{NBSP}: la valeur doit être un texte ou une table de clés ({{clé: valeur}})"
        f"{NBSP}; trouvé une liste",
        f"  - ligne 2{NBSP}: groups{NBSP}: level: first demande un level_separator "
        "(le texte entre les niveaux, comme '/')",
        f"  - ligne 6{NBSP}: filter[0].is{NBSP}: la valeur doit être un booléen (true ou false){NBSP}; "
        "trouvé 'peut-etre'",
        f"  - ligne 3{NBSP}: mode{NBSP}: la valeur doit être 'mirror' ou 'upsert'{NBSP}; trouvé 'mirorr'",
        f"  - ligne 4{NBSP}: clé 'groupz' inconnue{NBSP}; vouliez-vous dire 'groups'{NBSP}?",
        f"  - fields.numero{NBSP}: la colonne 'Telephone' n’est pas dans night2.csv{NBSP}; "
        f"le fichier a{NBSP}: 'Id', 'Tel', 'Nom', 'G'",
    ]
    english = _run("validate", "night2.csv", "-m", "bad.yaml", "--lang", "en")
    assert english.exit_code == 2
    assert english.output.splitlines()[1:] == [
        "  - line 1: fields.nom: Input should be a valid string or a table of keys ({key: value}); got a list",
        "  - line 2: groups: level: first needs a level_separator (the text between levels, such as '/')",
        "  - line 6: filter[0].is: Input should be a valid boolean; got 'peut-etre'",
        "  - line 3: mode: Input should be 'mirror' or 'upsert'; got 'mirorr'",
        "  - line 4: unknown key 'groupz'; did you mean 'groups'?",
        "  - fields.numero: column 'Telephone' is not in night2.csv; the file has: 'Id', 'Tel', 'Nom', 'G'",
    ]


def test_mapping_problems_stay_english_for_callers() -> None:
    from sms123_sync.mapping.model import parse_mapping

    text = "fields: {numero: Tel}\nfields: {numero: Tel}\ngroups: {columns: [{colum: G}], level: last}\n"
    with i18n.use("fr"), pytest.raises(MappingError) as duplicate:
        parse_mapping(text, "m.yaml")
    assert duplicate.value.problems == ["line 2: key 'fields' appears twice in one mapping (first on line 1); keep one"]
    with i18n.use("fr"), pytest.raises(MappingError) as schema:
        parse_mapping("fields: {numero: Tel}\ngroups: {columns: [{colum: G}, 5]}\nmode: 3\n", "m.yaml")
    assert schema.value.problems == [
        "line 2: groups.columns: [0]: column: required key is missing; [0]: unknown key 'colum'; "
        "did you mean 'column'?; "
        "[1] is 5; give a column name or {column: …, separator: …}",
        "line 3: mode: Input should be 'mirror' or 'upsert'; got 3",
    ]
    with i18n.use("fr"):
        assert [str(text) for text in schema.value.texts] == [
            f"ligne 2{NBSP}: groups.columns{NBSP}: [0]{NBSP}: column{NBSP}: clé obligatoire absente; "
            f"[0]{NBSP}: clé 'colum' inconnue{NBSP}; vouliez-vous dire 'column'"
            f"{NBSP}?; [1] est 5{NBSP}; donnez un nom de colonne ou {{column: …, separator: …}}",
            f"ligne 3{NBSP}: mode{NBSP}: la valeur doit être 'mirror' ou 'upsert'{NBSP}; trouvé 3",
        ]


def test_init_explains_its_guesses_in_french(workspace: Path) -> None:
    (workspace / "crm.csv").write_text(
        "Id;Portable;Nom;Ville;Groupe\n1;0612345671;Martin;Lyon;A\n2;0612345672;Durand;Paris;B\n"
        "3;0612345673;Petit;Nice;A\n",
        "utf-8",
    )
    result = _run("init", "crm.csv", "-o", "crm.yaml", "--lang", "fr")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1:6] == [
        f"  phone{NBSP}: Portable (100% de ses 3 cellules remplies sont des numéros de téléphone, 100% des mobiles)",
        f"  nom{NBSP}: Nom (est nommée comme un nom)",
        f"  v1{NBSP}: Ville (est nommée comme la ville, pour {{v1}} dans les messages)",
        f"  identity{NBSP}: Id (nommée comme un identifiant{NBSP}; chaque cellule remplie et différente)",
        f"  groups{NBSP}: Groupe (nommée comme des groupes{NBSP}; 2 valeurs distinctes)",
    ]
    # The mapping file keeps English comments, whatever the reader's language.
    assert '# phone column "Portable": 100% of its 3 filled cells are phone numbers, 100% mobiles' in (
        workspace / "crm.yaml"
    ).read_text(encoding="utf-8")
    english = _run("init", "crm.csv", "-o", "crm.yaml", "--force", "--lang", "en")
    assert english.exit_code == 0, english.output
    assert "  nom: Nom (is named like a name)" in english.output.splitlines()


# -- click's own words ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "french", "english"),
    [
        (["validate", "--nope"], "Option '--nope' inconnue.", "No such option '--nope'."),
        (["validate"], "Argument manquant 'SOURCE'.", "Missing argument 'SOURCE'."),
        (["validate", "x.csv"], "Option manquante '--mapping' / '-m'.", "Missing option '--mapping' / '-m'."),
        (
            ["validate", "x", "-m", "m.yaml", "--show", "lots"],
            f"Valeur non valide pour '--show'{NBSP}: 'lots' n’est pas une valeur valide (integer range).",
            "Invalid value for '--show': 'lots' is not a valid integer range.",
        ),
        (["validate", "x", "y", "-m", "m.yaml"], f"Argument en trop{NBSP}: (y)", "Got unexpected extra argument (y)"),
    ],
    ids=["unknown-option", "missing-argument", "missing-option", "bad-value", "extra-argument"],
)
def test_click_usage_errors_in_french(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], french: str, english: str
) -> None:
    monkeypatch.chdir(tmp_path)
    for how in ("locale", "option"):
        result = _run(*args, env=FRENCH) if how == "locale" else _run("validate", "--lang", "fr", *args[1:])
        assert result.exit_code == 2
        assert result.output == (
            f"Utilisation{NBSP}: sms123-sync validate [OPTIONS] SOURCE\n"
            f"Essayez «{NBSP}sms123-sync validate --help{NBSP}» pour l’aide.\n\n"
            f"Erreur{NBSP}: {french}\n"
        ), how
    result = _run(*args, env=FRENCH | {"LC_ALL": "C.UTF-8"})
    assert result.exit_code == 2
    assert result.output == (
        "Usage: sms123-sync validate [OPTIONS] SOURCE\nTry 'sms123-sync validate --help' for help.\n\n"
        f"Error: {english}\n"
    )


def test_an_unknown_command_and_a_suggestion_in_french() -> None:
    result = _run("stat", env=FRENCH)
    assert result.exit_code == 2
    assert result.output.endswith(f"Erreur{NBSP}: Commande 'stat' inconnue. Vouliez-vous dire 'state'{NBSP}?\n")
    assert result.output.startswith(f"Utilisation{NBSP}: sms123-sync [OPTIONS] COMMAND [ARGS]...\n")


def test_help_frame_in_french() -> None:
    result = _run("state", "show", "--help", "--lang", "fr")
    assert result.exit_code == 0
    assert result.output.startswith(f"Utilisation{NBSP}: sms123-sync state show [OPTIONS]\n")
    assert f"[par défaut{NBSP}:" in result.output and "[default:" not in result.output
    english = _run("state", "show", "--help", env=FRENCH | {"LC_ALL": "C"})
    assert english.exit_code == 0 and "[default:" in english.output


# -- --help: our own texts in the reader's language -------------------------------------------

#: Per command: lines its --help shows in French, and the same lines in English.
HELP_LINES: dict[str, tuple[list[str], list[str]]] = {
    "": (
        [
            "  Tenir les groupes de contacts 123-SMS.NET à jour d’après un export du CRM, et",
            f"Options{NBSP}:",
            f"Commandes{NBSP}:",
            "  --version       Afficher la version et quitter.",
            "  -h, --help      Afficher ce message et quitter.",
            "  balance   Afficher le solde du compte (crédits SMS).",
            "  state     Consulter ou modifier le dernier état connu du compte.",
        ],
        [
            "  Keep 123-SMS.NET contact groups in step with a CRM export, and send SMS.",
            "Options:",
            "Commands:",
            "  --version       Show the version and exit.",
            "  -h, --help      Show this message and exit.",
            "  balance   Show the account's balance (SMS credits).",
            "  state     Inspect or change the last-known state of the account.",
        ],
    ),
    "sync": (
        [
            f"  Mettre les groupes du compte en accord avec SOURCE{NBSP}: prévoir, confirmer,",
            "  --dry-run                    Prévoir seulement (comme la commande plan).",
            "  --rate FLOAT RANGE           Au plus ce nombre de requêtes par seconde.",
            "  -h, --help                   Afficher ce message et quitter.",
        ],
        [
            "  Make the account's groups match SOURCE: plan, confirm, apply.",
            "  --dry-run                    Plan only (same as the plan command).",
            "  --rate FLOAT RANGE           At most this many requests per second.",
            "  -h, --help                   Show this message and exit.",
        ],
    ),
    "plan": (
        [
            "  Montrer ce qu’une synchronisation changerait, sans aucun appel à l’API.",
            "  -v, --verbose          Lister chaque changement, pas seulement les premiers.",
        ],
        [
            "  Show what a sync would change, without any API call.",
            "  -v, --verbose          List every change, not the first ones.",
        ],
    ),
    "send": (
        [
            f"  --flash                      SMS flash{NBSP}: affiché à l’écran, non enregistré.",
            "  --tts                        Message vocal lu sur un téléphone fixe.",
            "  --sandbox                    Utiliser un bac à sable local (données dans",
        ],
        [
            "  --flash                      Flash SMS: shown on screen, not stored.",
            "  --tts                        Voice message read to a landline.",
            "  --sandbox                    Talk to a local sandbox (data in",
        ],
    ),
    "state import": (
        [
            "  Reprendre les contacts qui existent déjà dans le compte (CSV avec numero[,",
            "  --group TEXT    Mettre chaque ligne dans ce groupe (quand le CSV n’a pas de",
            f"                  colonne «{NBSP}groupe{NBSP}»).",
        ],
        [
            "  Adopt contacts that already exist in the account (CSV with numero[, groupe,",
            "  --group TEXT    Put every row in this group (when the CSV has no 'groupe'",
            "  --region TEXT   Region for numbers written nationally.  [default: FR]",
        ],
    ),
}


@pytest.mark.parametrize("command", list(HELP_LINES), ids=lambda c: c or "top-level")
@pytest.mark.parametrize("how", ["option", "locale", "top-level-option"])
def test_help_texts_in_french(command: str, how: str) -> None:
    words = command.split()
    if how == "option":
        result = _run(*words, "--help", "--lang", "fr")
    elif how == "locale":
        result = _run(*words, "--help", env=FRENCH)
    else:
        result = _run("--lang", "fr", *words, "--help")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    french = HELP_LINES[command][0]
    assert [line for line in french if line not in lines] == []
    assert "Show this message and exit." not in result.output


@pytest.mark.parametrize("command", list(HELP_LINES), ids=lambda c: c or "top-level")
def test_help_texts_in_english_are_unchanged(command: str) -> None:
    words = command.split()
    for result in (
        _run(*words, "--help", env=FRENCH | {"LC_ALL": "C.UTF-8"}),
        _run(*words, "--help", "--lang", "en", env=FRENCH),
        _run("--lang", "en", *words, "--help", env=FRENCH),
    ):
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert [line for line in HELP_LINES[command][1] if line not in lines] == []
        assert "Afficher" not in result.output


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            found += _commands(sub, (*path, name))
    return found


def _options_page(command: click.Command, ctx: click.Context, language: str) -> str:
    """The options part of ``command``'s --help in ``language``, one line per option."""
    formatter = click.HelpFormatter(width=100_000, max_width=100_000)
    with i18n.use(language):
        command.format_options(ctx, formatter)
    return formatter.getvalue()


def test_every_command_and_option_has_a_french_help_text() -> None:
    """A new command or option whose help is not marked for the catalog, or not translated,
    fails here: every one shows French in French, English in English."""
    with i18n.catalog_path("fr").open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    untranslated, english_in_french = [], []
    for path, command in _commands(cli):
        where = " ".join(("sms123-sync", *path))
        ctx = click.Context(command, info_name=where)
        assert isinstance(command, click_i18n.Command), where
        options = click_i18n.options_of(command, ctx)
        assert command.help and options, where
        for name, text in [(where, command.help), *((f"{where} {o.name}", o.help) for o in options)]:
            entry = catalog.get(click_i18n.help_msgid(text)) if text else None
            if entry is None or not entry.string or entry.fuzzy:
                untranslated.append(name)
        pages = {language: _options_page(command, ctx, language) for language in ("en", "fr")}
        with i18n.use("en"):
            short_en = command.get_short_help_str()
        with i18n.use("fr"):
            short_fr = command.get_short_help_str()
            translations = [click_i18n.help_in_language(o.help) if o.help else "" for o in options]
        if short_fr == short_en:
            english_in_french.append(where)
        for option, translation in zip(options, translations, strict=True):
            english = option.help
            if not english:
                continue  # listed as untranslated above
            assert english in pages["en"] and translation not in pages["en"], f"{where} {option.name}"
            if english in pages["fr"] or translation not in pages["fr"]:
                english_in_french.append(f"{where} {option.name}")
    assert untranslated == [] and english_in_french == []


def test_help_texts_stay_english_on_the_click_objects() -> None:
    """docs/cli.md and anything else that reads click's objects see English after a French --help."""
    assert _run("send", "--help", "--lang", "fr").exit_code == 0
    send = cli.commands["send"]
    assert send.help is not None and send.help.startswith("Send an SMS to numbers")
    flash = next(p for p in send.params if p.name == "flash")
    assert isinstance(flash, click.Option) and flash.help == "Flash SMS: shown on screen, not stored."


def test_every_click_message_we_translate_is_clicks_own() -> None:
    """A click release that rewords a message fails here, not silently back in English."""
    source = "".join(path.read_text("utf-8") for path in Path(click.__file__).parent.glob("*.py"))
    ours = [
        *click_i18n.CLICK_MESSAGES,
        *click_i18n.CLICK_HELP,
        *click_i18n.CLICK_PLURALS,
        *filter(None, click_i18n.CLICK_PLURALS.values()),
    ]
    assert [m for m in ours if json.dumps(m) not in source] == []
    assert all(module._ is click_i18n.click_gettext for module in click_i18n.MODULES)


# -- --lang on every command that speaks -----------------------------------------------------


def test_runs_and_state_show_take_lang(workspace: Path) -> None:
    runs = _run("runs", "--lang", "fr")
    assert runs.exit_code == 0, runs.output
    assert "code de sortie 0" in runs.output
    # Changes in words and the date as the language writes it, not codes and ISO time.
    assert "2 nouveaux groupes, 3 contacts ajoutés" in runs.output, runs.output
    assert re.search(r"#1 \d{1,2} \w+\.? 20\d\d", runs.output), runs.output
    english = _run("runs", "--lang", "en")
    assert "2 new groups, 3 contacts added; exit 0" in english.output, english.output
    shown = _run("state", "show", "--lang", "fr")
    assert shown.exit_code == 0, shown.output
    assert "2 groupes, 3 contacts" in shown.output
    assert f"  A{NBSP}: 2 (créé par sms123-sync)" in shown.output, shown.output
    journal = _run("runs", "show", "1", "--lang", "fr")
    assert journal.exit_code == 0 and f"5 opérations{NBSP}: 5 appliquées" in journal.output, journal.output
    english = _run("state", "show", "--lang", "en", env=FRENCH)
    assert english.exit_code == 0 and "2 groups, 3 contacts" in english.output


def test_a_state_file_changed_under_a_plan_is_said_in_french(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with StateStore(path) as store:
        store.import_members(pd.DataFrame([{"groupe": "A", "numero": "33612345678", "nom": "Martin"}]))
        known = store.load(fields=False)
        with sqlite3.connect(path) as db:  # another run rewrites the record between the load and the plan
            db.execute("UPDATE memberships SET nom = 'X', fhash = fhash + 1")
        db.close()
        with pytest.raises(StateError) as caught:
            known.fields_at(np.array([0]))
    with i18n.use("fr"):
        assert str(caught.value) == (
            f"{path}{NBSP}: le fichier d’état a changé pendant que ce plan était fait "
            f"(une autre exécution de sms123-sync{NBSP}?){NBSP}; relancez la commande"
        )
    assert caught.value.english() == (
        f"{path}: the state file changed while this plan was made (another run of sms123-sync?); run the command again"
    )
