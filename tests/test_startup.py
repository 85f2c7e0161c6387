"""The light commands start without the data stack: `--help`, `balance`, `send --to`.

Each runs in a fresh interpreter (imports are per process), through the real console
entry point, and reports what it loaded; pandas and pyarrow alone take most of a second
to import, which a balance check or a single send must not pay.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Runs the command line with the given arguments, then prints its exit code and which
# of the heavy modules it imported.
_PROBE = """
import sys
from sms123_sync.cli import main
HEAVY = {heavy!r}
sys.argv = ["sms123-sync", *sys.argv[1:]]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 1
print("EXIT=%d" % code)
print("HEAVY=" + ",".join(m for m in HEAVY if m in sys.modules))
"""
_HEAVY = (
    "pandas",
    "pyarrow",
    "numpy",
    "sms123_sync.mapping.pipeline",
    "sms123_sync.mapping.normalize",
    "sms123_sync.reconcile.state",
    "sms123_sync.reports.terminal",
)


def _probe(args: list[str], cwd: Path) -> tuple[int, list[str], str]:
    """(exit code, heavy modules loaded, output) of one command in a new interpreter."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMS123_")}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=_HEAVY), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = proc.stdout.splitlines()
    exit_line = next(line for line in lines if line.startswith("EXIT="))
    heavy_line = next(line for line in lines if line.startswith("HEAVY="))
    loaded = [m for m in heavy_line.removeprefix("HEAVY=").split(",") if m]
    return int(exit_line.removeprefix("EXIT=")), loaded, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--help"], "Keep 123-SMS.NET contact groups"),
        (["balance", "--help"], "--api-key-file"),
        (["send", "--help"], "--to"),
        (["balance", "--sandbox"], "balance: 1000"),
        (["send", "--sandbox", "--test", "--to", "06 12 34 56 78", "-m", "Bonjour"], "33612345678: ok"),
    ],
    ids=["help", "balance-help", "send-help", "balance", "send-to"],
)
def test_light_commands_do_not_import_the_data_stack(args: list[str], expect: str, tmp_path: Path) -> None:
    code, loaded, output = _probe(args, tmp_path)
    assert code == 0, output
    assert expect in output
    assert loaded == [], f"{args} imported {loaded}"


def test_a_heavy_command_still_finds_its_stages(tmp_path: Path) -> None:
    """The probe sees imports: a command that reads a file does load pandas."""
    root = Path(__file__).resolve().parent.parent
    export, mapping = root / "samples" / "crm_export.csv", root / "mappings" / "crm_csv.yaml"
    code, loaded, output = _probe(["validate", str(export), "-m", str(mapping)], tmp_path)
    assert code == 0, output
    assert "pandas" in loaded and "sms123_sync.mapping.pipeline" in loaded
