"""The fields a 123-SMS contact record carries, and their limits.

A contact lives per group: each (group, number) membership has its own copy of these
fields. ``numero`` is not among them; it is the record's key within its group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

#: Optional fields of ``contact/add/`` and ``contact/upd/``, in the document's order.
FIELD_NAMES: tuple[str, ...] = ("nom", "prenom", "societe", "datea", "v1", "v2", "v3")

#: Longest value we send for a text field. The document gives no limit; the web
#: interface's forms cap at 50 characters for names and 100 for mail-merge variables,
#: so longer values are reported as warnings before they are sent.
FIELD_MAX_LENGTH: dict[str, int] = {
    "nom": 50,
    "prenom": 50,
    "societe": 50,
    "datea": 6,
    "v1": 100,
    "v2": 100,
    "v3": 100,
}


@dataclass(frozen=True, slots=True)
class ContactFields:
    """The optional fields of one contact record; empty string means "not set"."""

    nom: str = ""
    prenom: str = ""
    societe: str = ""
    datea: str = ""
    v1: str = ""
    v2: str = ""
    v3: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> ContactFields:
        """Builds fields from any mapping, ignoring unrelated keys and None."""
        return cls(**{name: _text(values.get(name)) for name in FIELD_NAMES})

    def changed(self, other: ContactFields) -> tuple[str, ...]:
        """Names of the fields whose values differ between ``self`` and ``other``."""
        return tuple(n for n in FIELD_NAMES if getattr(self, n) != getattr(other, n))


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from pandas
        return ""
    return str(value)
