"""Stopping a sync early: Ctrl-C, SIGTERM and --deadline stop cleanly, the next run finishes.

The signal tests run the real command in a child process against a sandbox (in this
process) slowed by latency, and signal it once it is applying.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from sms123_sync.api.codes import Endpoint
from sms123_sync.api.connection import ConnectionSettings
from sms123_sync.cli import cli
from sms123_sync.reconcile.apply import EXIT_DEADLINE, EXIT_INTERRUPTED, ApplyOptions, Status
from sms123_sync.reconcile.state import StateStore
from sms123_sync.reconcile.sync import run_sync
from sms123_sync.sandbox.server import DEFAULT_KEY, DEFAULT_USER, Faults, Sandbox
from tests.helpers import FAST_RETRY

ROOT = Path(__file__).parent.parent
MAPPING = "identity: Id\nfields: {numero: Tel, nom: Nom}\ngroups: {column: G}\n"


def write_inputs(tmp: Path, count: int) -> tuple[Path, Path]:
    export = tmp / "export.csv"
    rows = "".join(f"{i};06{10_000_000 + i};Nom{i};A\n" for i in range(count))
    export.write_text("Id;Tel;Nom;G\n" + rows, encoding="utf-8")
    mapping = tmp / "m.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return export, mapping


def settings(sandbox: Sandbox) -> ConnectionSettings:
    return ConnectionSettings(user=DEFAULT_USER, api_key=DEFAULT_KEY, base_url=sandbox.url, retry=FAST_RETRY)


def journal(state: Path) -> list[dict[str, str | int | None]]:
    with StateStore(state) as store:
        return [entry for run in store.runs(100) for entry in store.journal_of(int(run["id"] or 0))]


def start_sync(tmp: Path, sandbox: Sandbox, export: Path, mapping: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "sms123_sync", "sync", str(export), "-m", str(mapping)]
    command += ["--state", str(tmp / "state.sqlite"), "--yes", "--concurrency", "4", "--base-url", sandbox.url]
    env = {**os.environ, "SMS123_USER": DEFAULT_USER, "SMS123_API_KEY": DEFAULT_KEY, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(command, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_adds(sandbox: Sandbox, count: int, proc: subprocess.Popen[str]) -> None:
    limit = time.monotonic() + 20
    while sandbox.calls[Endpoint.CONTACT_ADD] < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < limit, "the sync never started applying"
        time.sleep(0.02)


def next_night_completes(sandbox: Sandbox, export: Path, mapping: Path, state: Path, count: int) -> None:
    sandbox.faults = Faults()
    report = run_sync(export, mapping, state, settings(sandbox))
    assert report.exit_code == 0
    assert len(sandbox.store.memberships()) == count
    assert not StateStore(state).open_entries()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_first_signal_stops_after_the_calls_in_flight(tmp_path: Path, sig: signal.Signals) -> None:
    count = 300
    export, mapping = write_inputs(tmp_path, count)
    state = tmp_path / "state.sqlite"
    with Sandbox(tmp_path / "sandbox.sqlite", faults=Faults(latency_ms=40)) as sandbox:
        proc = start_sync(tmp_path, sandbox, export, mapping)
        wait_for_adds(sandbox, 8, proc)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
        adds = sandbox.calls[Endpoint.CONTACT_ADD]

        assert proc.returncode == EXIT_INTERRUPTED, out + err
        # Without the handler the whole phase runs on (300 adds); the calls made are
        # those before the signal plus at most the ones in flight, not a wall-clock bound.
        assert adds < count / 3, "the run went on applying after the signal"
        assert f"interrupted by {sig.name}" in out and "the next run continues" in out
        assert "Traceback" not in err
        assert f"{sig.name}: finishing the calls in flight" in err  # said at once, before the end
        entries = journal(state)
        # Every journaled operation was sent and its answer recorded: none is left open,
        # and no unsent operation was journaled (one add call per contact here).
        assert [e for e in entries if e["status"] == "pending"] == []
        contact_entries = [e for e in entries if json.loads(str(e["op"]))["kind"] == "CONTACT_ADD"]
        assert len(contact_entries) == adds == len(sandbox.store.memberships())

        next_night_completes(sandbox, export, mapping, state, count)


def test_second_signal_stops_at_once_and_the_next_run_settles(tmp_path: Path) -> None:
    count = 200
    export, mapping = write_inputs(tmp_path, count)
    with Sandbox(tmp_path / "sandbox.sqlite", faults=Faults(latency_ms=300)) as sandbox:
        proc = start_sync(tmp_path, sandbox, export, mapping)
        wait_for_adds(sandbox, 4, proc)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == EXIT_INTERRUPTED, out + err
        assert "Traceback" not in err
        assert sandbox.calls[Endpoint.CONTACT_ADD] < count / 4
        next_night_completes(sandbox, export, mapping, tmp_path / "state.sqlite", count)


def test_run_deadline_starts_nothing_after_it(tmp_path: Path, sandbox: Sandbox) -> None:
    count = 120
    export, mapping = write_inputs(tmp_path, count)
    state = tmp_path / "state.sqlite"
    sandbox.faults = Faults(latency_ms=30)
    options = ApplyOptions(concurrency=2, deadline_at=time.monotonic() + 0.5)
    report = run_sync(export, mapping, state, settings(sandbox), apply_options=options)

    assert report.result is not None and report.result.stopped is not None
    assert report.exit_code == EXIT_DEADLINE
    assert "deadline passed" in str(report.result.stopped)
    skipped = report.result.count(Status.SKIPPED)
    done = sandbox.calls[Endpoint.CONTACT_ADD]
    assert skipped > count / 2 and done + skipped == count
    entries = journal(state)
    assert all(e["status"] != "pending" for e in entries)
    assert sum(1 for e in entries if json.loads(str(e["op"]))["kind"] == "CONTACT_ADD") == done
    next_night_completes(sandbox, export, mapping, state, count)


def test_cli_deadline_says_so_and_exits_1(tmp_path: Path, sandbox: Sandbox) -> None:
    export, mapping = write_inputs(tmp_path, 60)
    sandbox.faults = Faults(latency_ms=30)
    args = ["sync", str(export), "-m", str(mapping), "--state", str(tmp_path / "s.sqlite"), "--yes"]
    args += ["--base-url", sandbox.url, "--user", DEFAULT_USER, "--concurrency", "1", "--deadline", "0.3s"]
    result = CliRunner().invoke(cli, args, env={"SMS123_API_KEY": DEFAULT_KEY})
    assert result.exit_code == 1, result.output
    assert "run stopped: the run's deadline passed" in result.output
    assert "not started; the next run continues" in result.output
