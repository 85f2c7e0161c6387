"""Reports in the reader's language: complete catalogs, French wording and numbers, JSON the
same in every language, and a page that fits a phone in headless Chromium."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.util import pathmatch
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from sms123_sync.cli import cli
from sms123_sync.mapping.problems import Problem, ProblemCode
from sms123_sync.reports import i18n
from sms123_sync.reports.rows import problem_row, problem_rows
from tests.helpers import chromium, headless_chromium, write_nights

ROOT = Path(__file__).parent.parent
REPORTS = ROOT / "sms123_sync" / "reports"
HOSTILE = '<script>alert("x")</script>'
LONG = "Z" * 180  # one unbroken word: must wrap, not push the page sideways
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def _method_map() -> list[tuple[str, str]]:
    """The files babel.cfg sends to the extraction, as ``pybabel extract -F babel.cfg`` reads it."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, _options = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    return list(method_map)


def _source_messages() -> dict[str, Any]:
    """Every translatable text in the code and templates, as Babel extracts it (babel.cfg)."""
    found: dict[str, Any] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "sms123_sync"),
        method_map=[(p.removeprefix("sms123_sync/"), m) for p, m in _method_map()],
        keywords=KEYWORDS,
    ):
        key = message[0] if isinstance(message, tuple) else message
        found[key] = message
    return found


def test_every_message_has_a_french_translation() -> None:
    with i18n.catalog_path("fr").open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    messages = _source_messages()
    assert len(messages) > 100  # the extraction found the texts, not nothing
    missing, bad = [], []
    for key, message in messages.items():
        entry = catalog.get(key)
        translated = entry.string if entry is not None else None
        forms = list(translated) if isinstance(translated, tuple) else [translated]
        if entry is None or not all(forms) or entry.fuzzy:
            missing.append(key)
            continue
        wanted = set(PLACEHOLDER.findall(message[-1] if isinstance(message, tuple) else message))
        if any(set(PLACEHOLDER.findall(str(form))) - wanted for form in forms):
            bad.append(key)  # a translation naming a placeholder the code does not fill
    assert missing == [] and bad == []
    stale = [m.id for m in catalog if m.id and (m.id[0] if isinstance(m.id, tuple) else m.id) not in messages]
    assert stale == []  # run pybabel update (babel.cfg) to drop them


def test_every_module_that_speaks_is_in_the_catalog() -> None:
    """A module that says something through sms123_sync.i18n is extracted by babel.cfg, so
    the test above fails when one of its texts has no French."""
    patterns = [p for p, method in _method_map() if method == "python"]
    speaking = [
        path.relative_to(ROOT).as_posix()
        for path in sorted((ROOT / "sms123_sync").rglob("*.py"))
        if re.search(r"^from sms123_sync(\.reports)?(\.i18n import| import i18n)", path.read_text("utf-8"), re.M)
    ]
    assert "sms123_sync/sources/delimited.py" in speaking and "sms123_sync/cli.py" in speaking
    assert [m for m in speaking if not any(pathmatch(p, m) for p in patterns)] == []


def test_language_is_the_option_else_the_locale_else_english() -> None:
    assert i18n.resolve("fr", {"LANG": "en_GB.UTF-8"}) == "fr"
    assert i18n.resolve(None, {"LANG": "fr_FR.UTF-8"}) == "fr"
    assert i18n.resolve(None, {"LC_ALL": "C.UTF-8", "LANG": "fr_FR.UTF-8"}) == "en"
    assert i18n.resolve(None, {"LANG": "de_DE.UTF-8"}) == "en"
    assert i18n.resolve(None, {}) == "en"


