"""A real ``sms123-sync sync`` process killed mid-run, then the next night: nothing lost.

The in-process convergence property raises its "crashes" inside one interpreter, whose
``finally`` blocks still close the database and the lock; it cannot see what a SIGKILL,
the OOM killer or a power cut leaves behind. Here the sync is a separate process, killed
with SIGKILL or SIGTERM once the sandbox (in this process, over loopback) has received a
given number of calls, at points spread over the phases of the second night: group adds
and the rename, contact adds, updates and number changes, deletes. The third night is a
different export that undoes part of what the killed night did, so a state file that
forgot the killed run's calls shows as an account that no longer matches its export.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sms123_sync.reconcile.state import StateStore
from sms123_sync.sandbox.server import Faults, Sandbox
from tests.helpers import kill_after_calls, sandbox_env

MAPPING = "identity: Id\nfields: {numero: Tel, nom: Nom}\ngroups: {column: G, separator: ','}\nmode: mirror\n"
Row = tuple[int, str, str, str]  # id, national mobile, name, groups


def _number(i: int) -> str:
    return f"06{10_000_000 + i:08d}"


def _night1() -> list[Row]:
    groups = ["A", "A,B", "B,C", "C"]
    return [(i, _number(i), f"Nom{i}", groups[i % 4]) for i in range(200)]


def _night2() -> list[Row]:
    """Renames C, adds 150 people, renames 50, moves 20 numbers, drops 20 people."""
    rows: list[Row] = []
    for i, number, name, groups in _night1():
        if i >= 180:
            continue  # leaves
        new_name = f"{name}-bis" if i < 50 else name
        new_number = _number(i + 5000) if 50 <= i < 70 else number
        rows.append((i, new_number, new_name, groups.replace("C", "Clients")))
    rows += [(i, _number(i), f"Nouveau{i}", "A,D" if i % 2 else "D") for i in range(200, 350)]
    return rows


def _night3() -> list[Row]:
    """Undoes part of night 2: the first 60 of its new people leave, group D is dropped."""
    rows = [r for r in _night2() if not 200 <= r[0] < 260]
    return [(i, n, name, ",".join(g for g in groups.split(",") if g != "D") or "A") for i, n, name, groups in rows]


def _write(path: Path, rows: list[Row]) -> Path:
    body = "".join(f"{i};{n};{name};{g}\n" for i, n, name, g in rows)
    path.write_text("Id;Tel;Nom;G\n" + body, encoding="utf-8")
    return path


def _expected(rows: list[Row]) -> dict[tuple[str, str], str]:
    """The account an export describes: (group, international number) -> name."""
    return {(g, "33" + n[1:]): name for _, n, name, groups in rows for g in groups.split(",")}


def _account(sandbox: Sandbox) -> dict[tuple[str, str], str]:
    return {key: fields["nom"] for key, fields in sandbox.store.memberships().items()}


def _state(path: Path) -> dict[tuple[str, str], str]:
    store = StateStore(path)
    try:
        frame = store.load().memberships
        pending = store.open_entries()
    finally:
        store.close()
    assert not pending, "a completed run leaves no open journal entry"
    return {(r["grp"], r["numero"]): r["nom"] for r in frame.to_dict("records")}


def _command(tmp: Path, export: Path, sandbox: Sandbox) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sms123_sync",
        "sync",
        str(export),
        "--mapping",
        str(tmp / "m.yaml"),
        "--state",
        str(tmp / "state.sqlite"),
        "--yes",
        "--max-delete",
        "none",
        "--concurrency",
        "4",
        "--base-url",
        sandbox.url,
        "--user",
        "sandbox",
    ]


def _sync(tmp: Path, export: Path, sandbox: Sandbox) -> None:
    done = subprocess.run(
        _command(tmp, export, sandbox), env=sandbox_env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("sig", "after_calls"),
    [
        # The second night is 287 calls: a group add and the rename, 150 contact adds,
        # 105 updates (names and number changes), then 30 deletes.
        (signal.SIGKILL, 1),  # the group add and the rename
        (signal.SIGKILL, 40),  # contact adds
        (signal.SIGKILL, 170),  # updates and number changes
        (signal.SIGKILL, 265),  # deletes
        (signal.SIGTERM, 40),
        (signal.SIGTERM, 200),
    ],
    ids=lambda v: v.name if isinstance(v, signal.Signals) else f"after{v}",
)
def test_killed_sync_then_next_night_matches_export(tmp_path: Path, sig: signal.Signals, after_calls: int) -> None:
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    with Sandbox(tmp_path / "account.sqlite") as sandbox:
        _sync(tmp_path, _write(tmp_path / "night1.csv", _night1()), sandbox)
        assert _account(sandbox) == _expected(_night1())

        first_calls = sandbox.total_calls()
        sandbox.faults = Faults(latency_ms=15)  # slow enough to stop the run in the middle
        night2 = _write(tmp_path / "night2.csv", _night2())
        assert kill_after_calls(_command(tmp_path, night2, sandbox), sandbox, after_calls, sig) != 0
        night2_calls = sandbox.total_calls() - first_calls
        assert night2_calls < 287, "the kill came after the second night's work was done"

        sandbox.faults = Faults()
        night3 = _night3()
        _sync(tmp_path, _write(tmp_path / "night3.csv", night3), sandbox)
        assert _account(sandbox) == _expected(night3)
        assert _state(tmp_path / "state.sqlite") == _account(sandbox)
        assert sorted(sandbox.snapshot()["groups"]) == ["A", "B", "Clients"]
