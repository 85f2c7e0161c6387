"""The lawful hours of marketing SMS: days, window, holidays and time zones by number."""

from __future__ import annotations

from datetime import datetime

import pytest

from sms123_sync.campaigns.hours import PARIS, Window, next_lawful, place_of, why_unlawful
from sms123_sync.errors import InputError

METRO = "33612345678"
REUNION = "262692123456"
MARTINIQUE = "596696123456"


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-28 21:00", "2026-11-30 08:00"),  # Saturday evening → Monday morning
        ("2026-11-29 12:00", "2026-11-30 08:00"),  # a Sunday
        ("2026-07-14 10:00", "2026-07-15 08:00"),  # national day
        ("2026-07-13 20:00", "2026-07-15 08:00"),  # the window ends at 20:00, then 14 July
        ("2026-11-30 07:59", "2026-11-30 08:00"),  # too early
        ("2026-04-03 10:00", "2026-04-04 08:00"),  # Good Friday: Alsace-Moselle's day, kept for all
        ("2026-12-26 09:00", "2026-12-28 08:00"),  # 26 December (Alsace-Moselle), then a Sunday
        ("2026-11-30 19:59", "2026-11-30 19:59"),  # lawful: unchanged
    ],
)
def test_metropolitan_numbers_wait_for_the_next_lawful_time(now: str, expected: str) -> None:
    assert next_lawful(paris(now), place_of(METRO), Window()) == paris(expected)


def test_an_overseas_number_follows_its_own_clock_and_days() -> None:
    reunion = place_of(REUNION)
    assert reunion.zone.key == "Indian/Reunion"
    # 18:00 in Paris (winter) is 21:00 in Réunion: next morning 08:00 there, 05:00 in Paris.
    assert next_lawful(paris("2026-12-01 18:00"), reunion, Window()) == paris("2026-12-02 05:00")
    # 20 December is Réunion's abolition day (a Monday in 2027), an ordinary day in Paris.
    assert why_unlawful(paris("2027-12-20 10:00"), reunion, Window()) is not None
    assert why_unlawful(paris("2027-12-20 10:00"), place_of(METRO), Window()) is None
    # Martinique's 22 May is not a holiday in metropolitan France.
    martinique = place_of(MARTINIQUE)
    assert "holiday" in (why_unlawful(paris("2026-05-22 16:00"), martinique, Window()) or "")
    assert why_unlawful(paris("2026-05-22 16:00"), place_of(METRO), Window()) is None


def test_a_narrower_window_is_kept_and_a_wider_one_refused() -> None:
    window = Window.parse("10:00-19:30")
    assert next_lawful(paris("2026-11-30 09:00"), place_of(METRO), window) == paris("2026-11-30 10:00")
    assert next_lawful(paris("2026-11-30 19:30"), place_of(METRO), window) == paris("2026-12-01 10:00")
    for bad in ("07:00-20:00", "10:00-21:00", "12:00-11:00", "ten to eight", "25:00-26:00"):
        with pytest.raises(InputError, match="--hours"):
            Window.parse(bad)
