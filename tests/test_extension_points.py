"""A new kind of source and a new report format are each one module plus one registration.

The toy ones here live in the test suite alone: no file of the package is edited, and the
CLI, the pipeline and the reports take them as they take the built-in ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from sms123_sync.cli import cli
from sms123_sync.reports.writers import register_writer
from sms123_sync.sources import SourceOptions, SourceTable, register_reader

ROWS = {
    "Tel": ["0612345671", "0612345672", "not a phone"],
    "Nom": ["Martin", "Durand", "Petit"],
    "G": ["A", "A,B", "B"],
}
MAPPING = "fields: {numero: Tel, nom: Nom}\ngroups: {column: G, separator: ','}\n"


class ToyReader:
    """Reads ``toy:N``: the first N rows of a table held in memory, as a database would."""

    kind = "toy"

    def claims(self, location: str) -> bool:
        return location.startswith("toy:")

    def read(self, location: str, options: SourceOptions) -> SourceTable:
        count = int(location.removeprefix("toy:"))
        frame = pd.DataFrame(ROWS).head(count).astype(pd.StringDtype("pyarrow"))
        return SourceTable(location, frame)

    def fingerprint(self, location: str) -> str:
        return hashlib.sha256(location.encode()).hexdigest()


@pytest.fixture
def toy_source() -> Iterator[None]:
    unregister = register_reader(ToyReader())
    yield
    unregister()


def test_a_toy_source_is_read_validated_and_planned(toy_source: None, tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    runner = CliRunner()
    validated = runner.invoke(cli, ["validate", "toy:3", "-m", str(mapping)])
    assert validated.exit_code == 0, validated.output
    assert "row 4" in validated.output and "invalid-phone" in validated.output  # rows named by the reader
    report = tmp_path / "plan.json"
    planned = runner.invoke(
        cli, ["plan", "toy:2", "-m", str(mapping), "--state", str(tmp_path / "s.sqlite"), "--report", str(report)]
    )
    assert planned.exit_code == 0, planned.output
    text = report.read_text(encoding="utf-8")
    assert '"source": "toy:2"' in text and hashlib.sha256(b"toy:2").hexdigest() in text


def test_without_its_reader_the_location_is_a_missing_file(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    done = CliRunner().invoke(cli, ["validate", "toy:3", "-m", str(mapping)])
    assert done.exit_code == 2
    assert "toy:3: no such file" in done.output and "Traceback" not in done.output


def _write_markdown(path: Path, document: dict[str, object]) -> None:
    """A toy format: one line per operation, as a Markdown list."""
    operations = document["operations"]
    assert isinstance(operations, list)
    lines = [f"- {op['kind']} {op.get('number') or ''} {op.get('groups')}" for op in operations]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def markdown_format() -> Iterator[None]:
    unregister = register_writer(".md", _write_markdown)
    yield
    unregister()


def test_a_toy_report_format_is_checked_and_written(markdown_format: None, tmp_path: Path) -> None:
    source, mapping = tmp_path / "e.csv", tmp_path / "m.yaml"
    source.write_text("Tel;Nom;G\n0612345671;Martin;A\n0612345672;Durand;A,B\n", encoding="utf-8")
    mapping.write_text(MAPPING, encoding="utf-8")
    report = tmp_path / "plan.md"
    done = CliRunner().invoke(
        cli, ["plan", str(source), "-m", str(mapping), "--state", str(tmp_path / "s.sqlite"), "--report", str(report)]
    )
    assert done.exit_code == 0, done.output
    assert report.read_text(encoding="utf-8").splitlines() == [
        "- group_add  ['A']",
        "- group_add  ['B']",
        "- contact_add 33612345671 ['A']",
        "- contact_add 33612345672 ['A', 'B']",
    ]


def test_without_its_writer_the_format_is_refused_before_planning(tmp_path: Path) -> None:
    source, mapping = tmp_path / "e.csv", tmp_path / "m.yaml"
    source.write_text("Tel;Nom;G\n0612345671;Martin;A\n", encoding="utf-8")
    mapping.write_text(MAPPING, encoding="utf-8")
    done = CliRunner().invoke(cli, ["plan", str(source), "-m", str(mapping), "--report", str(tmp_path / "p.md")])
    assert done.exit_code == 2 and "unknown format '.md'" in done.output
