"""Credentials out of every text that leaves the client, in one place.

A server may echo our request in an error page (``ERR request was: user=…&cleAPI=…``),
and that text can travel into an exception, a journal entry, a report or a log line.
Rather than trust every one of those paths, the texts pass through :func:`redact`:
exception messages (:class:`~sms123_sync.errors.Sms123Error` redacts its own), log
lines (:class:`~sms123_sync.logs.RedactSecrets`) and answer excerpts quoted in errors.

Two nets, both needed: the values registered by each client (raw, percent-encoded,
JSON- and XML-escaped, since an echo may use any of them), and any value that follows
a credential parameter name (``cleAPI=``, ``"pass": "``, ``<user>``), which catches a
key the registry does not know. The user (login/e-mail) is redacted like the key: it
is half of the credentials and personal data besides.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus
from xml.sax.saxutils import escape

MASK = "***"
EXCERPT_CHARS = 60

# Values shorter than this are not replaced literally (a one-letter user would blank
# every text); the parameter-name net still catches them where they are labelled.
_MIN_LITERAL = 3

_NAMED = re.compile(
    r"""(?ix)
    \b(cleapi|pass(?:word)?|api[_-]?key|user|email)   # a credential parameter's name
    (\s*=\s*|"?\s*:\s*"?|\s*>\s*|'\s*:\s*')           # query, JSON, XML or Python-dict separator
    ([^&\s"'<>,;}\]]+)                                # its value
    """
)

_lock = threading.Lock()
_literals: tuple[str, ...] = ()


def register(*secrets: str) -> None:
    """Adds credential values to redact from now on (every client registers its own)."""
    global _literals
    forms: set[str] = set(_literals)
    for secret in secrets:
        if len(secret) < _MIN_LITERAL:
            continue
        forms.update({secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1], escape(secret)})
    with _lock:
        # Longest first, so a secret containing another is masked whole.
        _literals = tuple(sorted(forms, key=len, reverse=True))


def forget(*values: str) -> None:
    """Stops redacting ``values`` literally: for well-known public ones (the sandbox's).

    Otherwise ``sync --sandbox`` would mask the word "sandbox" (its user) in every error.
    """
    global _literals
    with _lock:
        _literals = tuple(s for s in _literals if s not in values)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with ``secrets``, every registered secret and every labelled credential masked."""
    for secret in (*secrets, *_literals):
        if secret and secret in text:
            text = text.replace(secret, MASK)
    return _NAMED.sub(lambda m: m.group(1) + m.group(2) + MASK, text)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A short, redacted, single-line quote of what a server sent, for an error message."""
    clean = " ".join(redact(text).split())
    clean = "".join(ch if ch.isprintable() else "?" for ch in clean)
    if len(clean) > limit:
        clean = clean[:limit] + "…"
    return repr(clean)
