"""Adopting what already exists in the account (``state import``).

With no read endpoint, contacts added by hand or by another tool are unknown; a first
sync would re-add them (506, harmless but slow) and could never manage them. Importing
a CSV of the account's contacts records them as adopted.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sms123_sync.contact import FIELD_NAMES
from sms123_sync.errors import InputError
from sms123_sync.i18n import lazy_gettext as _
from sms123_sync.mapping.normalize import normalize_phone
from sms123_sync.reconcile.state import StateStore
from sms123_sync.sources import read_source
from sms123_sync.text import quote


def import_existing(source: Path | str, state: Path | str, *, group: str | None = None, region: str = "FR") -> int:
    """Adopts the CSV's (groupe, numero, fields) rows into the state; returns how many."""
    table = read_source(source)
    frame = table.frame
    if "numero" not in frame.columns:
        raise InputError(_("{source}: needs a 'numero' column (and 'groupe', or --group)").format(source=source))
    if "groupe" not in frame.columns:
        if group is None:
            raise InputError(_("{source}: has no 'groupe' column; pass --group NAME").format(source=source))
        frame = frame.assign(groupe=group)
    rows = []
    for position, record in enumerate(frame.to_dict("records")):
        phone = normalize_phone(str(record["numero"]), region)
        if phone is None:
            raise InputError(
                _(
                    "{source}, row {row}, column 'numero', value {value}: not a valid phone number; "
                    "fix or remove the row"
                ).format(source=source, row=table.row_number(position), value=quote(str(record["numero"])))
            )
        rows.append(
            {
                **{f: record.get(f, "") for f in FIELD_NAMES},
                "groupe": record["groupe"],
                "numero": phone.digits,
                "key": record.get("key") or phone.digits,
            }
        )
    with StateStore(state) as store:
        return store.import_members(pd.DataFrame(rows))
