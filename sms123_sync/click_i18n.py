"""Click's own words (``Usage:``, ``Error: No such option …``) in the reader's language.

Click marks its texts with the standard library's ``gettext``, which reads the process's
global text domain, where no catalog of ours is. :func:`install` points the ``gettext``
names of click's modules at :func:`sms123_sync.i18n` instead, for the messages listed in
:data:`CLICK_MESSAGES` (those our commands can show); any other text goes to the standard
``gettext`` as before. English is the msgids themselves: in English nothing changes.

The msgids must be click's own, letter for letter: ``tests/test_cli_language.py`` checks
each one against click's source, so a click release that rewords one fails a test
instead of going back to English unseen.

``--help`` shows our own texts too: the commands' and options' help, marked with ``N_``
and kept in English on the click objects (``docs/cli.md`` is made from them), are
translated each time they are shown by :class:`Command` and :class:`Group`. So is
``--help``'s own line (:data:`CLICK_HELP`): click makes that option once per process and
keeps it, so translating it when made would keep the language of the first command shown.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Protocol

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

#: Click's help texts of ``--help`` and ``--version``: made in English (they are not in
#: :data:`CLICK_MESSAGES`), translated when shown, as our own help texts are.
CLICK_HELP: frozenset[str] = frozenset({N_("Show this message and exit."), N_("Show the version and exit.")})

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


# -- help texts, in the reader's language when --help shows them ---------------------------

#: An English help text with values filled in → its msgid and the values (:func:`filled`).
_FILLED: dict[str, tuple[str, dict[str, object]]] = {}


def filled(message: str, **values: object) -> str:
    """``message`` (a msgid) with ``values`` filled in, in English: the help text of an
    option that names a path or a list; :func:`help_in_language` fills the translation."""
    text = message.format(**values)
    _FILLED[text] = (message, values)
    return text


def help_msgid(text: str) -> str:
    """The catalog's key for a help text as click holds it."""
    return _FILLED.get(text, (text, {}))[0]


def help_in_language(text: str) -> str:
    """A help text as click holds it (English), in the current language."""
    message, values = _FILLED.get(text, (text, {}))
    translated = i18n._(message)
    return translated.format(**values) if values else translated


class _HasHelp(Protocol):
    help: str | None


@contextmanager
def _said(items: Iterable[_HasHelp]) -> Iterator[None]:
    """The ``help`` of ``items`` in the current language for the block, English again after.

    Click reads ``help`` deep inside its formatting (with the defaults and the ``[required]``
    after it); swapping it for one rendering keeps the objects English for everyone else.
    """
    kept = [(item, item.help) for item in items if item.help]
    try:
        for item, text in kept:
            item.help = help_in_language(text or "")
        yield
    finally:
        for item, text in kept:
            item.help = text


class _Formatter(click.HelpFormatter):
    """Click's help page, its headings (``Options:``) written as the language writes them."""

    def write_heading(self, heading: str) -> None:
        # French puts a non-breaking space before the colon: "Options :".
        line = i18n._("{heading}:").format(heading=heading)
        self.write(f"{'':>{self.current_indent}}{line}\n")


class _Context(click.Context):
    formatter_class = _Formatter


class Command(click.Command):
    """A command whose ``--help`` speaks the reader's language."""

    context_class = _Context

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _said([self]):
            super().format_help_text(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        with _said([self]):
            return super().get_short_help_str(limit)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _said(options_of(self, ctx)):
            super().format_options(ctx, formatter)


class Group(Command, click.Group):
    """A group as :class:`Command`; its commands and subgroups are made the same."""

    command_class = Command
    group_class: type[click.Group | type] | None = type  # subgroups: this class


def options_of(command: click.Command, ctx: click.Context) -> list[click.Option]:
    """Every option ``--help`` lists for ``command``, its ``--help`` included."""
    return [param for param in command.get_params(ctx) if isinstance(param, click.Option)]
