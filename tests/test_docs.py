"""Every command and option is documented: help text, and a README entry per command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from sms123_sync.cli import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path + " "))
    return found


@pytest.mark.parametrize(("path", "command"), _commands(cli), ids=lambda v: v if isinstance(v, str) else "")
def test_command_has_help_and_readme_entry(path: str, command: click.Command) -> None:
    assert command.help, f"{path} has no help text"
    assert f"`{path.split()[-1]}" in README or f"{path}" in README, f"README does not mention {path}"
    for param in command.params:
        if isinstance(param, click.Option) and param.name not in ("help",):
            assert param.help, f"{path} {param.opts[0]} has no help text"


def test_the_command_reference_is_fresh() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "cli_reference.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
