"""Every failure of the command line is one line and a documented exit code, never a traceback."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from sms123_sync.cli import cli
from sms123_sync.errors import EXIT_INTERNAL
from sms123_sync.reconcile import sync as sync_module
from sms123_sync.reconcile.state import StateStore
from sms123_sync.sandbox.server import AccountStore

MAPPING = "identity: Id\nfields: {numero: Tel, nom: Nom}\ngroups: {column: G}\n"
KEY = "s3cret-key-4242"


def _invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert "Traceback" not in result.output, result.output
    return result


def _sandbox_contacts() -> int:
    path = Path(".sms123-sync/sandbox.sqlite")
    if not path.exists():
        return 0
    store = AccountStore(path)
    try:
        return len(store.snapshot()["contacts"])
    finally:
        store.close()


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An export of 3 contacts (one with a control character, rejected) and its mapping."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "e.csv").write_text(
        "Id;Tel;Nom;G\n1;0612345671;Martin;A\n2;0612345672;Durand;A\n3;06\x0112;Bad\x07Name;A\n", encoding="utf-8"
    )
    return tmp_path


def test_bad_report_paths_are_refused_before_planning(work: Path) -> None:
    Path("afile").write_text("", encoding="utf-8")
    Path("adir.json").mkdir()
    result = _invoke(
        "sync", "e.csv", "-m", "m.yaml", "--sandbox", "--yes",
        "--report", "report.pdf", "--report", "adir.json", "--report", "afile/r.html", "--report", "ok.json",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "--report report.pdf: unknown format '.pdf'" in result.output
    assert "--report adir.json: adir.json is a folder" in result.output
    assert "--report afile/r.html: afile is not a folder" in result.output
    assert "applied" not in result.output and _sandbox_contacts() == 0
    assert not Path("ok.json").exists()
    assert StateStore(".sms123-sync/state.sqlite").runs() == []  # no run began


def test_a_report_that_fails_still_lets_the_others_and_the_summary_be_written(work: Path) -> None:
    Path("r-rejects.csv").mkdir()  # the CSV report's companion file cannot be written
    result = _invoke(
        "sync", "e.csv", "-m", "m.yaml", "--sandbox", "--yes", "--json",
        "--report", "r.csv", "--report", "r.json", "--report", "r.html",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "report r.csv could not be written" in result.stderr
    assert Path("r.json").exists() and Path("r.html").exists()
    summary = json.loads(result.stdout)
    assert (summary["exit_code"], summary["failed_reports"]) == (1, ["r.csv"])
    assert summary["outcomes"] == {"applied": 3}  # the sync itself went through
    assert _sandbox_contacts() == 2


def test_control_characters_in_a_rejected_cell_do_not_break_the_xlsx_report(work: Path) -> None:
    result = _invoke("sync", "e.csv", "-m", "m.yaml", "--sandbox", "--yes", "--report", "r.xlsx")
    assert result.exit_code == 0, result.output
    rejects = load_workbook("r.xlsx")["Rejects"]
    assert rejects["C2"].value == "06\ufffd12" and rejects["A2"].value == 4


def test_state_export_to_a_folder_is_refused(work: Path) -> None:
    Path("out").mkdir()
    result = _invoke("state", "export", "out")
    assert result.exit_code == 2 and "state export out: out is a folder" in result.output


def test_runs_show_finds_a_run_by_id_beyond_the_last_ten_thousand(work: Path) -> None:
    assert _invoke("sync", "e.csv", "-m", "m.yaml", "--sandbox", "--yes").exit_code == 0
    db = sqlite3.connect(".sms123-sync/state.sqlite")
    db.executemany(
        "INSERT INTO runs (started, command, exit_code) VALUES (?, 'sync', 0)",
        [("2026-01-01T00:00:00+00:00",)] * 10_000,
    )
    db.commit()
    db.close()
    shown = _invoke("runs", "show", "1")
    assert shown.exit_code == 0, shown.output
    assert "run #1 " in shown.output and "3 applied" in shown.output
    missing = _invoke("runs", "show", "99999")
    assert missing.exit_code == 2 and "no run 99999" in missing.output


def test_held_deletes_reach_the_log_and_the_json_summary(work: Path) -> None:
    assert _invoke("sync", "e.csv", "-m", "m.yaml", "--sandbox", "--yes").exit_code == 0
    Path("empty.csv").write_text("Id;Tel;Nom;G\n", encoding="utf-8")
    result = _invoke("sync", "empty.csv", "-m", "m.yaml", "--sandbox", "--yes", "--json", "--log-file", "run.log")
    assert result.exit_code == 3, result.output
    summary = json.loads(result.stdout)
    assert summary["exit_code"] == 3 and summary["held"] == 3 and "--allow-empty" in summary["guard"]
    assert _sandbox_contacts() == 2  # held, not applied
    log = Path("run.log").read_text(encoding="utf-8")
    assert "WARNING" in log and "3 delete(s) held" in log and "exit code 3" in log


def test_a_usage_error_still_prints_the_json_summary(work: Path) -> None:
    result = _invoke("sync", "e.csv", "-m", "m.yaml", "--sandbox", "--json", "--log-file", "run.log")
    assert result.exit_code == 2, result.output  # no terminal and no --yes
    assert json.loads(result.stdout)["exit_code"] == 2
    assert "pass --yes" in Path("run.log").read_text(encoding="utf-8")


def _explode(*args: object, **kwargs: object) -> None:
    raise ValueError(f"unexpected state of things (key {KEY})")


def test_an_unexpected_error_prints_one_line_and_saves_its_trace(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A bug is simulated by a library function that raises what no caller expects.
    monkeypatch.setattr(sync_module, "run_sync", _explode)  # the command imports it when it runs
    result = _invoke(
        "sync", "e.csv", "-m", "m.yaml", "--yes", "--user", "compta@example.fr", env={"SMS123_API_KEY": KEY}
    )
    assert result.exit_code == EXIT_INTERNAL, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: internal error: ValueError: unexpected state")
    assert KEY not in result.output
    crash = Path(lines[0].rsplit("full trace in ", 1)[1])
    assert crash.parent == Path(".sms123-sync") and crash.name.startswith("crash-")
    assert stat.S_IMODE(crash.stat().st_mode) == 0o600
    trace = crash.read_text(encoding="utf-8")
    assert "Traceback" in trace and "_explode" in trace and KEY not in trace


def test_an_unexpected_error_goes_to_the_log_file_when_there_is_one(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_module, "run_sync", _explode)  # the command imports it when it runs
    result = _invoke(
        "sync", "e.csv", "-m", "m.yaml", "--yes", "--json", "--log-file", "run.log", env={"SMS123_API_KEY": KEY}
    )
    assert result.exit_code == EXIT_INTERNAL, result.output
    assert "full trace in run.log" in result.stderr
    assert json.loads(result.stdout)["exit_code"] == EXIT_INTERNAL
    log = Path("run.log").read_text(encoding="utf-8")
    assert "Traceback" in log and "_explode" in log and KEY not in log
    assert not Path(".sms123-sync").exists() or not list(Path(".sms123-sync").glob("crash-*"))
