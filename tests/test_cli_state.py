"""The state commands on their good paths: show, export, reset, import, through the CLI."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from sms123_sync.cli import cli
from sms123_sync.reconcile import apply
from sms123_sync.sandbox.server import Sandbox

MAPPING = "identity: Id\nfields: {numero: Tel, nom: Nom}\ngroups: {column: G, separator: ','}\n"
EXPORT = "Id;Tel;Nom;G\n1;0612345671;Martin;A,B\n2;0612345672;Durand;A\n"


def _invoke(*args: str) -> str:
    done = CliRunner().invoke(cli, list(args))
    assert done.exit_code == 0, done.output
    assert "Traceback" not in done.output
    return done.output


def test_show_export_reset_import_round_trip(tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS123_API_KEY", "sandbox-key")
    state, export, mapping = tmp_path / "s.sqlite", tmp_path / "e.csv", tmp_path / "m.yaml"
    export.write_text(EXPORT, encoding="utf-8")
    mapping.write_text(MAPPING, encoding="utf-8")
    common = ["--state", str(state)]
    _invoke("sync", str(export), "-m", str(mapping), *common, "--yes", "--base-url", sandbox.url, "--user", "sandbox")

    shown = _invoke("state", "show", *common)
    assert "A" in shown and "B" in shown

    dump = tmp_path / "known.csv"
    _invoke("state", "export", str(dump), *common)
    with dump.open(encoding="utf-8-sig", newline="") as handle:
        rows = sorted((r["groupe"], r["numero"], r["nom"]) for r in csv.DictReader(handle, delimiter=";"))
    assert rows == [("A", "33612345671", "Martin"), ("A", "33612345672", "Durand"), ("B", "33612345671", "Martin")]

    _invoke("state", "reset", "--yes", *common)
    assert "nothing" not in _invoke("plan", str(export), "-m", str(mapping), *common)  # forgotten: all to add again

    _invoke("state", "import", str(dump), *common)  # adopt what the account holds
    again = _invoke("plan", str(export), "-m", str(mapping), *common)
    assert "nothing to do" in again


def test_the_rate_limiter_spaces_calls_evenly_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    # A fake clock: the slots the limiter hands out are checked, not wall time.
    now = [100.0]
    slept: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            slept.append(seconds)

    monkeypatch.setattr("sms123_sync.reconcile.apply.time.monotonic", lambda: now[0])
    monkeypatch.setattr("sms123_sync.reconcile.apply.time.sleep", sleep)
    limiter = apply._RateLimiter(4.0)  # 4 per second: one slot every 0.25 s
    threads = [threading.Thread(target=limiter.wait) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The first call goes at once; the seven others wait 0.25, 0.5 … 1.75 s.
    assert sorted(slept) == pytest.approx([0.25 * k for k in range(1, 8)])
