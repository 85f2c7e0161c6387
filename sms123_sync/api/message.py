"""SMS message rules checked before any call: encoding, segments, sender id.

A message in the GSM 03.38 alphabet takes 160 characters in one SMS (153 per part
once split); any other character forces UCS-2, 70 per SMS (67 per part). Characters
of the GSM extension table (``€ [ ] { } | ^ ~ \\``) count twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sms123_sync.errors import InputError
from sms123_sync.i18n import Text
from sms123_sync.i18n import lazy_gettext as _

_GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = "^{}\\[~]|€\f"
_GSM_CHARS = frozenset(_GSM_BASIC)
_GSM_EXT_CHARS = frozenset(_GSM_EXTENDED)

#: What the API demands at the end of a message sent under a custom sender id (code 102).
STOP_MENTION = "STOP SMS au 36177"
SENDER_MAX = 11
_SENDER_RE = re.compile(r"^[A-Za-z0-9 .\-]+$")


@dataclass(frozen=True, slots=True)
class MessageShape:
    """How a message will travel: encoding, length in units, and SMS count."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int
    segments: int

    @property
    def single_limit(self) -> int:
        return 160 if self.encoding == "GSM-7" else 70


def measure(message: str) -> MessageShape:
    """Encoding, length and segment count of ``message``."""
    if all(c in _GSM_CHARS or c in _GSM_EXT_CHARS for c in message):
        widths = [2 if c in _GSM_EXT_CHARS else 1 for c in message]
        single, part, encoding = 160, 153, "GSM-7"
    else:
        # UTF-16 code units: characters outside the BMP (emoji) take two.
        widths = [len(c.encode("utf-16-le")) // 2 for c in message]
        single, part, encoding = 70, 67, "UCS-2"
    units = sum(widths)
    return MessageShape(encoding, units, 1 if units <= single else _parts(widths, part))


def _parts(widths: list[int], part: int) -> int:
    """How many parts of ``part`` units the characters fill: a character that takes two
    units (an escape pair, a surrogate pair) is never split across two parts, so a part
    may end one unit short."""
    parts, used = 1, 0
    for width in widths:
        if used + width > part:
            parts, used = parts + 1, 0
        used += width
    return parts


def check_message(message: str, *, allow_long: bool) -> MessageShape:
    """Refuses an empty message, or a multi-part one unless ``allow_long``."""
    if not message.strip():
        raise InputError(_("the message is empty"))
    shape = measure(message)
    if shape.segments > 1 and not allow_long:
        raise InputError(
            _(
                "the message is {units} {encoding} characters, over the {limit} of one SMS "
                "({segments} SMS would be charged); shorten it, "
                "or pass --long if the account has the long-SMS option"
            ).format(units=shape.units, encoding=shape.encoding, limit=shape.single_limit, segments=shape.segments)
        )
    return shape


def sender_problem(sender: str) -> Text | None:
    """Why ``sender`` cannot be a sender id, or None when it can."""
    if not sender:
        return _("the sender id is empty")
    if len(sender) > SENDER_MAX:
        return _("the sender id {sender} is {n} characters; the API takes at most {limit}").format(
            sender=repr(sender), n=len(sender), limit=SENDER_MAX
        )
    if not _SENDER_RE.match(sender):
        return _("the sender id {sender} may hold only letters A-Z, digits, spaces, dots and dashes").format(
            sender=repr(sender)
        )
    if not any(c.isalpha() for c in sender):
        return _("the sender id {sender} needs at least one letter").format(sender=repr(sender))
    return None


def has_stop_mention(message: str) -> bool:
    """Whether the message ends with the opt-out mention a custom sender id needs."""
    return message.rstrip().lower().endswith(STOP_MENTION.lower())


def check_sender(sender: str, message: str) -> None:
    """Raises InputError when the API would refuse this sender id with this message."""
    problem = sender_problem(sender)
    if problem:
        raise InputError(problem)
    if not has_stop_mention(message):
        raise InputError(
            _("a message sent with a sender id must end with « {mention} » (API code 102)").format(mention=STOP_MENTION)
        )
