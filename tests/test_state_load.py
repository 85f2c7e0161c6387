"""Loading the state never breaks the write-ahead log that the run keeps writing into."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import adbc_driver_sqlite.dbapi as adbc_sqlite
import numpy as np
import pandas as pd
import pytest

from sms123_sync.contact import FIELD_NAMES, ContactFields
from sms123_sync.reconcile.state import StateStore

MEMBERS = pd.DataFrame(
    {
        "groupe": ["A", "A", "B"],
        "numero": ["33612345671", "33612345672", "33612345671"],
        "nom": ["Martin", "Durand", ""],
    }
)


def _deleted_open_files() -> list[str]:
    """Files this process still writes into although they are gone from the disk."""
    targets = [str(fd.readlink()) for fd in Path("/proc/self/fd").iterdir() if fd.is_symlink()]
    return [target for target in targets if target.endswith(" (deleted)")]


def _count_in_another_process(path: Path) -> int:
    """What a reader that is not this process sees: the file as a crash would leave it."""
    code = (
        "import sqlite3, sys; "
        "print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM memberships').fetchone()[0])"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, check=True, text=True)
    return int(done.stdout)


def _write_one_and_check_it_is_on_disk(store: StateStore, path: Path, group: str) -> None:
    """Commits one membership, then checks a crash now would keep it: no deleted WAL."""
    with store.change() as db:
        store.put_member(db, group, "33612345679", "9", ContactFields(nom="Petit"))
    assert not [f for f in _deleted_open_files() if "state.sqlite" in f]
    # Without closing the store (as a killed run never does), another process sees it.
    assert _count_in_another_process(path) == 4


def test_commits_after_a_load_reach_the_file_while_the_store_is_open(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with StateStore(path) as store:
        store.import_members(MEMBERS)
        assert len(store.load().memberships) == 3
        _write_one_and_check_it_is_on_disk(store, path, "B")


def test_a_second_store_in_the_process_reads_through_its_own_connection(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with StateStore(path) as first, StateStore(path) as second:
        first.import_members(MEMBERS)
        alone = first.load().memberships
        shared = second.load().memberships  # two stores: the Arrow driver must not open it
        _write_one_and_check_it_is_on_disk(first, path, "C")
    pd.testing.assert_frame_equal(alone, shared)
    assert list(alone.columns) == ["grp", "numero", "key", *FIELD_NAMES, "fhash"]
    assert str(alone["fhash"].dtype) == "int64"


def test_an_empty_state_loads_with_the_same_columns(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store = StateStore(path)
    try:
        frame = store.load().memberships
    finally:
        store.close()
    assert frame.empty and list(frame.columns) == ["grp", "numero", "key", *FIELD_NAMES, "fhash"]
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_store_opened_during_an_arrow_read_waits_for_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Library callers may open a second store from another thread while the first reads
    # through the Arrow driver: the second must not open the file before that read ends.
    path = tmp_path / "state.sqlite"
    first = StateStore(path)
    first.import_members(MEMBERS)
    reading, release = threading.Event(), threading.Event()
    real_connect = adbc_sqlite.connect

    def held_connect(*args: Any, **kwargs: Any) -> Any:
        reading.set()
        release.wait(5)
        return real_connect(*args, **kwargs)

    monkeypatch.setattr("adbc_driver_sqlite.dbapi.connect", held_connect)
    loader = threading.Thread(target=first.load)
    loader.start()
    assert reading.wait(5)
    opened: list[StateStore] = []
    opener = threading.Thread(target=lambda: opened.append(StateStore(path)))
    opener.start()
    opener.join(0.3)
    assert opened == [], "a second store opened the file during the Arrow read"
    release.set()
    loader.join(5)
    opener.join(5)
    assert len(opened) == 1
    opened[0].close()
    first.close()


def test_commits_after_the_fields_of_a_slim_load_are_read_reach_the_file(tmp_path: Path) -> None:
    # A plan reads the changed records' fields through the Arrow driver too, the store's
    # connection closed meanwhile: the run's later commits must still reach the file.
    path = tmp_path / "state.sqlite"
    with StateStore(path) as store:
        store.import_members(MEMBERS)
        known = store.load(fields=False)
        fields = known.fields_at(np.arange(3))
        assert fields["nom"].tolist() == ["Martin", "Durand", ""]
        _write_one_and_check_it_is_on_disk(store, path, "B")


def test_fields_of_a_slim_load_are_read_through_the_store_when_another_has_the_file(tmp_path: Path) -> None:
    # Another store of this process holds the file open: no second SQLite library may
    # open it, so the fields come through the store's own connection.
    path = tmp_path / "state.sqlite"
    with StateStore(path) as store, StateStore(path) as other:
        store.import_members(MEMBERS)
        known = store.load(fields=False)
        assert known.fields_at(np.array([2, 0]))["nom"].tolist() == ["", "Martin"]
        assert other.load().memberships["nom"].tolist() == ["Martin", "Durand", ""]


@pytest.mark.parametrize("fields", [False, True])
def test_a_load_comes_as_one_chunk_per_column(tmp_path: Path, fields: bool) -> None:
    # The SQLite driver hands out 1 024 rows a batch; pandas takes rows of a chunked column
    # by joining its chunks first, at every take of the planner (docs/design.md, "Speed rules").
    many = pd.DataFrame({"groupe": ["A"] * 5000, "numero": [f"3361234{i:04d}" for i in range(5000)]})
    with StateStore(tmp_path / "state.sqlite") as store:
        store.import_members(many, origin="created")
        known = store.load(fields=fields)
        chunks = {name: known.memberships[name].array._pa_array.num_chunks for name in ("grp", "numero", "key")}
        assert chunks == {"grp": 1, "numero": 1, "key": 1}
        taken = known.fields_at(np.array([4999, 0, 2500]))
    assert list(taken["nom"]) == ["", "", ""] and len(taken) == 3
