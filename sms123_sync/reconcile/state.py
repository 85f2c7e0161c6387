"""The last-known state of the account, the journal and the runs, in one SQLite file.

The API cannot be read, so this file is the tool's only knowledge of the account:
the groups it created or adopted and, per (group, number), the fields it last sent.
Every operation is journaled before its call; its outcome and the state change are
committed together after it, so a crash leaves a true record.

The file is created 0600, in WAL mode; one sync at a time holds its lock (a lock of
a dead process is released by the OS and taken over).

Only one SQLite library may have the file open in this process at any moment. The
memberships are read through Arrow's SQLite driver (columns straight into Arrow, five
times faster than Python rows at a million memberships), which bundles its own copy of
SQLite. Two copies in one process do not see each other's POSIX locks: when the second
one closes, it takes itself for the last connection and deletes the write-ahead log that
the first is still writing into, and every later commit of the run is lost to a crash.
So :meth:`StateStore.load` closes the store's own connection around the Arrow read, and
reads through that connection instead when another store of this process has the file
open (see docs/design.md, "State file").
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

import adbc_driver_sqlite.dbapi as adbc_sqlite
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from adbc_driver_sqlite import StatementOptions as SqliteOptions

from sms123_sync.contact import FIELD_NAMES, ContactFields
from sms123_sync.errors import LockError, StateError
from sms123_sync.files import DEFAULT_STATE as DEFAULT_STATE  # re-exported: its home before
from sms123_sync.i18n import Text
from sms123_sync.i18n import lazy_gettext as _
from sms123_sync.mapping.desired import fields_hash

SCHEMA_VERSION = 3

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS groups (name TEXT PRIMARY KEY, origin TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memberships (
    grp TEXT NOT NULL, numero TEXT NOT NULL, key TEXT NOT NULL,
    {", ".join(f"{f} TEXT NOT NULL DEFAULT ''" for f in FIELD_NAMES)},
    fhash INTEGER NOT NULL,
    PRIMARY KEY (grp, numero)
);
CREATE INDEX IF NOT EXISTS memberships_key ON memberships(key);
CREATE INDEX IF NOT EXISTS memberships_numero ON memberships(numero);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started TEXT NOT NULL, ended TEXT, command TEXT NOT NULL,
    source TEXT, source_hash TEXT, mapping TEXT, mapping_hash TEXT, mode TEXT,
    counts TEXT, exit_code INTEGER
);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, op TEXT NOT NULL, status TEXT NOT NULL,
    code TEXT, meaning TEXT, attempts INTEGER NOT NULL DEFAULT 0, started TEXT NOT NULL, ended TEXT
);
CREATE INDEX IF NOT EXISTS journal_status ON journal(status);
"""

# Campaigns (version 3): one row per campaign, one per (campaign, number) send, written
# 'pending' before its call and concluded after it (sms123_sync/campaigns/run.py).
_CAMPAIGN_TABLES = """
CREATE TABLE IF NOT EXISTS campaigns (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, template TEXT NOT NULL, kind TEXT NOT NULL,
    source TEXT NOT NULL, created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS campaign_sends (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id), numero TEXT NOT NULL, message TEXT NOT NULL,
    segments INTEGER NOT NULL, diff TEXT, status TEXT NOT NULL, code TEXT, meaning TEXT, reference TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, run_id INTEGER, started TEXT NOT NULL, ended TEXT,
    PRIMARY KEY (campaign_id, numero)
);
"""
_SCHEMA += _CAMPAIGN_TABLES

# Steps that bring a file written at version N-1 to version N; _SCHEMA is the latest.
_MIGRATIONS: dict[int, str] = {
    # A group-less delete (account: exclusive) looked the number up with a full scan.
    2: "CREATE INDEX IF NOT EXISTS memberships_numero ON memberships(numero);",
    # Campaigns and their per-recipient sends.
    3: _CAMPAIGN_TABLES,
}