def test_numbers_as_people_write_them() -> None:
    with i18n.use("fr"):
        assert [i18n.phone("33612345678"), i18n.phone("262692123456")] == ["06 12 34 56 78", "+262 692 12 34 56"]
        assert i18n.number(1234) == "1\u202f234"
    with i18n.use("en"):
        assert [i18n.phone("33612345678"), i18n.number(1234)] == ["+33 6 12 34 56 78", "1,234"]
    assert i18n.phone("12") == "12"  # unreadable: shown as it is


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A first sync done; the second export changes a name, a number, adds, removes, rejects."""
    monkeypatch.chdir(tmp_path)
    write_nights(
        tmp_path,
        f"Id;Tel;Nom;G\n1;0612345671;{HOSTILE};A\n2;0756123456;{LONG};A\n5;0612;Moreau;A\n"
        f"4;+32470123456;Leroy;B,{LONG[:60]}\n",
    )
    result = _run("sync", "night1.csv", "-m", "m.yaml", "--sandbox", "--yes")
    assert result.exit_code == 0, result.output
    return tmp_path


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def _plan(lang: str, *reports: str) -> Result:
    args = ["plan", "night2.csv", "-m", "m.yaml", "--max-delete", "none", "--lang", lang]
    for report in reports:
        args += ["--report", report]
    result = _run(*args)
    assert result.exit_code == 0, result.output
    return result


def test_french_reports_speak_french(workspace: Path) -> None:
    result = _plan("fr", "r.csv", "r.xlsx", "r.html")
    assert "lignes lues" in result.output and "contact retiré" in result.output
    with (workspace / "r.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert list(rows[0])[:3] == ["Changement", "Groupes", "Numéro de téléphone"]
    moved = next(r for r in rows if r["Changement"].startswith("Numéro changé"))
    assert moved["Changement"] == "Numéro changé\u00a0: 06 12 34 56 72 → 07 56 12 34 56"
    assert moved["Numéro de téléphone"] == "07 56 12 34 56" and moved["État"] == "prévu"
    assert any(r["Changement"] == "Retiré du groupe VIP" for r in rows)
    assert any(r["Numéro de téléphone"] == "'+32 470 12 34 56" for r in rows)  # foreign: international
    with (workspace / "r-rejects.csv").open(encoding="utf-8-sig") as handle:
        reject = next(csv.DictReader(handle, delimiter=";"))
    assert (reject["Code"], reject["Que faire"]) == ("invalid-phone", "Corrigez le numéro dans le CRM.")
    book = load_workbook(workspace / "r.xlsx")
    assert book.sheetnames == ["Résumé", "Changements", "Rejets", "Conflits"]
    assert all(book[name].freeze_panes == "A2" for name in book.sheetnames)
    assert str(book["Résumé"]["A1"].value).startswith("Ce qui va être fait\u00a0:")
    page = (workspace / "r.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in page and "Retiré du groupe VIP" in page
    assert HOSTILE not in page and "&lt;script&gt;" in page


def test_the_first_paragraph_says_what_happens_and_what_is_deleted(workspace: Path) -> None:
    _plan("en", "r.html")
    page = (workspace / "r.html").read_text(encoding="utf-8")
    assert (
        "What this run will do: 2 new groups, 1 contact added, 2 contacts updated, 1 removal from a group, "
        "1 group deleted." in page
    )
    assert "2 removals (groups: VIP): see the list below." in page
    assert "1 row of the export was left aside" in page


def test_held_deletes_say_how_to_release_them_in_french(workspace: Path) -> None:
    result = _run("plan", "night2.csv", "-m", "m.yaml", "--max-delete", "0", "--lang", "fr", "--report", "r.html")
    assert result.exit_code == 3, result.output
    assert "relancez avec --max-delete 1" in result.output
    page = (workspace / "r.html").read_text(encoding="utf-8")
    assert (
        "2 suppressions sont retenues par la garde des suppressions et ne sont pas faites (groupes\u00a0: VIP)." in page
    )
    assert "Si ces retraits sont voulus, relancez avec --max-delete 1." in page


def test_json_is_the_same_in_every_language(workspace: Path) -> None:
    outputs = {}
    for lang in ("fr", "en"):
        result = _run("plan", "night2.csv", "-m", "m.yaml", "--json", "--lang", lang, "--report", f"{lang}.json")
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        report = json.loads((workspace / f"{lang}.json").read_text(encoding="utf-8"))
        for document in (summary, report):
            document["run"].pop("started")
            document.pop("generated", None)
        outputs[lang] = (summary, report)
    assert outputs["fr"] == outputs["en"]
    assert outputs["fr"][0]["operations"] == {
        "group_add": 2,
        "contact_add": 1,
        "contact_upd": 2,
        "contact_del": 1,
        "group_del": 1,
    }


def test_the_locale_chooses_when_no_option_does(workspace: Path) -> None:
    french = _run("validate", "night2.csv", "-m", "m.yaml", "--rejects", "rej.csv", env={"LANG": "fr_FR.UTF-8"})
    assert french.exit_code == 0 and "lignes lues" in french.output
    assert Path("rej.csv").read_text(encoding="utf-8-sig").startswith("Ligne;Colonne;Valeur;Code;Problème;Que faire")
    english = _run("validate", "night2.csv", "-m", "m.yaml", "--lang", "en", env={"LANG": "fr_FR.UTF-8"})
    assert english.exit_code == 0 and "rows read" in english.output
    listing = _run("runs", env={"LC_MESSAGES": "fr_FR.UTF-8"})  # a command without --lang follows the locale too
    assert listing.exit_code == 0 and "code de sortie 0" in listing.output


def test_a_past_run_in_french(workspace: Path) -> None:
    result = _run("runs", "show", "1", "--lang", "fr", "--report", "past.html")
    assert result.exit_code == 0, result.output
    page = (workspace / "past.html").read_text(encoding="utf-8")
    assert "Ce qui a été fait\u00a0: 2 nouveaux groupes, 3 contacts ajoutés." in page and "fait</span>" in page


# -- the page in a browser ----------------------------------------------------------------


def page_overflow(browser: str, page: Path, width: int, profile: Path) -> tuple[int, int]:
    """(scrollWidth, clientWidth) of ``page`` laid out in a ``width`` px wide frame.

    Headless Chromium will not make its window narrower than 500 px, so the page is
    shown in an iframe of the phone's width, which is its viewport (media queries too).
    """
    probe = page.with_name(f"probe-{width}.html")
    # "<\/" keeps the page's own </script> from closing the probe's script.
    source = json.dumps(page.read_text(encoding="utf-8")).replace("</", "<\\/")
    probe.write_text(
        "<!DOCTYPE html><html><body style='margin:0'>"
        f"<iframe id='f' style='width:{width}px;height:800px;border:0'></iframe><script>"
        f"var f=document.getElementById('f');f.srcdoc={source};"
        "f.onload=function(){var d=f.contentDocument.documentElement;"
        "document.title='w:'+d.scrollWidth+':'+d.clientWidth;};</script></body></html>",
        encoding="utf-8",
    )
    dom = subprocess.run(
        [
            *headless_chromium(browser, profile, "--virtual-time-budget=5000"),
            "--window-size=1400,900",
            "--dump-dom",
            probe.as_uri(),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    found = re.search(r"<title>w:(\d+):(\d+)</title>", dom)
    assert found is not None, dom[:500]
    return int(found[1]), int(found[2])


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (.ci/run installs it from Debian)")
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_page_fits_a_phone_and_a_desktop_without_sideways_scrolling(workspace: Path, lang: str) -> None:
    browser = chromium()
    assert browser is not None
    _plan(lang, "r.html")
    for width in (390, 1280):
        scroll, client = page_overflow(browser, workspace / "r.html", width, workspace / "profile")
        assert client <= width and client > width - 30  # the frame is the viewport (less a scrollbar)
        assert scroll <= client, f"{lang} at {width} px: content {scroll} px wide in {client} px"


def test_a_campaign_report_in_french(tmp_path: Path) -> None:
    from sms123_sync.campaigns.report import journal_document, write_campaign_reports

    campaign = {"name": "Rappel", "kind": "group", "source": "VIP", "template": "Bonjour {prenom}", "created": "x"}
    send = {"numero": "33612345678", "message": HOSTILE, "segments": 1, "diff": "", "status": "sent"}
    document = journal_document(campaign, [{**send, "code": 80, "meaning": "", "reference": "7"}])
    paths = [tmp_path / "c.csv", tmp_path / "c.html", tmp_path / "c.xlsx"]
    with i18n.use("fr"):
        assert write_campaign_reports(paths, document).failed == []
    rows = list(csv.reader(paths[0].read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0][:3] == ["Numéro de téléphone", "Provenance", "État"]
    assert rows[1][:3] == ["06 12 34 56 78", "", "envoyés"]
    page = paths[1].read_text(encoding="utf-8")
    assert '<html lang="fr">' in page and HOSTILE not in page and "&lt;script&gt;" in page
    assert load_workbook(paths[2]).sheetnames == ["Campagne", "Destinataires", "Écartés"]


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (.ci/run installs it from Debian)")
def test_the_page_filters_by_group_and_by_kind(workspace: Path) -> None:
    browser = chromium()
    assert browser is not None
    _plan("en", "r.html")
    page = workspace / "r.html"
    probe = workspace / "filters.html"
    probe.write_text(
        page.read_text(encoding="utf-8").replace(
            "</body>",
            "<script>var n=function(){return document.getElementById('changes-count').textContent;};"
            "var g=document.getElementById('group'),k=document.getElementById('kind'),seen=[n()];"
            "g.value='VIP';g.dispatchEvent(new Event('change'));seen.push(n());"
            "k.value='group_del';k.dispatchEvent(new Event('change'));seen.push(n());"
            "g.value='';g.dispatchEvent(new Event('change'));k.value='';k.dispatchEvent(new Event('change'));"
            "seen.push(n());document.title='seen:'+seen.join(',');</script></body>",
        ),
        encoding="utf-8",
    )
    dom = subprocess.run(
        [*headless_chromium(browser, workspace / "p"), "--dump-dom", probe.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    title = re.search(r"<title>seen:([^<]*)</title>", dom)
    shown = page.read_text(encoding="utf-8").count('<li class="')
    # All; VIP: a removal and the group; then the group alone; then all again.
    assert title is not None and title[1] == f"{shown},2,1,{shown}", title


@pytest.mark.parametrize("language", ["en", "fr"])
def test_problem_rows_in_bulk_are_the_rows_one_by_one(language: str) -> None:
    # Every code, a formula-looking value and column: the bulk writer's cells are
    # problem_row's, in both languages.
    problems = [
        Problem(code, row, "=Tel" if row % 2 else "Tel", "+33 6 12" if row % 3 else "06 12", f"message {row}")
        for row, code in enumerate(ProblemCode, start=2)
    ]
    with i18n.use(language):
        cells = [{"row": p.row, "column": p.column, "value": p.value, "code": p.code.value} for p in problems]
        one_by_one = [problem_row({**c, "message": p.message}) for c, p in zip(cells, problems, strict=True)]
        bulk = [list(row) for row in problem_rows(problems)]
    assert bulk == one_by_one
