"""The language people read: which one, its messages, and numbers, dates and phones in it.

Messages are gettext catalogs kept as ``.po`` files under ``locale/`` (managed with
Babel: ``pybabel extract -F babel.cfg``, then ``pybabel update``). They are read straight
from the ``.po`` at first use, compiled in memory: no build step, so a wheel, an
editable install and a fresh clone all find the same files. English is the source
language (the msgids); a message missing from a catalog falls back to it.

The language is chosen once per command (:func:`use`), from ``--lang``, else the
locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``), else English. JSON reports and ``--json``
never go through here: their codes and field names are the same in every language.
"""

from __future__ import annotations

import gettext
import io
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from pathlib import Path

LANGUAGES: tuple[str, ...] = ("en", "fr")
DEFAULT_LANGUAGE = "en"
DOMAIN = "sms123_sync"
LOCALE_DIR = Path(__file__).with_name("locale")
# Run times are shown as the office lives them: the account is French.
DISPLAY_TIMEZONE = "Europe/Paris"

# Empty outside :func:`use`: then the locale decides, so a command without --lang and a
# library caller still follow LANG.
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
def use(language: str) -> Iterator[str]:
    """Speak ``language`` inside the block (a command, a test)."""
    token = _current.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield current()
    finally:
        _current.reset(token)


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of ``language``, compiled from its ``.po`` once per process."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    path = catalog_path(language)
    if language == DEFAULT_LANGUAGE or not path.is_file():
        return gettext.NullTranslations()
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


def number(value: int | float) -> str:
    """A count as the language writes it: ``1,234`` / ``1 234``."""
    from babel.numbers import format_decimal

    return str(format_decimal(value, locale=current()))


def percent(value: float) -> str:
    from babel.numbers import format_percent

    return str(format_percent(value, locale=current()))


def when(iso: str | None) -> str:
    """An ISO timestamp as the language writes a date and time, in Paris time."""
    if not iso:
        return ""
    from babel.dates import format_datetime, get_timezone

    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:
        return str(format_datetime(moment, format="medium", locale=current()))
    return str(format_datetime(moment, format="medium", tzinfo=get_timezone(DISPLAY_TIMEZONE), locale=current()))


def phone(digits: str | None) -> str:
    """A number as people write it: ``06 12 34 56 78`` in French for a French number,
    international (``+33 6 12 34 56 78``) otherwise; a number libphonenumber cannot
    read is shown as it was."""
    if not digits:
        return ""
    import phonenumbers

    try:
        parsed = phonenumbers.parse("+" + digits.lstrip("+"), None)
    except phonenumbers.NumberParseException:
        return digits
    if current() == "fr" and parsed.country_code == 33:
        return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL))
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
