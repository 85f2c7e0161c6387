"""Reports in every format, checked against the plan they describe."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from sms123_sync.cli import cli
from sms123_sync.reports.document import SCHEMA_PATH
from tests.helpers import chromium, headless_chromium

ROOT = Path(__file__).parent.parent
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An export with a hostile name, a formula, a reject; a first sync already done."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(
        "identity: Id\nfields: {numero: Tel, nom: Nom}\ngroups: {column: G}\n", encoding="utf-8"
    )
    (tmp_path / "night1.csv").write_text("Id;Tel;Nom;G\n1;0612345671;Martin;A\n2;0612345672;Durand;A\n", "utf-8")
    (tmp_path / "night2.csv").write_text(
        f'Id;Tel;Nom;G\n1;0612345671;{HOSTILE};A\n2;0612345672;=HYPERLINK("http://x");A\n3;0612;Petit;A\n'
        "4;0612345674;Leroy;B\n",
        "utf-8",
    )
    result = CliRunner().invoke(cli, ["sync", "night1.csv", "-m", "m.yaml", "--sandbox", "--yes"])
    assert result.exit_code == 0, result.output
    return tmp_path


def _plan_with_reports(*reports: str) -> None:
    args = ["plan", "night2.csv", "-m", "m.yaml"]
    for r in reports:
        args += ["--report", r]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output


def test_json_report_matches_plan_and_schema(workspace: Path) -> None:
    _plan_with_reports("r.json")
    document = json.loads((workspace / "r.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    assert document["counts"]["operations"] == {"contact_upd": 2, "group_add": 1, "contact_add": 1}
    update = next(op for op in document["operations"] if op["number"] == "33612345671")
    assert (update["changed"], update["before"]["nom"], update["after"]["nom"]) == (["nom"], "Martin", HOSTILE)
    assert [(r["row"], r["column"], r["value"], r["code"]) for r in document["rejects"]] == [
        (4, "Tel", "0612", "invalid-phone")
    ]


def test_csv_report_neutralises_formulas(workspace: Path) -> None:
    _plan_with_reports("r.csv")
    with (workspace / "r.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert len(rows) == 4
    changed = [r["Before → after"] for r in rows if r["Phone number"] == "'+33 6 12 34 56 72"]  # "+" opens a formula
    assert changed == ['Last name: Durand → =HYPERLINK("http://x")']  # mid-cell: harmless
    with (workspace / "r-rejects.csv").open(encoding="utf-8-sig") as handle:
        rejects = list(csv.DictReader(handle, delimiter=";"))
    assert rejects[0]["Row"] == "4" and rejects[0]["Value"] == "0612" and rejects[0]["Code"] == "invalid-phone"
    assert rejects[0]["What to do"] == "Correct the number in the CRM."


def test_formula_at_cell_start_is_neutralised() -> None:
    from sms123_sync.reports.rows import neutralise

    assert [neutralise(v) for v in ("=1+1", "+33", "-2", "@x", "ok")] == ["'=1+1", "'+33", "'-2", "'@x", "ok"]


def test_xlsx_report_sheets(workspace: Path) -> None:
    _plan_with_reports("r.xlsx")
    wb = load_workbook(workspace / "r.xlsx")
    assert wb.sheetnames == ["Summary", "Changes", "Rejects", "Conflicts"]
    changes = wb["Changes"]
    assert changes.freeze_panes == "A2" and changes.auto_filter.ref
    header = [c.value for c in changes[1]]
    rows = [dict(zip(header, [c.value for c in row], strict=True)) for row in changes.iter_rows(min_row=2)]
    assert len(rows) == 4
    assert wb["Rejects"]["D2"].value == "invalid-phone"
    assert header[:3] == ["Change", "Groups", "Phone number"]
    changed_cell = next(row for row in changes.iter_rows(min_row=2) if row[2].value == "+33 6 12 34 56 71")[4]
    assert changed_cell.fill.fgColor.rgb.endswith("FFF2CC")


def test_html_report_escapes_and_is_self_contained(workspace: Path) -> None:
    _plan_with_reports("r.html")
    page = (workspace / "r.html").read_text(encoding="utf-8")
    assert HOSTILE not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "http://" not in page.replace('"http://x', "").replace("http://x", "")
    assert 'class="bar"' in page and "src=" not in page and '<html lang="en">' in page


def test_json_stdout_is_one_object_and_reports_expand_date(workspace: Path) -> None:
    result = CliRunner().invoke(
        cli, ["sync", "night2.csv", "-m", "m.yaml", "--sandbox", "--yes", "--json", "--report", "out/{date}.json"]
    )
    summary = json.loads(result.stdout)
    assert summary["run"]["exit_code"] == 0 and summary["rejects"] == 1
    assert summary["outcomes"] == {"applied": 4}
    assert len(list((workspace / "out").glob("20??-??-??.json"))) == 1


def test_no_progress_bar_without_terminal(workspace: Path) -> None:
    result = CliRunner().invoke(cli, ["sync", "night2.csv", "-m", "m.yaml", "--sandbox", "--yes"])
    assert result.exit_code == 0
    assert "applying" not in result.output and "4/4" not in result.output  # the bar's text and count


def test_runs_history_and_past_report(workspace: Path) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["sync", "night2.csv", "-m", "m.yaml", "--sandbox", "--yes"])
    listing = runner.invoke(cli, ["runs"])
    assert "#2" in listing.output and "#1" in listing.output
    shown = runner.invoke(cli, ["runs", "show", "2", "--report", "past.json"])
    assert shown.exit_code == 0, shown.output
    document = json.loads((workspace / "past.json").read_text(encoding="utf-8"))
    assert document["counts"]["outcomes"] == {"applied": 4}


def test_log_file_has_timestamps_and_no_secret(workspace: Path) -> None:
    from sms123_sync.sandbox.server import Sandbox

    with Sandbox(workspace / "sb.sqlite") as server:
        result = CliRunner().invoke(
            cli,
            [
                "sync",
                "night1.csv",
                "-m",
                "m.yaml",
                "--yes",
                "--base-url",
                server.url,
                "--log-file",
                "log.txt",
                "--state",
                "other.sqlite",
            ],
            env={"SMS123_USER": "sandbox", "SMS123_API_KEY": "sandbox-key"},
        )
    assert result.exit_code == 0, result.output
    text = (workspace / "log.txt").read_text(encoding="utf-8")
    assert text[:4].isdigit() and "sandbox-key" not in text


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (.ci/run installs it from Debian)")
def test_html_page_in_headless_chromium(workspace: Path) -> None:
    browser = chromium()
    assert browser is not None
    _plan_with_reports("r.html")
    page = (workspace / "r.html").as_uri()
    shot = workspace / "r.png"
    subprocess.run(
        [*headless_chromium(browser, workspace / "profile"), f"--screenshot={shot}", "--window-size=1200,900", page],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert shot.stat().st_size > 5000
    # The page's own search: type into the box, count the rows left.
    probe = workspace / "probe.html"
    probe.write_text(
        (workspace / "r.html")
        .read_text(encoding="utf-8")
        .replace(
            "</body>",
            "<script>var i=document.querySelector('input');i.value='Leroy';"
            "i.dispatchEvent(new Event('input'));document.title='rows:'+"
            "document.getElementById('changes-count').textContent;</script></body>",
        ),
        encoding="utf-8",
    )
    dom = subprocess.run(
        [*headless_chromium(browser, workspace / "profile"), "--dump-dom", probe.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "<title>rows:1</title>" in dom
