"""Numbers, dates and phones in the reader's language, for the reports and the terminal.

The language itself (which one, the catalogs, ``_``, ``ngettext``) lives in
:mod:`sms123_sync.i18n`, below every stage; this module re-exports it so the report
writers import one place, and adds the formatting that needs Babel and libphonenumber.
"""

from __future__ import annotations

from datetime import datetime

from sms123_sync.i18n import (
    DEFAULT_LANGUAGE,
    DOMAIN,
    LANGUAGES,
    LOCALE_DIR,
    N_,
    _,
    catalog_path,
    choose,
    current,
    ngettext,
    resolve,
    scope,
    translations,
    use,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "DISPLAY_TIMEZONE",
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "_",
    "catalog_path",
    "choose",
    "current",
    "ngettext",
    "number",
    "percent",
    "phone",
    "resolve",
    "scope",
    "translations",
    "use",
    "when",
]

# Run times are shown as the office lives them: the account is French.
DISPLAY_TIMEZONE = "Europe/Paris"


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
