"""Where reports go: the registry of formats, report paths checked before a run, and writing.

A format is a writer (a function of a path and the report document) registered under
its file extension with :func:`register_writer`; a new format is one module that
registers itself, imported by ``sms123_sync/reports/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sms123_sync import i18n
from sms123_sync.errors import InputError
from sms123_sync.files import output_problem
from sms123_sync.i18n import Joined
from sms123_sync.i18n import lazy_gettext as _

#: Writes the report document to a path; raises on failure.
Writer = Callable[[Path, dict[str, Any]], None]

# File extension -> writer, in registration order.
_WRITERS: dict[str, Writer] = {}


def register_writer(extension: str, writer: Writer) -> Callable[[], None]:
    """Adds a report format for files ending in ``extension``; returns a function that
    removes it again (for tests)."""
    key = extension.lower()
    _WRITERS[key] = writer

    def unregister() -> None:
        _WRITERS.pop(key, None)

    return unregister


def formats() -> tuple[str, ...]:
    """The extensions a report may have, in registration order."""
    return tuple(_WRITERS)


def expand_path(template: str, when: datetime | None = None) -> Path:
    """``reports/{date}.html`` → ``reports/2026-11-24.html`` ({date}, {time}, {datetime})."""
    now = when or datetime.now()
    return Path(
        template.replace("{date}", now.strftime("%Y-%m-%d"))
        .replace("{time}", now.strftime("%H%M%S"))
        .replace("{datetime}", now.strftime("%Y-%m-%dT%H%M%S"))
    )


def prepare_reports(templates: Iterable[str], when: datetime | None = None) -> list[Path]:
    """The report paths, expanded and checked before any work: every problem at once.

    A sync must not apply and then find that ``--report report.pdf`` cannot be written.
    """
    paths, problems = [], []
    for template in templates:
        path = expand_path(template, when)
        suffix = path.suffix.lower()
        problem = (
            _("unknown format {suffix}; use one of {formats}").format(
                suffix=repr(suffix or "(none)"), formats=", ".join(formats())
            )
            if suffix not in formats()
            else output_problem(path)
        )
        if problem is None:
            paths.append(path)
        else:
            problems.append(_("--report {path}: {problem}").format(path=template, problem=problem))
    if problems:
        # Joined, not joined now: --json and the log keep the English of each problem.
        raise InputError(Joined("; ", problems))
    return paths


@dataclass(frozen=True)
class Written:
    """Which reports were written and which failed (path, reason)."""

    paths: list[Path]
    failed: list[tuple[Path, str]]


def write_reports(
    paths: Iterable[Path], document: dict[str, Any], writers: Mapping[str, Writer] | None = None
) -> Written:
    """Writes ``document`` to each path (checked by :func:`prepare_reports`), with the
    registered writers or, for another kind of document (a campaign's), ``writers``.

    One report that fails (disk full, a cell a format cannot hold) does not stop the
    others: the failure is returned, for the caller to say and to exit non-zero.
    """
    written, failed = [], []
    for path in paths:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with i18n.pinned():
                (writers or _WRITERS)[path.suffix.lower()](path, document)
        except Exception as exc:  # any failure of one format: reported, the others still written
            failed.append((path, f"{type(exc).__name__}: {exc}"))
        else:
            written.append(path)
    return Written(written, failed)
