"""One writer at a time per state file, however its path is spelled (symlink, relative)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sms123_sync.cli import cli
from sms123_sync.errors import LockError
from sms123_sync.reconcile.state import StateStore


@pytest.fixture
def held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StateStore]:
    """A state file whose run lock this process holds, as a running sync would."""
    monkeypatch.chdir(tmp_path)
    store = StateStore(tmp_path / "real" / "state.sqlite")
    store.acquire()
    (tmp_path / "link.sqlite").symlink_to(tmp_path / "real" / "state.sqlite")
    yield store
    store.close()


@pytest.mark.parametrize(
    ("spelling", "named"),
    [("link.sqlite", r"link\.sqlite is in use by pid {pid} on "), ("real/../real/./state.sqlite", "pid {pid}")],
    ids=["symlink", "dot-dot"],
)
def test_every_spelling_of_the_file_meets_the_same_lock(held: StateStore, spelling: str, named: str) -> None:
    with StateStore(spelling) as other, pytest.raises(LockError, match=named.format(pid=os.getpid())):
        other.acquire()
    held.release()
    with StateStore(spelling) as other:
        other.acquire()  # free again once the holder lets go


@pytest.mark.parametrize(
    "args",
    [
        ["state", "reset", "--yes", "--state", "link.sqlite"],
        ["state", "import", "adopt.csv", "--group", "A", "--state", "link.sqlite"],
        ["sync", "e.csv", "-m", "m.yaml", "--state", "link.sqlite", "--sandbox", "--yes"],
    ],
    ids=["reset", "import", "sync"],
)
def test_every_writing_command_is_refused_while_a_sync_runs(held: StateStore, args: list[str]) -> None:
    Path("adopt.csv").write_text("numero\n0612345678\n", encoding="utf-8")
    Path("e.csv").write_text("Id;Tel;G\n1;0612345678;A\n", encoding="utf-8")
    Path("m.yaml").write_text("identity: Id\nfields: {numero: Tel}\ngroups: {column: G}\n", encoding="utf-8")
    held.import_members(pd.DataFrame([{"groupe": "A", "numero": "33600000001"}]))  # the holder may write
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"is in use by pid {os.getpid()}" in result.output
    assert len(held.load().memberships) == 1  # nothing reset, nothing imported
