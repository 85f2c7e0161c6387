"""docs/python-api.md: its example runs as written and prints what the page says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PAGE = (Path(__file__).parent.parent / "docs" / "python-api.md").read_text(encoding="utf-8")


def _block(language: str) -> str:
    found = re.findall(rf"```{language}\n(.*?)```", PAGE, flags=re.S)
    assert len(found) == 1, f"docs/python-api.md should hold one {language} block"
    return str(found[0])


def test_the_example_runs_and_prints_what_the_page_shows(tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(_block("python"), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == _block("text")