_MEMBER_COLUMNS = ("grp", "numero", "key", *FIELD_NAMES, "fhash")
_MEMBER_SCHEMA = pa.schema([(name, pa.int64() if name == "fhash" else pa.string()) for name in _MEMBER_COLUMNS])
# What a plan reads of every record: the fields stay in the file until a change needs them.
_SLIM_SCHEMA = pa.schema(
    [("rowid", pa.int64()), ("grp", pa.string()), ("numero", pa.string()), ("key", pa.string()), ("fhash", pa.int64())]
)
_ROWIDS_PER_QUERY = 50_000
# Rows per Arrow batch from the SQLite driver (its default is 1 024): a state of up to
# this many records comes as one chunk, which :meth:`StateStore._read_members_arrow`
# need not copy to join.
_BATCH_ROWS = 1 << 22
# The fields of records a plan changes, by rowid (a JSON list of rowids as the parameter).
_FIELDS_SCHEMA = pa.schema(
    [("rowid", pa.int64()), ("grp", pa.string()), ("numero", pa.string()), ("fhash", pa.int64())]
    + [(name, pa.string()) for name in FIELD_NAMES]
)
_FIELDS_QUERY = (
    f"SELECT {', '.join(_FIELDS_SCHEMA.names)} FROM memberships WHERE rowid IN (SELECT value FROM json_each(?))"
)


