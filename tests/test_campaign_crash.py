"""A real ``sms123-sync send --group`` process killed mid-campaign, then run again.

The sandbox runs in this process, over loopback; the campaign is a separate process
killed with SIGKILL once the sandbox has accepted a given number of sends, so nothing
of the killed process's own clean-up runs (and with SIGTERM, which stops it gracefully).
The same command then finishes the campaign: the sandbox's record must hold exactly one
message per recipient.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from sms123_sync.reconcile.state import StateStore
from sms123_sync.sandbox.server import Faults, Sandbox
from tests.helpers import kill_after_calls, sandbox_env

RECIPIENTS = 60


def _command(tmp: Path, sandbox: Sandbox) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sms123_sync",
        "send",
        "--group",
        "Club",
        "--message",
        "Bonjour {prenom}, l'assemblée générale est vendredi",
        "--transactional",  # sent now, whatever the hour the test runs at
        "--state",
        str(tmp / "state.sqlite"),
        "--yes",
        "--concurrency",
        "4",
        "--base-url",
        sandbox.url,
        "--user",
        "sandbox",
    ]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=lambda s: s.name)
def test_killed_campaign_then_rerun_sends_each_recipient_exactly_once(tmp_path: Path, sig: signal.Signals) -> None:
    members = pd.DataFrame(
        [("Club", f"3361{i:07d}", f"Membre{i}") for i in range(RECIPIENTS)], columns=["groupe", "numero", "prenom"]
    )
    with StateStore(tmp_path / "state.sqlite") as store:
        store.import_members(members)
    with Sandbox(tmp_path / "account.sqlite") as sandbox:
        sandbox.faults = Faults(latency_ms=15)  # slow enough to be killed in the middle
        # The balance, then sends: kill once a quarter of them went through. Under SIGTERM
        # the calls in flight finish and are journaled, no other starts (exit 130).
        status = kill_after_calls(_command(tmp_path, sandbox), sandbox, 1 + RECIPIENTS // 4, sig)
        assert status == (-signal.SIGKILL if sig is signal.SIGKILL else 130)
        killed_at = len(sandbox.snapshot()["sends"])
        assert killed_at < RECIPIENTS, "the kill came after the campaign was done"

        sandbox.faults = Faults()
        done = subprocess.run(
            _command(tmp_path, sandbox), env=sandbox_env(), capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        sends = sandbox.snapshot()["sends"]
        per_number = Counter(s["numero"] for s in sends)
        assert len(per_number) == RECIPIENTS and set(per_number.values()) == {1}
        assert all(str(s["message"]).startswith("Bonjour Membre") for s in sends)
        assert "already sent by an earlier run" in done.stdout
