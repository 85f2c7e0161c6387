"""Lawful hours for marketing SMS to French numbers, and where a number's rules come from.

The rule the French profession applies (CNIL guidance on commercial prospecting and the
mobile operators' code of practice for SMS, as SMS providers publish them): Monday to
Saturday, 08:00 to 20:00 in the recipient's local time, never on a Sunday or a public
holiday. The window may be changed (``--hours 10:00-20:00``), the days may not.

The recipient's number decides both its calendar and its clock, through the region
libphonenumber assigns to it (its country code and leading digits):

- a metropolitan number (+33) follows Paris time and the national public holidays plus
  the two that Alsace and Moselle add (Good Friday, 26 December): a mobile number says
  nothing about where in France its owner lives, so the stricter calendar is used;
- an overseas number follows its own department's or territory's time zone and days
  (+262 Réunion or Mayotte by its leading digits, +590 Guadeloupe, Saint-Martin or
  Saint-Barthélemy, +594 Guyane, +596 Martinique, +508, +687, +689, +681);
- any other number follows the metropolitan rule (the sender is French).

Public holidays come from the maintained ``holidays`` package, not from a list of ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import phonenumbers

from sms123_sync.errors import InputError
from sms123_sync.i18n import lazy_gettext as _

PARIS = ZoneInfo("Europe/Paris")
SUNDAY = 6


@dataclass(frozen=True, slots=True)
class Place:
    """Whose calendar and clock a number follows."""

    name: str
    zone: ZoneInfo
    subdivision: str  # the ``holidays`` package's subdivision of France


_METROPOLE = Place("metropolitan France (with Alsace-Moselle's days)", PARIS, "57")
# libphonenumber region of the number → its place. Saint-Martin and Saint-Barthélemy
# share +590 with Guadeloupe; libphonenumber tells them apart by their leading digits.
_PLACES: dict[str, Place] = {
    "FR": _METROPOLE,
    "GP": Place("Guadeloupe", ZoneInfo("America/Guadeloupe"), "971"),
    "MQ": Place("Martinique", ZoneInfo("America/Martinique"), "972"),
    "GF": Place("Guyane", ZoneInfo("America/Cayenne"), "973"),
    "RE": Place("La Réunion", ZoneInfo("Indian/Reunion"), "974"),
    "YT": Place("Mayotte", ZoneInfo("Indian/Mayotte"), "976"),
    "BL": Place("Saint-Barthélemy", ZoneInfo("America/St_Barthelemy"), "BL"),
    "MF": Place("Saint-Martin", ZoneInfo("America/Marigot"), "MF"),
    "PM": Place("Saint-Pierre-et-Miquelon", ZoneInfo("America/Miquelon"), "PM"),
    "NC": Place("Nouvelle-Calédonie", ZoneInfo("Pacific/Noumea"), "NC"),
    "PF": Place("Polynésie française", ZoneInfo("Pacific/Tahiti"), "PF"),
    "WF": Place("Wallis-et-Futuna", ZoneInfo("Pacific/Wallis"), "WF"),
}


def place_of(number: str) -> Place:
    """The place whose rules apply to ``number`` (international digits, no ``+``)."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + number))
    except phonenumbers.NumberParseException:
        return _METROPOLE
    return _PLACES.get(region or "", _METROPOLE)


@cache
def _calendar(subdivision: str) -> holidays.HolidayBase:
    return holidays.country_holidays("FR", subdiv=subdivision)


def holiday_name(place: Place, day: date) -> str | None:
    """The public holiday ``day`` is at ``place``, or None."""
    name = _calendar(place.subdivision).get(day)
    return None if name is None else str(name)


_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class Window:
    """The hours of a day a marketing message may arrive: ``start`` ≤ t < ``end``."""

    start: time = time(8, 0)
    end: time = time(20, 0)

    @classmethod
    def parse(cls, text: str) -> Window:
        """``08:00-20:00``; refuses a window outside the default one or empty."""
        match = _WINDOW.match(text)
        if match is None:
            raise InputError(
                _("--hours {text}: write the window as HH:MM-HH:MM, e.g. 10:00-20:00").format(text=repr(text))
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise InputError(_("--hours {text}: not a time of day").format(text=repr(text)))
        window = cls(time(h1, m1), time(h2, m2))
        default = cls()
        if not (default.start <= window.start < window.end <= default.end):
            raise InputError(
                _(
                    "--hours {text}: the window must be non-empty and inside {default}, the hours French"
                    " rules allow for marketing SMS; use --transactional for reminders and alerts"
                ).format(text=repr(text), default=default)
            )
        return window

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def why_unlawful(when: datetime, place: Place, window: Window) -> str | None:
    """Why a message arriving at ``when`` breaks the rule at ``place``, or None."""
    local = when.astimezone(place.zone)
    if local.weekday() == SUNDAY:
        return "a Sunday"
    holiday = holiday_name(place, local.date())
    if holiday is not None:
        return f"a public holiday ({holiday})"
    if not window.start <= local.time() < window.end:
        return f"outside {window} ({place.name} time)"
    return None


def next_lawful(when: datetime, place: Place, window: Window) -> datetime:
    """The first moment at or after ``when`` the rule allows at ``place`` (in Paris time)."""
    local = when.astimezone(place.zone)
    for _day in range(60):  # a few days at most: no French calendar has a week of holidays
        day = local.date()
        if local.weekday() != SUNDAY and holiday_name(place, day) is None and local.time() < window.end:
            if local.time() < window.start:
                local = datetime.combine(day, window.start, place.zone)
            return local.astimezone(PARIS)
        local = datetime.combine(day + timedelta(days=1), window.start, place.zone)
    raise AssertionError("no lawful day within 60 days")  # pragma: no cover
