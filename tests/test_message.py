"""Message encoding and segment counting."""

from __future__ import annotations

import pytest

from sms123_sync.api.message import measure, sender_problem


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("Bonjour", "GSM-7", 7, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),
        ("ç" * 70, "UCS-2", 70, 1),
        ("ç" * 71, "UCS-2", 71, 2),
        ("😀" * 35, "UCS-2", 70, 1),
        # A two-unit character is never cut between parts: 152 | € + 151 | 1.
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),
        ("ê" * 66 + "😀" + "ê" * 66, "UCS-2", 134, 3),
        ("€" * 153, "GSM-7", 306, 3),
    ],
)
def test_measure(text: str, encoding: str, units: int, segments: int) -> None:
    shape = measure(text)
    assert (shape.encoding, shape.units, shape.segments) == (encoding, units, segments)


@pytest.mark.parametrize("sender", ["Boutique", "SHOP 24", "A1"])
def test_good_senders(sender: str) -> None:
    assert sender_problem(sender) is None


@pytest.mark.parametrize("sender", ["", "123456", "TwelveChars!", "Émile"])
def test_bad_senders(sender: str) -> None:
    assert sender_problem(sender) is not None
