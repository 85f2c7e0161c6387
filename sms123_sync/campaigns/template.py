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
from sms123_sync.i18n import Joined
from sms123_sync.i18n import lazy_gettext as _
from sms123_sync.i18n import lazy_ngettext as ngettext
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
                    _(
                        "the message uses {placeholder}, which the recipients do not have; "
                        "known: {known} (write {{{{ and }}}} for a literal brace)"
                    ).format(placeholder="{" + name + "}", known=", ".join(known))
                )
            self.slots.append(Slot(name, match.group(2)))
        rest = _PLACEHOLDER.sub("", text)
        if "{" in rest or "}" in rest:
            raise InputError(_("the message has an unmatched brace; write {{{{ and }}}} for a literal one").format())

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
    lines: list[object] = [
        Joined(
            "",
            (
                "  - ",
                _("{where}, {number}: {field} is empty").format(
                    where=m.where, number=m.number, field="{" + m.field + "}"
                ),
            ),
        )
        for m in missing[:SHOWN]
    ]
    if len(missing) > SHOWN:
        lines.append(Joined("", ("  ", _("… and {n} more").format(n=len(missing) - SHOWN))))
    fields = sorted({m.field for m in missing})
    raise InputError(
        ngettext(
            "{n} recipient lacks a field the message needs; nothing was sent:\n{lines}\n"
            "fill them in, or give a default: {defaults}",
            "{n} recipients lack a field the message needs; nothing was sent:\n{lines}\n"
            "fill them in, or give a default: {defaults}",
            len(missing),
        ).format(n=len(missing), lines=Joined("\n", lines), defaults=" ".join(quote("{" + f + "|…}") for f in fields))
    )