def _rows_table(rows: Sequence[Sequence[object]], schema: pa.Schema) -> pa.Table:
    """Rows the store's own connection read, as the Arrow table the driver would give."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    return pa.table(
        [pa.array(column, type=field.type) for column, field in zip(columns, schema, strict=True)], schema=schema
    )


def _member_query(schema: pa.Schema) -> str:
    return f"SELECT {', '.join(schema.names)} FROM memberships"


class StateChangedError(StateError):
    """A record changed between the slim load and the reading of its fields: another
    process wrote the state meanwhile (a plan beside a running sync). ``make_plan`` plans
    again from a whole load, read at one moment."""


class _FieldReader:
    """The fields of records a slim :class:`KnownState` holds, read by rowid when a plan
    needs them; refuses (StateError) a record that changed since the load."""

    def __init__(self, store: StateStore, rowids: pa.ChunkedArray, slim: pa.Table) -> None:
        self._store = store
        self._rowids = rowids.to_numpy()
        self._slim = slim  # Arrow columns: taken row by row only for the records read

    def read(self, positions: np.ndarray) -> pd.DataFrame:
        positions = np.asarray(positions, dtype=np.int64)
        wanted = self._rowids[positions].tolist()
        if self._store.closed:  # a library caller closed the store first
            raise StateError(
                _(
                    "{path}: the state was loaded without its fields and its store is closed; "
                    "plan inside the store's with block, or load it with fields=True"
                ).format(path=self._store.path)
            )
        if not wanted:
            return pd.DataFrame({name: [] for name in FIELD_NAMES}, dtype=object)
        found = self._store.read_fields(wanted)
        at = pc.index_in(pa.array(wanted, pa.int64()), value_set=found["rowid"])
        taken = pa.array(positions, pa.int64())
        rows = found.take(pc.fill_null(at, 0)) if len(found) else None
        # What the slim load saw of each record (grp, numero, fhash) must still be there.
        if (
            rows is None
            or at.null_count
            or not all(
                rows[name].combine_chunks().equals(self._slim[name].take(taken).combine_chunks())
                for name in ("grp", "numero", "fhash")
            )
        ):
            raise StateChangedError(
                _(
                    "{path}: the state file changed while this plan was made "
                    "(another run of sms123-sync?); run the command again"
                ).format(path=self._store.path)
            )
        fields: pd.DataFrame = rows.select(list(FIELD_NAMES)).to_pandas()
        return fields


# State files that a StateStore of this process has open: (device, inode) -> how many.
_open_files: dict[tuple[int, int], int] = {}
_open_files_lock = threading.Lock()


#: One row of the runs, journal or campaign tables, by column name.
Row = dict[str, str | int | None]


class CampaignSummary(TypedDict):
    """One campaign as ``runs`` lists it: its name, kind, source and counts per status."""

    id: int
    name: str
    kind: str
    source: str
    created: str
    counts: dict[str, int]


def _file_id(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_dev, stat.st_ino


# SQLite's primary result codes (the low byte of ``sqlite_errorcode``) → what the user
# can do about it. Anything else reads as damage.
_SQLITE_BUSY = 5
_SQLITE_READONLY = 8
_SQLITE_CANTOPEN = 14
_SQLITE_FULL = 13
_DAMAGED_ADVICE = _(
    "restore it from a backup, or move it away: the next sync then re-adds every contact"
    " (the API answers 'already there') and deletes nothing it does not know"
)
_STATE_ADVICE: dict[int, Text] = {
    _SQLITE_READONLY: _("the state file cannot be written; let this user write it and its folder, or pass --state"),
    _SQLITE_CANTOPEN: _("the state file cannot be opened; check it and its folder are writable, or pass --state"),
    _SQLITE_FULL: _("the state file cannot grow: the disk is full; free some space and run again"),
    _SQLITE_BUSY: _("the state file is busy: another program keeps it open for writing; run again when it is done"),
}
# Errors of the SQLite libraries the store reads through that mean the file is at fault;
# a constraint or misuse error is a bug of ours and stays an internal error.
_DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.DatabaseError, adbc_sqlite.DatabaseError)
_OUR_BUGS: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    sqlite3.ProgrammingError,
    sqlite3.DataError,
    sqlite3.NotSupportedError,
)


def _file_fault(exc: BaseException) -> bool:
    return isinstance(exc, _DATABASE_ERRORS) and not isinstance(exc, _OUR_BUGS)


def state_error(path: Path, exc: BaseException) -> StateError:
    """A StateError naming the file, what SQLite said and what to do about it."""
    primary = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    advice = _STATE_ADVICE.get(primary) or _("not a usable state file (damaged, or not one); {advice}").format(
        advice=_DAMAGED_ADVICE
    )
    # SQLite's own words stay as they are: they name the fault for a search or a bug report.
    return StateError(_("{path}: {advice} ({reason})").format(path=path, advice=advice, reason=exc))


def state_error_of(exc: BaseException) -> StateError | None:
    """The StateError for a SQLite failure that escaped a StateStore method, else None.

    The last net of the command line: a method without :meth:`StateStore.guard` still
    gets its file named, found in the frames the error passed through.
    """
    if not _file_fault(exc):
        return None
    tb = exc.__traceback__
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        if isinstance(owner, StateStore):
            return state_error(owner.path, exc)
        tb = tb.tb_next
    return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class KnownState:
    """What the tool last put in the account.

    ``memberships`` holds grp, numero, key and fhash per record, and the seven fields
    too unless it was loaded without them (``StateStore.load(fields=False)``): then
    :meth:`fields_at` reads the fields of the few records a plan changes from the store.
    """

    groups: dict[str, str]  # name -> origin (created | adopted)
    memberships: pd.DataFrame  # grp, numero, key, [nom … v3,] fhash
    # Fields by position, when not loaded; the planner calls it from its helper thread.
    reader: Callable[[np.ndarray], pd.DataFrame] | None = None

    @property
    def contact_count(self) -> int:
        if not len(self.memberships):
            return 0
        return int(pc.count_distinct(pa.array(self.memberships["key"], pa.string(), from_pandas=True)).as_py())

    def fields_at(self, positions: np.ndarray) -> pd.DataFrame:
        """The seven fields of the records at ``positions`` of ``memberships``, in that order."""
        if all(name in self.memberships for name in FIELD_NAMES):
            return self.memberships[list(FIELD_NAMES)].iloc[positions].reset_index(drop=True)
        if self.reader is None:
            raise StateError(_("the known state was loaded without its fields and has no store to read them from"))
        return self.reader(positions)


class StateStore:
    """The SQLite state file; methods that change it are single transactions."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise StateError(
                _("{path}: is a folder, not a state file; pass --state with a file path").format(path=self.path)
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise StateError(
                _("{path}: cannot create the state file ({reason}); pass --state with a writable path").format(
                    path=self.path, reason=exc.strerror
                )
            ) from None
        self._lock = threading.Lock()
        self.closed = False
        self._lock_file: int | None = None
        # Counted before connecting, under the registry's lock: a store opened while
        # another one reads through the Arrow driver waits for that read to end.
        self._file_id = _file_id(self.path)
        with _open_files_lock:
            _open_files[self._file_id] = _open_files.get(self._file_id, 0) + 1
            try:
                self._db = self._connect()
            except sqlite3.Error as exc:
                self._unregister()
                raise state_error(self.path, exc) from None
        try:
            self._upgrade()
        except BaseException as exc:
            self._db.close()
            with _open_files_lock:
                self._unregister()
            if _file_fault(exc):
                raise state_error(self.path, exc) from None
            raise

    def _connect(self) -> sqlite3.Connection:
        """The store's own connection; WAL, so a plan can read beside a running sync."""
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            db.close()
            raise
        return db

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turns a SQLite failure inside the block into a StateError naming this file.

        A damaged page is only met when a query reaches it, so every reader and writer
        runs under this guard, not only the opening of the file.
        """
        try:
            yield
        except _DATABASE_ERRORS as exc:
            if not _file_fault(exc):
                raise
            raise state_error(self.path, exc) from None

    def _upgrade(self) -> None:
        """Creates a new file at the latest schema, or brings an older one up to it.

        A file already at the latest version is only read (a ``plan`` beside a running
        sync takes no write lock). Otherwise one immediate transaction, the version read
        again inside it: two processes opening an old file at once migrate it once.
        """
        if self._stored_version() == SCHEMA_VERSION:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._stored_version()
            if version is None:
                self._run_script(_SCHEMA)
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            else:
                if version > SCHEMA_VERSION:
                    raise StateError(
                        _("{path}: written by a newer sms123-sync (schema {version}); upgrade the tool").format(
                            path=self.path, version=version
                        )
                    )
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    self._run_script(_MIGRATIONS[step])
                self._db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def _stored_version(self) -> int | None:
        """The schema version the file records; None for a new (empty) file.

        Only the whole numbers this tool wrote are accepted: '2.1' or 0 mean the file was
        edited or written by something else, and migrating it would guess.
        """
        has_meta = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() if has_meta else None
        if row is None:
            return None
        text = str(row[0]).strip()
        if not (text.isascii() and text.isdigit() and int(text) >= 1):
            raise StateError(
                _(
                    "{path}: records schema version {version}, which sms123-sync never writes"
                    " (versions are whole numbers from 1 to {latest}); the file was changed by another"
                    " program: {advice}"
                ).format(path=self.path, version=repr(str(row[0])[:20]), latest=SCHEMA_VERSION, advice=_DAMAGED_ADVICE)
            )
        return int(text)

    def _run_script(self, script: str) -> None:
        """Statements one by one: executescript would commit the open transaction first."""
        for statement in script.split(";"):
            if statement.strip():
                self._db.execute(statement)

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Releases the run lock and closes the file."""
        self.closed = True
        self.release()
        self._db.close()
        with _open_files_lock:
            self._unregister()

    def _unregister(self) -> None:
        """Counts this store out of the registry (its lock held by the caller)."""
        left = _open_files.pop(self._file_id, 1) - 1
        if left:
            _open_files[self._file_id] = left

    def lock_path(self) -> Path:
        """The lock file, named after the resolved state path.

        A symlink or a relative spelling of the same file must meet the same lock.
        """
        real = self.path.resolve()
        return real.with_suffix(real.suffix + ".lock")

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # -- lock -----------------------------------------------------------------------

    def acquire(self) -> None:
        """Takes the run lock or raises LockError naming the holder."""
        try:
            fd = os.open(self.lock_path(), os.O_CREAT | os.O_RDWR, 0o600)
        except OSError as exc:
            raise StateError(
                _(
                    "{path}: cannot create its lock file {lock} ({reason}); make the folder writable or pass --state"
                ).format(path=self.path, lock=self.lock_path(), reason=exc.strerror)
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or _("another process")
            os.close(fd)
            raise LockError(
                _("{path} is in use by {holder}; wait for it to finish").format(path=self.path, holder=holder)
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {_now()}".encode())
        self._lock_file = fd

    def release(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            os.close(self._lock_file)
            self._lock_file = None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Holds the run lock for the block, unless this store holds it already."""
        if self._lock_file is not None:
            yield
            return
        self.acquire()
        try:
            yield
        finally:
            self.release()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self.guard():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- known state ----------------------------------------------------------------

    def load(self, *, fields: bool = True) -> KnownState:
        """The last-known state, columnar.

        ``fields=False`` leaves the seven fields in the file: a plan needs them only for
        the records it changes, and reading them for every membership is two thirds of
        the load (docs/design.md, "Speed rules"). :meth:`KnownState.fields_at` then reads
        those records through this store, which must still be open.
        """
        schema = _MEMBER_SCHEMA if fields else _SLIM_SCHEMA
        with self._lock, self.guard():
            groups = dict(self._db.execute("SELECT name, origin FROM groups").fetchall())
            has_members = self._db.execute("SELECT EXISTS (SELECT 1 FROM memberships)").fetchone()[0]
            table = None
            # The registry's lock is held through the Arrow read: no store of this process
            # can open the file meanwhile (module docstring).
            with _open_files_lock:
                if has_members and _open_files.get(self._file_id, 0) <= 1:
                    table = self._read_members_arrow(schema)
            if table is None:
                table = self._read_members_sqlite(schema)
        if fields:
            return KnownState(groups, table.to_pandas())
        slim = table.drop_columns(["rowid"])
        reader = _FieldReader(self, table["rowid"], slim)
        return KnownState(groups, slim.to_pandas(), reader.read)

    def _read_members_arrow(
        self, schema: pa.Schema, query: str | None = None, parameters: Sequence[str] = ()
    ) -> pa.Table:
        """The memberships through Arrow's SQLite driver, the store's connection closed meanwhile.

        The two SQLite copies never hold the file at the same time, so neither can
        delete a write-ahead log the other still uses; the run lock (a separate file)
        stays held throughout.
        """
        self._db.close()
        try:
            with adbc_sqlite.connect(str(self.path)) as conn, conn.cursor() as cur:
                cur.adbc_statement.set_options(**{SqliteOptions.BATCH_ROWS.value: str(_BATCH_ROWS)})
                if query is None:
                    cur.execute(_member_query(schema))
                    table = cur.fetch_arrow_table()
                else:  # one query per batch of parameters, their rows together
                    parts = []
                    for parameter in parameters:
                        cur.execute(query, (parameter,))
                        parts.append(cur.fetch_arrow_table().cast(schema))
                    table = pa.concat_tables(parts) if parts else schema.empty_table()
        except (OSError, pa.ArrowException) as exc:  # the driver's read of a damaged page
            raise state_error(self.path, exc) from None
        finally:
            self._db = self._connect()
        # One chunk per column: pandas takes rows of a chunked column by joining its
        # chunks first (0.05 s for 18 000 rows of two million records, at every take).
        return table.cast(schema).combine_chunks()

    def _read_members_sqlite(self, schema: pa.Schema) -> pa.Table:
        """The memberships through the store's own connection: slower, always safe."""
        return _rows_table(self._db.execute(_member_query(schema)).fetchall(), schema)

    def read_fields(self, rowids: list[int]) -> pa.Table:
        """rowid, grp, numero, fhash and the seven fields of the given records, in no
        particular order; through Arrow's driver when no other store of this process has
        the file open (as :meth:`load`), else through the store's own connection."""
        step = _ROWIDS_PER_QUERY
        queries = [json.dumps(rowids[start : start + step]) for start in range(0, len(rowids), step)]
        with self._lock, self.guard():
            with _open_files_lock:
                if _open_files.get(self._file_id, 0) <= 1:
                    return self._read_members_arrow(_FIELDS_SCHEMA, _FIELDS_QUERY, queries)
            rows = [row for chunk in queries for row in self._db.execute(_FIELDS_QUERY, (chunk,))]
        return _rows_table(rows, _FIELDS_SCHEMA)

    def add_group(self, db: sqlite3.Connection, name: str, origin: str) -> None:
        db.execute("INSERT OR IGNORE INTO groups VALUES (?, ?)", (name, origin))

    def rename_group(self, db: sqlite3.Connection, old: str, new: str) -> None:
        db.execute("INSERT OR IGNORE INTO groups SELECT ?, origin FROM groups WHERE name = ?", (new, old))
        db.execute("UPDATE OR REPLACE memberships SET grp = ? WHERE grp = ?", (new, old))
        db.execute("DELETE FROM groups WHERE name = ?", (old,))

    def delete_group(self, db: sqlite3.Connection, name: str) -> None:
        db.execute("DELETE FROM memberships WHERE grp = ?", (name,))
        db.execute("DELETE FROM groups WHERE name = ?", (name,))

    def put_member(
        self,
        db: sqlite3.Connection,
        group: str,
        number: str,
        key: str,
        fields: ContactFields,
        old_number: str = "",
        fhash: int | None = None,
    ) -> None:
        """Records one membership; ``fhash`` saves re-hashing when the planner has it."""
        if old_number and old_number != number:
            db.execute("DELETE FROM memberships WHERE grp = ? AND numero = ?", (group, old_number))
        values = fields.as_dict()
        if fhash is None:
            fhash = int(fields_hash(pd.DataFrame([values]))[0])
        db.execute(
            f"INSERT OR REPLACE INTO memberships (grp, numero, key, {', '.join(FIELD_NAMES)}, fhash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (group, number, key, *values.values(), fhash),
        )

    def delete_member(self, db: sqlite3.Connection, number: str, group: str | None) -> None:
        if group is None:
            db.execute("DELETE FROM memberships WHERE numero = ?", (number,))
        else:
            db.execute("DELETE FROM memberships WHERE grp = ? AND numero = ?", (group, number))

    @contextmanager
    def change(self) -> Iterator[sqlite3.Connection]:
        """One transaction for an outcome and its state change."""
        with self._tx() as db:
            yield db

    # -- journal and runs -----------------------------------------------------------

    def begin_run(self, command: str, **info: str | None) -> int:
        """Records the start of a run (source, mapping and their fingerprints, mode)."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO runs (started, command, source, source_hash, mapping, mapping_hash, mode)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    _now(),
                    command,
                    info.get("source"),
                    info.get("source_hash"),
                    info.get("mapping"),
                    info.get("mapping_hash"),
                    info.get("mode"),
                ),
            )
            return int(cur.lastrowid or 0)

    def end_run(self, run_id: int, exit_code: int, counts: Mapping[str, object]) -> None:
        """Records the end of a run: its exit code and its counts (JSON)."""
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET ended = ?, exit_code = ?, counts = ? WHERE id = ?",
                (_now(), exit_code, json.dumps(counts), run_id),
            )

    def journal_begin(self, run_id: int, op: Mapping[str, object]) -> int:
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO journal (run_id, op, status, started) VALUES (?, ?, 'pending', ?)",
                (run_id, json.dumps(op, ensure_ascii=False), _now()),
            )
            return int(cur.lastrowid or 0)

    def journal_end(
        self, db: sqlite3.Connection, entry: int, status: str, code: str | None, meaning: str, attempts: int
    ) -> None:
        db.execute(
            "UPDATE journal SET status = ?, code = ?, meaning = ?, attempts = ?, ended = ? WHERE id = ?",
            (status, code, meaning, attempts, _now(), entry),
        )

    def journal_held(self, run_id: int, ops: list[Mapping[str, object]], release: str) -> None:
        """Records the deletes the guard held, with how to release them, in one transaction.

        Status ``held``, never ``pending``: nothing was sent, so no later run settles them;
        the next run plans them again from the state, which still holds them.
        """
        now = _now()
        with self._tx() as db:
            db.executemany(
                "INSERT INTO journal (run_id, op, status, meaning, started, ended) VALUES (?, ?, 'held', ?, ?, ?)",
                [(run_id, json.dumps(op, ensure_ascii=False), release, now, now) for op in ops],
            )

    def open_entries(self) -> list[tuple[int, dict[str, object]]]:
        """Operations journaled but never concluded (the process died mid-call)."""
        with self.guard():
            rows = self._db.execute("SELECT id, op FROM journal WHERE status = 'pending' ORDER BY id").fetchall()
        return [(int(i), json.loads(op)) for i, op in rows]

    def take_open_entries(self) -> list[dict[str, object]]:
        """The open operations, marked ``settled`` in the same transaction.

        The run that replays them journals each again, so a crash during the replay
        leaves the new entries open, never these twice.
        """
        with self.guard(), self._tx() as db:
            rows = db.execute("SELECT op FROM journal WHERE status = 'pending' ORDER BY id").fetchall()
            db.execute("UPDATE journal SET status = 'settled' WHERE status = 'pending'")
        return [json.loads(op) for (op,) in rows]

    _RUN_COLUMNS = "id, started, ended, command, source, mode, counts, exit_code"

    def runs(self, limit: int = 50) -> list[Row]:
        return self._rows(f"SELECT {self._RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?", (limit,))

    def run(self, run_id: int) -> Row | None:
        """One run by its id (the primary key: no scan of the history)."""
        rows = self._rows(f"SELECT {self._RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        return rows[0] if rows else None

    def journal_of(self, run_id: int) -> list[Row]:
        return self._rows(
            "SELECT id, op, status, code, meaning, attempts FROM journal WHERE run_id = ? ORDER BY id", (run_id,)
        )

    def _rows(self, query: str, params: tuple[object, ...]) -> list[Row]:
        with self.guard():
            cur = self._db.execute(query, params)
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    # -- campaigns (schema 3; used by sms123_sync/campaigns/run.py) ---------------------

    def open_campaign(self, name: str, template: str, kind: str, source: str) -> tuple[int, str]:
        """The campaign called ``name``, created if new: (id, the template it was made with)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO campaigns (name, template, kind, source, created) VALUES (?, ?, ?, ?, ?)",
                (name, template, kind, source, _now()),
            )
            row = db.execute("SELECT id, template FROM campaigns WHERE name = ?", (name,)).fetchone()
        return int(row[0]), str(row[1])

    def campaign_sends(self, campaign_id: int) -> list[Row]:
        """Every recipient's send of a campaign, as journaled, by number."""
        return self._rows(
            "SELECT numero, message, segments, diff, status, code, meaning, reference, attempts, run_id, started, ended"
            " FROM campaign_sends WHERE campaign_id = ? ORDER BY numero",
            (campaign_id,),
        )

    def send_begin(self, campaign_id: int, run_id: int, number: str, message: str, segments: int, diff: str) -> None:
        """Journals one send as pending, before its call (a new attempt replaces an old one).

        ``diff`` is the scheduled Paris time as ``YYYY-MM-DD HH:MM``, empty for a send now.
        """
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO campaign_sends (campaign_id, numero, message, segments, diff, status,"
                " run_id, started) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
                (campaign_id, number, message, segments, diff or None, run_id, _now()),
            )

    def send_end(
        self,
        campaign_id: int,
        number: str,
        status: str,
        code: str | None,
        meaning: str,
        reference: str | None,
        attempts: int,
    ) -> None:
        """Concludes one send with its outcome."""
        with self._tx() as db:
            db.execute(
                "UPDATE campaign_sends SET status = ?, code = ?, meaning = ?, reference = ?, attempts = ?, ended = ?"
                " WHERE campaign_id = ? AND numero = ?",
                (status, code, meaning, reference, attempts, _now(), campaign_id, number),
            )

    def campaigns(self, limit: int = 50) -> list[CampaignSummary]:
        """Campaigns, newest first, with their counts per send status."""
        rows = self._rows("SELECT id, name, kind, source, created FROM campaigns ORDER BY id DESC LIMIT ?", (limit,))
        summaries = []
        for row in rows:
            counts = self._rows(
                "SELECT status, COUNT(*) AS n FROM campaign_sends WHERE campaign_id = ? GROUP BY status", (row["id"],)
            )
            summaries.append(
                CampaignSummary(
                    id=int(row["id"] or 0),
                    name=str(row["name"]),
                    kind=str(row["kind"]),
                    source=str(row["source"] or ""),
                    created=str(row["created"]),
                    counts={str(c["status"]): int(c["n"] or 0) for c in counts},
                )
            )
        return summaries

    def campaign_named(self, name: str) -> Row | None:
        rows = self._rows("SELECT id, name, template, kind, source, created FROM campaigns WHERE name = ?", (name,))
        return rows[0] if rows else None

    # -- import / export / reset ----------------------------------------------------

    def import_members(self, frame: pd.DataFrame, origin: str = "adopted") -> int:
        """Adopts (groupe, numero[, key], fields) rows that already exist in the account.

        One transaction and one executemany, so a 1M-membership state loads in seconds.
        """
        rows = frame.rename(columns={"groupe": "grp"}).copy()
        if "key" not in rows.columns:
            rows["key"] = rows["numero"]
        rows["key"] = rows["key"].where(rows["key"].astype(str) != "", rows["numero"])
        for name in FIELD_NAMES:
            rows[name] = rows[name].fillna("").astype(str) if name in rows.columns else ""
        rows["fhash"] = fields_hash(rows)
        columns = ["grp", "numero", "key", *FIELD_NAMES, "fhash"]
        records = rows[columns].astype(object).itertuples(index=False, name=None)
        with self._locked(), self._tx() as db:
            db.executemany("INSERT OR IGNORE INTO groups VALUES (?, ?)", [(g, origin) for g in rows["grp"].unique()])
            db.executemany(
                f"INSERT OR REPLACE INTO memberships ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                records,
            )
        return len(rows)

    def export_members(self) -> pd.DataFrame:
        with self.guard():
            known = self.load().memberships.rename(columns={"grp": "groupe"})
        return known.drop(columns=["fhash"])

    def reset(self) -> None:
        """Forgets everything; refused (LockError) while a sync holds the file."""
        with self._locked(), self._tx() as db:
            for table in ("groups", "memberships", "journal", "runs", "campaign_sends", "campaigns"):
                db.execute(f"DELETE FROM {table}")
