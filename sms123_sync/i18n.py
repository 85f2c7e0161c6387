"""The language people read: which one, and its messages.

Messages are gettext catalogs kept as ``.po`` files under ``reports/locale/`` (managed
with Babel: ``pybabel extract -F babel.cfg``, then ``pybabel update``). They are read
straight from the ``.po`` at first use, compiled in memory: no build step, so a wheel,
an editable install and a fresh clone all find the same files. English is the source
language (the msgids); a message missing from a catalog falls back to it, and English
never loads a catalog (nor Babel): the light commands must start fast.

The language is chosen once per command (:func:`use`, :func:`choose`), from ``--lang``,
else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``), else English.

Two kinds of texts go through here:

- what the terminal and the reports show at once: :func:`_` and :func:`ngettext`
  translate when called;
- what a library module says before anyone knows who reads it, above all the text of an
  error: :func:`lazy_gettext` and :func:`lazy_ngettext` return a :class:`Text` that is
  translated when it is shown, so the terminal shows it in the reader's language while
  ``--json`` and the log file keep it in English (:meth:`Text.in_language`).

This module imports nothing heavy: library modules (sources, mapping, reconcile,
campaigns, api) use it without loading the report writers. Never translated: JSON
reports and ``--json`` output, log lines, API wire texts (docs/design.md).
"""

from __future__ import annotations

import gettext
import io
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any, Protocol

LANGUAGES: tuple[str, ...] = ("en", "fr")
DEFAULT_LANGUAGE = "en"
DOMAIN = "sms123_sync"
LOCALE_DIR = Path(__file__).parent / "reports" / "locale"

# Empty outside :func:`use`/:func:`choose`: then the locale decides, so a command without
# --lang and a library caller still follow LANG.
_current: ContextVar[str] = ContextVar("sms123_sync_language", default="")


def resolve(option: str | None, environ: Mapping[str, str] | None = None) -> str:
    """``--lang`` if given, else the locale's language if we have it, else English."""
    if option:
        return option if option in LANGUAGES else DEFAULT_LANGUAGE
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            # The first variable set decides, as in POSIX: LC_ALL=C means C, whatever LANG says.
            language = value.split(".")[0].split("_")[0].lower()
            return language if language in LANGUAGES else DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def current() -> str:
    """The language of the command being run: as :func:`use` set it, else the locale's."""
    return _current.get() or resolve(None)


@contextmanager
def pinned() -> Iterator[str]:
    """The current language, fixed for a block that says many texts (a report of half a
    million rejects): without :func:`use`, each text would read the locale's variables
    again, 5 µs a time."""
    with use(current()) as language:
        yield language


@contextmanager
def use(language: str) -> Iterator[str]:
    """Speak ``language`` inside the block (a command, a test)."""
    token = _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield current()
    finally:
        _current.reset(token)


@contextmanager
def scope() -> Iterator[None]:
    """Whatever :func:`choose` sets inside the block is undone at its end (one CLI call)."""
    token = _current.set(_current.get())
    try:
        yield
    finally:
        _current.reset(token)


def choose(language: str | None) -> str:
    """Speak ``language`` (else the locale's) from now to the end of the enclosing :func:`scope`.

    The CLI's ``--lang`` calls this while parsing, so the errors of the other options,
    the command and the final error line all speak the chosen language.
    """
    _current.set(resolve(language))
    return current()


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of ``language``, compiled from its ``.po`` once per process."""
    path = catalog_path(language)
    if language == DEFAULT_LANGUAGE or not path.is_file():
        return gettext.NullTranslations()
    # Babel only when a catalog is read: English (and --help) never pays for it.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _(message: str) -> str:
    """``message`` in the current language."""
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a message for ``count`` things, in the current language."""
    return translations(current()).ngettext(singular, plural, count)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    """Marks ``message`` for the catalog; translated where it is shown."""
    return message


class Translatable(Protocol):
    """Anything that can be said in a given language (a :class:`Text`, an error)."""

    def in_language(self, language: str) -> str: ...


class Text:
    """A message translated when it is shown, not when it is made.

    ``format`` fills the named placeholders (a value that is itself a :class:`Text`, or an
    error that has ``in_language``, is said in the same language); ``str()`` gives the
    current language, :meth:`in_language` any other (English for JSON and log files).
    """

    __slots__ = ("_count", "_params", "_plural", "_singular")

    def __init__(
        self, singular: str, plural: str | None = None, count: int = 1, params: dict[str, Any] | None = None
    ) -> None:
        self._singular = singular
        self._plural = plural
        self._count = count
        self._params = params

    @property
    def msgids(self) -> tuple[str, str | None]:
        """The English it is made from, as the catalog keys it (singular, plural or None)."""
        return self._singular, self._plural

    def format(self, **params: Any) -> Text:
        return Text(self._singular, self._plural, self._count, {**(self._params or {}), **params})

    def in_language(self, language: str) -> str:
        catalog = translations(language)
        if self._plural is None:
            template = catalog.gettext(self._singular)
        else:
            template = catalog.ngettext(self._singular, self._plural, self._count)
        if self._params is None:
            return template
        return template.format(**{k: said(v, language) for k, v in self._params.items()})

    def __str__(self) -> str:
        return self.in_language(current())

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Text({self.in_language(DEFAULT_LANGUAGE)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Text):
            return self.in_language(DEFAULT_LANGUAGE) == other.in_language(DEFAULT_LANGUAGE)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.in_language(DEFAULT_LANGUAGE))


class Joined:
    """Several texts in a row (``separator`` between them), each said in the same language."""

    __slots__ = ("_items", "_separator")

    def __init__(self, separator: str, items: Iterable[object]) -> None:
        self._separator = separator
        self._items = tuple(items)

    def in_language(self, language: str) -> str:
        return self._separator.join(str(said(item, language)) for item in self._items)

    def __str__(self) -> str:
        return self.in_language(current())


def said(value: object, language: str) -> object:
    """``value`` ready to fill a placeholder in ``language``: texts translated, the rest as is
    (so a placeholder's format spec, ``{size:,}`` or ``{name!r}``, still applies)."""
    in_language = getattr(value, "in_language", None)
    return in_language(language) if callable(in_language) else value


def lazy_gettext(message: str) -> Text:
    """``message``, to be translated when shown; library modules import it as ``_``."""
    return Text(message)


def lazy_ngettext(singular: str, plural: str, count: int) -> Text:
    """The form for ``count`` things, chosen when shown; library modules import it as ``ngettext``."""
    return Text(singular, plural, count)


def english(value: object) -> str:
    """``value`` as English: what ``--json`` and the log file carry, whatever ``--lang`` says."""
    return str(said(value, DEFAULT_LANGUAGE))
