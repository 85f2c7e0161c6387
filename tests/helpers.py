"""Values and helpers shared by several test files (fixtures stay in conftest.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from sms123_sync.api.client import RetryPolicy
from sms123_sync.api.wire import Credentials
from sms123_sync.sandbox.server import DEFAULT_KEY, DEFAULT_USER, Sandbox

# Retries as the real policy makes them, with waits short enough for a test.
FAST_RETRY = RetryPolicy(attempts=6, initial=0.001, maximum=0.01, jitter=0.001)
CREDS = Credentials(DEFAULT_USER, DEFAULT_KEY)


def sandbox_env() -> dict[str, str]:
    """The environment a real ``sms123-sync`` process needs to talk to a test sandbox."""
    return {**os.environ, "SMS123_API_KEY": DEFAULT_KEY, "PYTHONUNBUFFERED": "1"}


def kill_after_calls(command: list[str], sandbox: Sandbox, calls: int, sig: signal.Signals) -> int:
    """Runs ``command`` as a real process and sends it ``sig`` once the sandbox (in this
    process) has received ``calls`` more calls; returns its exit status (negative: the
    signal that ended it).

    A kill point counted in calls, not seconds, falls in the same phase on a fast or a
    loaded machine.
    """
    before = sandbox.total_calls()
    proc = subprocess.Popen(command, env=sandbox_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while sandbox.total_calls() - before < calls and proc.poll() is None:
        assert time.monotonic() < deadline, "the process never reached its kill point"
        time.sleep(0.002)
    assert proc.poll() is None, "the process ended before its kill point"
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert b"Traceback" not in stderr
    return proc.returncode


def chromium() -> str | None:
    """The headless browser the HTML reports are checked in, when the machine has one."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def headless_chromium(browser: str, profile: Path, *extra: str) -> list[str]:
    """A headless Chromium command that fetches nothing but the page and keeps its profile
    in ``profile``; ``extra`` flags and the page follow."""
    quiet = ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
    return [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        *quiet,
        *extra,
        f"--user-data-dir={profile}",
    ]


# Two nights of a small export with an identity, for the language tests: the first is
# synced, the second is given per test.
NIGHTS_MAPPING = "identity: Id\nfields: {numero: Tel, nom: Nom}\ngroups: {column: G, separator: ','}\n"
FIRST_NIGHT = "Id;Tel;Nom;G\n1;0612345671;Martin;A\n2;0612345672;Durand;A\n3;0612345673;Petit;VIP\n"


def write_nights(folder: Path, second_night: str) -> None:
    """``m.yaml``, ``night1.csv`` and ``night2.csv`` in ``folder``."""
    (folder / "m.yaml").write_text(NIGHTS_MAPPING, encoding="utf-8")
    (folder / "night1.csv").write_text(FIRST_NIGHT, "utf-8")
    (folder / "night2.csv").write_text(second_night, "utf-8")
