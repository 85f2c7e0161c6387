"""Makes the README's pictures of the report: the sample export planned onto an account that
already holds last month's export, rendered by headless Chromium.

    python docs/screenshot.py            # writes docs/report-fr-phone.png and docs/report-en-desktop.png

Run from the repository with the package installed and Chromium on the PATH. Nothing is
sent anywhere: the first sync goes to the in-process sandbox, the plan makes no call.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

from sms123_sync.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "crm_export.csv"
MAPPING = ROOT / "mappings" / "crm_csv.yaml"
# (language, width, height, picture): a phone in French, a desktop in English.
SHOTS = (("fr", 390, 1800, "report-fr-phone.png"), ("en", 1280, 1100, "report-en-desktop.png"))


def last_month(lines: list[str]) -> list[str]:
    """An older export: a few people not there yet, others with another name, another mobile
    or one more segment, so that the plan has adds, updates and removals to show."""
    older = [lines[0], *lines[8:]]
    opted_in = [i for i, line in enumerate(older) if line.endswith(";Oui") and '"' not in line]
    for step, i in enumerate(opted_in[:6]):
        cells = older[i].split(";")  # no quoted cell on these lines: ';' splits them right
        if step < 3:
            cells[1] = cells[1].upper()
        elif step == 3:
            cells[4] = "06 11 22 33 44"
        else:
            cells[8] = f'"{cells[8]};Prospects"'
        older[i] = ";".join(cells)
    return older


def render_report(work: Path, lang: str) -> Path:
    """The report of the sample export, after a sync of last month's, in ``lang``."""
    lines = SAMPLE.read_bytes().decode("cp1252").splitlines()
    (work / "export-october.csv").write_bytes("\r\n".join(last_month(lines)).encode("cp1252"))
    shutil.copy(SAMPLE, work / "export.csv")
    shutil.copy(MAPPING, work / "mapping.yaml")
    state = str(work / "state.sqlite")
    runner = CliRunner()
    first = runner.invoke(
        cli, ["sync", "export-october.csv", "-m", "mapping.yaml", "--sandbox", "--yes", "--state", state]
    )
    if first.exit_code != 0:
        raise SystemExit(f"the first sync failed: {first.output}")
    page = work / f"report-{lang}.html"
    args = ["plan", "export.csv", "-m", "mapping.yaml", "--state", state, "--lang", lang, "--report", page.name]
    result = runner.invoke(cli, args)
    if result.exit_code not in (0, 3):
        raise SystemExit(f"the plan failed: {result.output}")
    return page


def screenshot(browser: str, page: Path, width: int, height: int, target: Path, profile: Path) -> None:
    """``page`` in a ``width`` x ``height`` window, scrollbars hidden."""
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--disable-background-networking",
            "--disable-component-update",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={target}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def main() -> int:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("Chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    home = Path.cwd()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for lang, width, height, name in SHOTS:
            shot_dir = work / lang
            shot_dir.mkdir()
            os.chdir(shot_dir)  # the report names the export as given: no temporary path in the picture
            page = render_report(shot_dir, lang)
            screenshot(browser, page, width, height, ROOT / "docs" / name, shot_dir / "profile")
            print(f"wrote docs/{name}")
        os.chdir(home)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
