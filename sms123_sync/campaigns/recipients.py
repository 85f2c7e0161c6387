"""Who receives a campaign: the contacts the state knows in some groups, or an export's rows.

From groups, a number in several targeted groups is one recipient, with the fields of
the first group named on the command line that holds it (a contact lives per group, so
its fields may differ from group to group). From an export, the mapping decides as for
a sync (its filters, its rejects, one contact per number), and every column of the row
may personalise the message. A per-row time (``--at-column``) is read as Paris time;
rows whose time has passed, or cannot be read, are skipped and listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sms123_sync.api.client import PARIS
from sms123_sync.api.send import parse_when
from sms123_sync.contact import FIELD_NAMES
from sms123_sync.errors import InputError
from sms123_sync.i18n import lazy_gettext as _
from sms123_sync.mapping.desired import build_desired
from sms123_sync.mapping.model import check_columns, load_mapping
from sms123_sync.mapping.problems import Problem
from sms123_sync.reconcile.state import KnownState
from sms123_sync.sources import read_source
from sms123_sync.text import quote


@dataclass(frozen=True, slots=True)
class Recipient:
    """One number to message, the values its message may use, and its own time if any."""

    number: str
    values: dict[str, str]
    where: str  # "group Clients" or "row 12", for messages
    due: datetime | None = None  # when its message should arrive (Paris), from --at-column


@dataclass(frozen=True, slots=True)
class Skipped:
    """A row left out of the campaign, and why."""

    where: str
    number: str
    reason: str


@dataclass(frozen=True)
class Recipients:
    """The recipients, the names their messages may use, and what was left out."""

    recipients: list[Recipient]
    names: list[str]
    source: str  # what the campaign reads, for its summary and its derived name
    skipped: list[Skipped] = field(default_factory=list)
    rejects: Sequence[Problem] = field(default_factory=list)


def from_groups(known: KnownState, groups: Sequence[str]) -> Recipients:
    """Every number the state knows in ``groups``, once."""
    unknown = [g for g in groups if g not in known.groups]
    if unknown:
        have: object = ", ".join(sorted(known.groups)) or _("none")
        raise InputError(
            _(
                "--group {groups}: not a group the state knows (known: {known});"
                " run a sync first, or adopt it with `state import`"
            ).format(groups=", ".join(quote(g) for g in unknown), known=have)
        )
    members = known.memberships
    chosen: dict[str, Recipient] = {}
    for group in groups:
        rows = members[members["grp"] == group].sort_values("numero")
        for record in rows.to_dict("records"):
            number = str(record["numero"])
            if number not in chosen:
                values = {name: str(record[name] or "") for name in FIELD_NAMES}
                chosen[number] = Recipient(number, values, f"group {group}")
    return Recipients(list(chosen.values()), list(FIELD_NAMES), "groups " + ", ".join(groups))


def from_export(
    source: Path | str,
    mapping_path: Path | str,
    *,
    at_column: str | None = None,
    before: float = 0.0,
    now: datetime,
) -> Recipients:
    """The contacts of an export through a mapping; ``before`` seconds ahead of ``at_column``.

    ``before`` is elapsed time: 24 h before Sunday 29 March 2026 10:00 (summer time) is
    Saturday 28 March 09:00 (winter time), one day and 24 real hours earlier.
    """
    mapping = load_mapping(mapping_path)
    table = read_source(source, mapping.source)
    check_columns(mapping, table.columns, str(source), str(mapping_path))
    if at_column is not None and at_column not in table.columns:
        raise InputError(
            _("--at-column {column}: {source} has no such column (columns: {columns})").format(
                column=quote(at_column), source=source, columns=", ".join(table.columns)
            )
        )
    desired = build_desired(table, mapping)
    frame = table.frame.reset_index(drop=True)
    columns = [str(c) for c in frame.columns]
    rows = frame.fillna("").astype(str).to_dict("records")
    recipients: list[Recipient] = []
    skipped: list[Skipped] = []
    for contact in desired.state.contacts.to_dict("records"):
        row = int(contact["row"])
        cells = {str(k): v for k, v in rows[row - 2].items()}
        values = {**cells, **{name: str(contact[name] or "") for name in FIELD_NAMES}}
        number = str(contact["numero"])
        due = None
        if at_column is not None:
            raw = cells[at_column]
            try:
                when = parse_when(raw) if raw.strip() else None
            except InputError:
                when = None
            if when is None:
                reason = f"column {quote(at_column)}: {quote(raw)} is not a date and time (YYYY-MM-DD HH:MM)"
                skipped.append(Skipped(f"row {row}", number, reason))
                continue
            if when <= now:
                skipped.append(Skipped(f"row {row}", number, f"its time {when:%Y-%m-%d %H:%M} has passed"))
                continue
            # In UTC: a Paris-aware datetime minus a timedelta keeps the wall clock.
            due = (when.astimezone(UTC) - timedelta(seconds=before)).astimezone(PARIS)
            due = max(due, now.astimezone(PARIS))
        recipients.append(Recipient(number, values, f"row {row}", due))
    names = list(dict.fromkeys([*FIELD_NAMES, *columns]))
    return Recipients(recipients, names, f"export {source}", skipped, desired.rejects)
