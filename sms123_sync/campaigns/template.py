"""Personalising a message: ``{prenom}`` from the recipient's fields, ``{prenom|Madame, Monsieur}``
with a default.

A placeholder names a contact field (``prenom``, ``nom``, ``societe``, ``datea``,
``v1``…``v3``) or, for an export, any column of the row (``{Date RDV}``). ``{{`` and
``}}`` write a literal brace. A name the recipients cannot have is refused when the
template is read; a value that is empty for some recipient, with no default, is listed
for every such recipient before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sms123_sync.errors import InputError
from sms123_sync.text import quote

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}|]*)(?:\|([^{}]*))?\}")
# How many missing values an error lists before it says "and N more".
SHOWN = 20


@dataclass(frozen=True, slots=True)
class Slot:
    """One placeholder: the field it reads and what it says when the field is empty."""

    name: str
    default: str | None


@dataclass(frozen=True, slots=True)
class Missing:
    """A recipient lacking a field its message needs."""

    where: str  # "row 12" or "group Clients"
    number: str
    field: str


class Template:
    """A message with placeholders, checked against the names the recipients have."""

    def __init__(self, text: str, names: Iterable[str]) -> None:
        self.text = text
        known = list(names)
        self.slots: list[Slot] = []
        for match in _PLACEHOLDER.finditer(text):
            if match.group(0) in ("{{", "}}"):
                continue
            name = match.group(1).strip()
            if name not in known:
                raise InputError(
                    f"the message uses {{{name}}}, which the recipients do not have; "
                    f"known: {', '.join(known)} (write {{{{ and }}}} for a literal brace)"
                )
            self.slots.append(Slot(name, match.group(2)))
        rest = _PLACEHOLDER.sub("", text)
        if "{" in rest or "}" in rest:
            raise InputError("the message has an unmatched brace; write {{ and }} for a literal one")

    def missing(self, values: Mapping[str, str]) -> list[str]:
        """The fields this recipient lacks and the message needs without a default."""
        return [s.name for s in self.slots if s.default is None and not values.get(s.name, "").strip()]

    def render(self, values: Mapping[str, str]) -> str:
        """The message for one recipient (call :meth:`missing` first)."""

        def fill(match: re.Match[str]) -> str:
            token = match.group(0)
            if token in ("{{", "}}"):
                return token[0]
            value = values.get(match.group(1).strip(), "").strip()
            return value or (match.group(2) or "")

        return _PLACEHOLDER.sub(fill, self.text)


def check_missing(missing: list[Missing]) -> None:
    """Raises InputError listing every recipient that lacks a needed field."""
    if not missing:
        return
    lines = [f"  - {m.where}, {m.number}: {{{m.field}}} is empty" for m in missing[:SHOWN]]
    more = f"\n  … and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
    fields = sorted({m.field for m in missing})
    raise InputError(
        f"{len(missing)} recipient(s) lack a field the message needs; nothing was sent:\n"
        + "\n".join(lines)
        + more
        + f"\nfill them in, or give a default: {' '.join(quote('{' + f + '|…}') for f in fields)}"
    )
