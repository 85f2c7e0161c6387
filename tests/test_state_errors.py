"""A damaged, read-only or hand-edited state file is named with what to do: exit 2, no traceback."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from sms123_sync.cli import cli
from sms123_sync.reconcile.state import StateStore
from sms123_sync.sandbox.server import DEFAULT_KEY, DEFAULT_USER, Sandbox

MAPPING = "identity: Id\nfields: {numero: Tel, nom: Nom}\ngroups: {column: G}\n"
# As root, file modes do not bite: the command runs without the capability that
# overrides them, so a 0444 file is read-only to it as to anyone.
_SETPRIV = shutil.which("setpriv")


def _export(path: Path, count: int) -> None:
    rows = [f"{i};06{12000000 + i:08d};Nom{i};G{i % 3}" for i in range(count)]
    path.write_text("Id;Tel;Nom;G\n" + "\n".join(rows) + "\n", encoding="utf-8")


def _invoke(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture
def synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder whose state file was written by a real sync of 400 contacts."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    _export(tmp_path / "n.csv", 400)
    result = _invoke("sync", "n.csv", "-m", "m.yaml", "--sandbox", "--yes", "--max-delete", "none")
    assert result.exit_code == 0, result.output
    return tmp_path


STATE = Path(".sms123-sync/state.sqlite")


def test_damaged_page_is_named_by_every_command(synced: Path) -> None:
    """The page that roots the memberships table is overwritten, as a bad disk sector would."""
    db = sqlite3.connect(STATE)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'memberships'").fetchone()[0]
    db.close()
    data = bytearray(STATE.read_bytes())
    assert len(data) > 8 * page_size and root > 1  # a real multi-page file; the header page is kept
    start = (root - 1) * page_size
    data[start : start + page_size] = b"\xa5" * page_size
    STATE.write_bytes(bytes(data))
    for args in (
        ["plan", "n.csv", "-m", "m.yaml"],
        ["sync", "n.csv", "-m", "m.yaml", "--sandbox", "--yes"],
        ["state", "show"],
        ["state", "export", "out.csv"],
    ):
        result = _invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert f"{STATE}: not a usable state file" in result.output, result.output
        assert "restore it from a backup" in result.output


def test_a_damaged_page_met_only_by_the_whole_read_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A leaf page near the end of the memberships: opening the file and the first batches
    read fine, the Arrow driver's scan meets the damage mid-stream and said only
    ``OSError`` (exit 70 before)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    _export(tmp_path / "n.csv", 3000)
    rows = [{"groupe": f"G{i % 3}", "numero": f"336{12000000 + i:08d}", "key": str(i)} for i in range(3000)]
    with StateStore(STATE) as store:
        store.import_members(pd.DataFrame(rows), origin="created")
    db = sqlite3.connect(STATE)
    try:
        leaves = db.execute("SELECT pageno FROM dbstat WHERE name = 'memberships' AND pagetype = 'leaf'").fetchall()
    except sqlite3.OperationalError:
        pytest.skip("this SQLite has no dbstat table to find a leaf page with")
    finally:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        db.close()
    assert len(leaves) > 10
    page = sorted(p for (p,) in leaves)[-2]
    data = bytearray(STATE.read_bytes())
    data[(page - 1) * page_size : page * page_size] = b"\xa5" * page_size
    STATE.write_bytes(bytes(data))
    result = _invoke("plan", "n.csv", "-m", "m.yaml")
    assert result.exit_code == 2, result.output
    assert f"{STATE}: not a usable state file" in result.output, result.output


@pytest.mark.parametrize("version", ["2.1", "0", "-1", "two"])
def test_schema_version_never_written_is_refused(synced: Path, version: str) -> None:
    db = sqlite3.connect(STATE)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))
    db.commit()
    db.close()
    for args in (["plan", "n.csv", "-m", "m.yaml"], ["runs"], ["state", "reset", "--yes"]):
        result = _invoke(*args)
        assert result.exit_code == 2, result.output
        assert f"records schema version {version!r}, which sms123-sync never writes" in result.output
    # Refused untouched: a migration must not have guessed.
    assert sqlite3.connect(STATE).execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        version,
    )


@pytest.mark.skipif(os.geteuid() == 0 and _SETPRIV is None, reason="root without setpriv: modes cannot bite")
def test_read_only_state_is_named(synced: Path, sandbox: Sandbox) -> None:
    STATE.chmod(0o444)
    prefix = [str(_SETPRIV), "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    args = ["sync", "n.csv", "-m", "m.yaml", "--yes", "--base-url", sandbox.url]
    env = {**os.environ, "SMS123_USER": DEFAULT_USER, "SMS123_API_KEY": DEFAULT_KEY}
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "sms123_sync", *args],
        cwd=synced,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    assert f"{STATE}: the state file cannot be written" in output, output
    assert sandbox.total_calls() == 0  # refused before any call


def test_a_constraint_error_is_a_bug_not_a_damaged_file(tmp_path: Path) -> None:
    """Only faults of the file become StateError: our own misuse must stay visible as such."""
    store = StateStore(tmp_path / "s.sqlite")
    try:
        with pytest.raises(sqlite3.IntegrityError), store.change() as db:
            db.execute("INSERT INTO groups VALUES ('A', NULL)")
        assert store.load().groups == {}  # rolled back
    finally:
        store.close()
