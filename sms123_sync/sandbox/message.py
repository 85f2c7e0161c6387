"""How many SMS a message costs, and the document's rules on sender ids, for ``send/``.

Written from the GSM 03.38 standard (3GPP TS 23.038), not from the client's code:
a message wholly in the default 7-bit alphabet travels at 160 septets in one SMS;
split, each part loses 7 septets to its concatenation header (153). A character of
the extension table is sent as an escape plus itself (two septets), and the pair is
never cut between parts. Any other character makes the whole message UCS-2: 70
UTF-16 units in one SMS, 67 per part, and a surrogate pair is never cut either.
"""

from __future__ import annotations

from dataclasses import dataclass

# The default alphabet, row by row as the standard's table lists positions 0x00-0x7F
# (0x1B, the escape to the extension table, is not a character of its own).
_DEFAULT_ALPHABET = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ" + "ÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# The extension table's characters: form feed, ^ { } \ [ ~ ] | and the euro sign.
_EXTENSION = frozenset("\f^{}\\[~]|€")

_GSM_SINGLE, _GSM_PART = 160, 153
_UCS2_SINGLE, _UCS2_PART = 70, 67

#: Longest sender id the document allows ("il ne doit pas dépasser 11 caractères").
SENDER_MAX = 11
#: What must end a message sent under a custom sender id (code 102), compared without case.
STOP_MENTION = "stop sms au 36177"
_SENDER_PUNCTUATION = frozenset(" .-")


@dataclass(frozen=True, slots=True)
class Cost:
    """A message's encoding, its length in that encoding's units, and the SMS it takes."""

    encoding: str  # "gsm" or "ucs2"
    units: int
    segments: int


def _septets(char: str) -> int | None:
    if char in _DEFAULT_ALPHABET:
        return 1
    if char in _EXTENSION:
        return 2
    return None


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _pack(widths: list[int], single: int, part: int) -> int:
    """SMS needed for characters of these widths, none cut between two parts."""
    if sum(widths) <= single:
        return 1
    segments, room = 1, part
    for width in widths:
        if width > room:
            segments, room = segments + 1, part
        room -= width
    return segments


def cost(message: str) -> Cost:
    """What sending ``message`` costs."""
    septets = [_septets(c) for c in message]
    if all(width is not None for width in septets):
        widths = [w for w in septets if w is not None]
        return Cost("gsm", sum(widths), _pack(widths, _GSM_SINGLE, _GSM_PART))
    units = [_utf16_units(c) for c in message]
    return Cost("ucs2", sum(units), _pack(units, _UCS2_SINGLE, _UCS2_PART))


def sender_valid(sender: str) -> bool:
    """Whether the sandbox accepts ``sender`` as a sender id.

    The document only caps the length; the sandbox also wants plain ASCII letters,
    digits, spaces, dots or dashes and at least one letter, as operators do.
    """
    if not sender or len(sender) > SENDER_MAX:
        return False
    if not all((c.isascii() and c.isalnum()) or c in _SENDER_PUNCTUATION for c in sender):
        return False
    return any(c.isascii() and c.isalpha() for c in sender)


def ends_with_stop(message: str) -> bool:
    """Whether ``message`` ends with the opt-out mention, trailing blanks aside."""
    return message.rstrip().lower().endswith(STOP_MENTION)
