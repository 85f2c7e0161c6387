"""Click's own words (``Usage:``, ``Error: No such option …``) in the reader's language.

Click marks its texts with the standard library's ``gettext``, which reads the process's
global text domain, where no catalog of ours is. :func:`install` points the ``gettext``
names of click's modules at :func:`sms123_sync.i18n` instead, for the messages listed in
:data:`CLICK_MESSAGES` (those our commands can show); any other text goes to the standard
``gettext`` as before. English is the msgids themselves: in English nothing changes.

The msgids must be click's own, letter for letter: ``tests/test_cli_language.py`` checks
each one against click's source, so a click release that rewords one fails a test
instead of going back to English unseen. Help texts of our options stay English, and so
does ``--help``'s own line: click makes that option once per process and keeps it, so
its text would keep the language of the first command that showed it.
"""

from __future__ import annotations

import gettext
from types import ModuleType

import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types

from sms123_sync import i18n
from sms123_sync.i18n import N_
from sms123_sync.i18n import lazy_ngettext as ngettext

#: The click modules that translate through ``gettext``; :func:`install` rebinds their names.
MODULES: tuple[ModuleType, ...] = (
    click.core,
    click.decorators,
    click.exceptions,
    click.formatting,
    click.parser,
    click.termui,
    click.types,
)

#: Click's messages that our commands show, as click writes them (msgids of our catalog).
CLICK_MESSAGES: frozenset[str] = frozenset(
    {
        N_("Usage:"),
        N_("Try '{command} {option}' for help."),
        N_("Error: {message}"),
        N_("Invalid value: {message}"),
        N_("Invalid value for {param_hint}: {message}"),
        N_("Missing argument"),
        N_("Missing option"),
        N_("Missing parameter"),
        N_("Missing command."),
        N_("No such option {name!r}."),
        N_("No such command {name!r}."),
        N_("Option {name!r} requires an argument."),
        N_("Option {name!r} does not take a value."),
        N_("Aborted!"),
        N_("{value!r} is not a valid {number_type}."),
        N_("{value} is not in the range {range}."),
        N_("Options"),
        N_("Commands"),
        N_("default: {default}"),
        N_("required"),
    }
)

#: Click's messages with a plural form, marked as plurals for the catalog.
_PLURAL_TEXTS = (
    ngettext("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", 2),
    ngettext("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})", 2),
    ngettext("{value!r} is not {choice}.", "{value!r} is not one of {choices}.", 2),
)
#: Singular msgid → plural msgid.
CLICK_PLURALS: dict[str, str | None] = dict(text.msgids for text in _PLURAL_TEXTS)


def click_gettext(message: str) -> str:
    """What click's ``_(message)`` says: ours for the messages we know, else the standard ``gettext``."""
    if message in CLICK_MESSAGES:
        return i18n._(message)
    return gettext.gettext(message)


def click_ngettext(singular: str, plural: str, count: int) -> str:
    """What click's ``ngettext`` says, as :func:`click_gettext`."""
    if CLICK_PLURALS.get(singular) == plural:
        return i18n.ngettext(singular, plural, count)
    return gettext.ngettext(singular, plural, count)


def install() -> None:
    """Routes click's ``_`` and ``ngettext`` through our catalog (done once, by the CLI).

    Only names still bound to the standard library's functions are rebound, so a click
    that translates some other way is left alone.
    """
    for module in MODULES:
        if getattr(module, "_", None) is gettext.gettext:
            module._ = click_gettext  # type: ignore[attr-defined]
        if getattr(module, "ngettext", None) is gettext.ngettext:
            module.ngettext = click_ngettext  # type: ignore[attr-defined]
