"""The command line asks Arrow for jemalloc (sms123_sync/memory.py); a user's choice wins."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import pytest

from sms123_sync.memory import PREFERRED, VARIABLE, paused_collector

# Runs the real entry point on a light command, then reports the pool Arrow gives.
PROBE = (
    "import sys\n"
    "from sms123_sync.cli import main\n"
    "sys.argv = ['sms123-sync', 'mappings']\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as exc:\n"
    "    assert not exc.code, exc.code\n"
    "import pyarrow as pa\n"
    "print(pa.default_memory_pool().backend_name)\n"
)


def _pool(**env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != VARIABLE} | env
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=environ, check=True)
    assert "Unsupported" not in done.stderr  # Arrow warns when asked for a backend it lacks
    return done.stdout.splitlines()[-1]


@pytest.mark.skipif(not PREFERRED, reason="pyarrow's wheels for this platform have no jemalloc")
def test_the_command_line_runs_on_jemalloc() -> None:
    assert _pool() == "jemalloc"


def test_the_users_choice_of_allocator_wins() -> None:
    assert _pool(**{VARIABLE: "system"}) == "system"


def test_the_collector_resumes_as_it_was() -> None:
    was = gc.isenabled()
    try:
        gc.enable()
        with paused_collector():
            assert not gc.isenabled()
        assert gc.isenabled()
        gc.disable()  # a caller that paused it itself keeps it paused
        with paused_collector():
            pass
        assert not gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
