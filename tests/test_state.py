"""The state file's schema: created at the latest version, older files upgraded, newer refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from sms123_sync.contact import FIELD_NAMES
from sms123_sync.errors import StateError
from sms123_sync.mapping.desired import fields_hash
from sms123_sync.reconcile.state import SCHEMA_VERSION, StateStore

# The tables as version 1 wrote them (before the index on numero).
V1 = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE groups (name TEXT PRIMARY KEY, origin TEXT NOT NULL);
CREATE TABLE memberships (
    grp TEXT NOT NULL, numero TEXT NOT NULL, key TEXT NOT NULL,
    {", ".join(f"{f} TEXT NOT NULL DEFAULT ''" for f in FIELD_NAMES)},
    fhash INTEGER NOT NULL,
    PRIMARY KEY (grp, numero)
);
CREATE INDEX memberships_key ON memberships(key);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY, started TEXT NOT NULL, ended TEXT, command TEXT NOT NULL,
    source TEXT, source_hash TEXT, mapping TEXT, mapping_hash TEXT, mode TEXT,
    counts TEXT, exit_code INTEGER
);
CREATE TABLE journal (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, op TEXT NOT NULL, status TEXT NOT NULL,
    code TEXT, meaning TEXT, attempts INTEGER NOT NULL DEFAULT 0, started TEXT NOT NULL, ended TEXT
);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO groups VALUES ('A', 'created');
INSERT INTO memberships (grp, numero, key, nom, fhash) VALUES ('A', '33612345678', '1', 'Martin', 42);
"""


def _version_and_indexes(path: Path) -> tuple[str, set[str]]:
    db = sqlite3.connect(path)
    try:
        version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        db.close()
    return version, indexes


def test_new_file_is_at_the_latest_schema(tmp_path: Path) -> None:
    StateStore(tmp_path / "s.sqlite").close()
    version, indexes = _version_and_indexes(tmp_path / "s.sqlite")
    assert version == str(SCHEMA_VERSION) and "memberships_numero" in indexes


def test_version_1_file_is_upgraded_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(V1)
    db.close()
    store = StateStore(path)
    known = store.load()
    store.close()
    assert known.groups == {"A": "created"}
    assert known.memberships[["grp", "numero", "key", "nom"]].values.tolist() == [["A", "33612345678", "1", "Martin"]]
    version, indexes = _version_and_indexes(path)
    assert version == str(SCHEMA_VERSION) and "memberships_numero" in indexes
    StateStore(path).close()  # opening an up-to-date file again changes nothing
    assert _version_and_indexes(path)[0] == str(SCHEMA_VERSION)


def test_newer_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    StateStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(StateError, match="newer sms123-sync"):
        StateStore(path)
    assert _version_and_indexes(path)[0] == "99"


def test_a_file_that_is_not_a_state_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"plain notes, not SQLite\n" * 100)
    with pytest.raises(StateError, match=r"notes\.sqlite: not a usable state file"):
        StateStore(path)


ROW = {"nom": "Martin", "prenom": "Élodie", "societe": "", "datea": "120268", "v1": "Paris", "v2": "75011 Paris"}


@pytest.mark.parametrize("dtype", [object, pd.StringDtype("pyarrow"), pd.StringDtype("pyarrow", na_value=float("nan"))])
def test_field_digest_is_stable_across_column_types(dtype: type[object] | pd.StringDtype) -> None:
    # State files store this digest: if it moved, the next sync would re-send every contact.
    # The value is what object columns gave, as digests always have been computed.
    frame = pd.DataFrame([{**ROW, "v3": "CRM"}], columns=list(FIELD_NAMES)).astype(dtype)
    assert int(fields_hash(frame)[0]) == -3287362446058208559
