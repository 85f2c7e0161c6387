"""Text that crosses a boundary: user values quoted in messages, invisible characters.

Readers, the mapping and the reports all quote cells from untrusted files and strip the
format characters pasted text picks up, so these few functions sit below every stage.
"""

from __future__ import annotations

import re
import unicodedata

#: Longest piece of user data quoted in an error message.
QUOTE_LIMIT = 120

# Invisible format characters a CRM cell picks up from pasted text (byte-order mark,
# zero-width space, word joiner, direction marks, embeddings, overrides, isolates) and
# the zero-width (non-)joiners: in a name or a header they only make look-alikes differ.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u061c\u202a-\u202e\u2066-\u2069]")


def printable(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` made safe to quote in a message: control and format characters (a NUL, an
    escape sequence, a right-to-left override) shown as ``\\xNN``/``\\uNNNN`` escapes, so
    they can neither hide nor reorder what a terminal shows; cut to ``limit`` characters."""
    cut = len(text) > limit
    shown = "".join(_escape(c) if unicodedata.category(c) in ("Cc", "Cf") else c for c in text[:limit])
    return shown + "…" if cut else shown


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def quote(value: str, limit: int = QUOTE_LIMIT) -> str:
    """``value`` as a quoted literal (``repr`` escapes what cannot be shown), cut to ``limit``
    characters so a 2 MB cell does not flood the terminal."""
    return repr(value[:limit]) + ("…" if len(value) > limit else "")


def strip_invisible(text: str) -> str:
    """``text`` without the invisible format characters, joiners included."""
    return _INVISIBLE.sub("", text)
