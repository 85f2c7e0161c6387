"""How the sandbox reads the ``numero`` of a ``send/`` call.

The document asks for the recipient's number "sans espace" and says no more. The
sandbox takes digits as sent, with simple rules of its own rather than the client's
libphonenumber reading (a shared reading would hide a shared bug):

- national French: ``0`` then nine digits, the first not ``0`` (``0612345678``);
- international: optionally ``+`` or ``00``, then the country code and the number.
  ``33`` takes nine digits (a ``0`` written after it is dropped, ``+33 0612…``);
  the overseas codes take the lengths their numbering plans use; any other country
  code is accepted from 8 to 15 digits in all (the E.164 maximum);
- nothing else: spaces, dots and letters make the number invalid.

French numbers whose national form starts with an overseas prefix (``0692…`` for
La Réunion, ``0639…`` for Mayotte…) are read as the overseas number they are
(``262692…``), which is what needs the account's DOM-TOM option.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Number:
    """A recipient as the sandbox stores it: international digits, and its territory."""

    digits: str
    overseas: str | None  # the territory's country code when it is a DOM-TOM number


# Nine-digit French national numbers that belong to an overseas department, by their
# first three digits, and the country code they are dialled with from abroad.
_OVERSEAS_IN_FRENCH_PLAN = {
    "262": "262",  # La Réunion, fixed
    "263": "262",  # La Réunion, fixed
    "692": "262",  # La Réunion, mobile
    "693": "262",  # La Réunion, mobile
    "269": "262",  # Mayotte, fixed
    "639": "262",  # Mayotte, mobile
    "590": "590",  # Guadeloupe, Saint-Barthélemy, Saint-Martin, fixed
    "690": "590",  # the same, mobile
    "691": "590",
    "594": "594",  # Guyane, fixed
    "694": "594",  # Guyane, mobile
    "596": "596",  # Martinique, fixed
    "696": "596",  # Martinique, mobile
    "697": "596",
}

# Overseas country codes and the number of digits that follow them.
_OVERSEAS_CODES = {
    "262": (9,),  # La Réunion, Mayotte
    "590": (9,),  # Guadeloupe, Saint-Barthélemy, Saint-Martin
    "594": (9,),  # Guyane
    "596": (9,),  # Martinique
    "508": (6,),  # Saint-Pierre-et-Miquelon
    "681": (6,),  # Wallis-et-Futuna
    "687": (6,),  # Nouvelle-Calédonie
    "689": (6, 8),  # Polynésie française (eight digits since 2021)
}

_FRANCE = "33"
_NATIONAL_LENGTH = 9
_E164_MIN, _E164_MAX = 8, 15


def read_number(raw: str) -> Number | None:
    """The number ``raw`` names, or None when the API would answer "numéro non valide"."""
    international = raw.startswith("+")
    text = raw[1:] if international else raw
    if not text.isascii() or not text.isdigit():
        return None
    if not international and text.startswith("00"):
        international, text = True, text[2:]
    if not international and text.startswith("0"):
        return _french(text[1:])
    return _international(text)


def _international(digits: str) -> Number | None:
    if digits.startswith(_FRANCE):
        rest = digits[len(_FRANCE) :]
        return _french(rest[1:] if len(rest) == _NATIONAL_LENGTH + 1 and rest.startswith("0") else rest)
    for country, lengths in _OVERSEAS_CODES.items():
        if digits.startswith(country):
            return Number(digits, country) if len(digits) - len(country) in lengths else None
    if digits.startswith("0") or not _E164_MIN <= len(digits) <= _E164_MAX:
        return None
    return Number(digits, None)


def _french(national: str) -> Number | None:
    """A French number from its nine significant digits (no trunk ``0``)."""
    if len(national) != _NATIONAL_LENGTH or national.startswith("0"):
        return None
    country = _OVERSEAS_IN_FRENCH_PLAN.get(national[:3])
    if country is None:
        return Number(_FRANCE + national, None)
    return Number(country + national, country)
