"""From recipients to the messages of a campaign: personalised, measured, timed. Pure.

Each message is checked as the API would check it (length, sender id and its STOP
mention, code 102) and measured per recipient: a name with an accent outside GSM 03.38
turns that one message into UCS-2. Its time is now, ``--at``, or the recipient's own;
for a marketing campaign a time outside the lawful hours (:mod:`.hours`) is moved to the
next lawful one, or refused with ``--no-defer``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sms123_sync.api.client import PARIS
from sms123_sync.api.message import MessageShape, check_message, check_sender
from sms123_sync.campaigns.hours import Window, next_lawful, place_of, why_unlawful
from sms123_sync.campaigns.recipients import Recipients, Skipped
from sms123_sync.campaigns.template import Missing, Template, check_missing
from sms123_sync.errors import GuardError, InputError
from sms123_sync.i18n import Joined
from sms123_sync.i18n import lazy_gettext as _
from sms123_sync.i18n import lazy_ngettext as ngettext
from sms123_sync.mapping.problems import Problem

MARKETING = "marketing"
TRANSACTIONAL = "transactional"
# Refusals listed in one error before "and N more".
SHOWN = 10


@dataclass(frozen=True, slots=True)
class SendOptions:
    """The API options every message of the campaign carries."""

    sender: str | None = None
    flash: bool = False
    tts: bool = False
    test: bool = False
    allow_long: bool = False


@dataclass(frozen=True, slots=True)
class Message:
    """One recipient's message as it will be sent."""

    number: str
    text: str
    shape: MessageShape
    where: str
    at: datetime | None = None  # Paris time of a deferred send; None sends now
    deferred: str = ""  # why the lawful hours moved it, empty when they did not


@dataclass(frozen=True)
class CampaignPlan:
    """What a campaign will send; nothing here has touched the network."""

    name: str
    template: str
    kind: str  # MARKETING or TRANSACTIONAL
    rule: str  # the hour rule that applied, in words
    source: str
    options: SendOptions
    messages: list[Message]
    skipped: list[Skipped] = field(default_factory=list)
    rejects: Sequence[Problem] = field(default_factory=list)
    window: Window = field(default_factory=Window)

    def lawful_at(self, message: Message, now: datetime) -> datetime | None:
        """When ``message`` may go out if sent at ``now``: None for now, else a later time.

        A long marketing campaign started at 19:55 must not deliver its last messages
        after 20:00, so the sender asks again at the moment of each call.
        """
        if message.at is not None and message.at > now:
            return message.at
        if self.kind != MARKETING:
            return None
        place = place_of(message.number)
        return None if why_unlawful(now, place, self.window) is None else next_lawful(now, place, self.window)

    @property
    def sms_total(self) -> int:
        return sum(m.shape.segments for m in self.messages)

    @property
    def deferred(self) -> int:
        return sum(1 for m in self.messages if m.deferred)


def derive_name(template: str, numbers: list[str], at: datetime | None, test: bool = False) -> str:
    """A stable name when ``--name`` is not given: the message's first words and a digest.

    The same message to the same recipients at the same time is the same campaign, so a
    re-run after a crash continues it instead of starting another.
    """
    parts = [template, at.isoformat() if at else "", "test" if test else "", *sorted(numbers)]
    digest = hashlib.sha256("\n".join(parts).encode())
    words = re.sub(r"[^a-z0-9]+", "-", template.lower()).strip("-")[:24].strip("-") or "campaign"
    return f"{words}-{digest.hexdigest()[:10]}"


def plan_campaign(
    recipients: Recipients,
    text: str,
    *,
    now: datetime,
    name: str | None = None,
    at: datetime | None = None,
    options: SendOptions | None = None,
    transactional: bool = False,
    window: Window | None = None,
    defer: bool = True,
) -> CampaignPlan:
    """The campaign's messages; raises InputError (bad message, missing fields) or GuardError
    (a marketing message due outside the lawful hours with ``defer`` off) before any send."""
    options = options or SendOptions()
    window = window or Window()
    template = Template(text, recipients.names)
    if not recipients.recipients:
        raise InputError(_("no recipient: {source} holds no contact to message").format(source=recipients.source))
    if at is not None and at <= now:
        raise InputError(_("--at {at} is in the past (Paris time)").format(at=f"{at.astimezone(PARIS):%Y-%m-%d %H:%M}"))
    missing = [Missing(r.where, r.number, name) for r in recipients.recipients for name in template.missing(r.values)]
    check_missing(missing)
    messages: list[Message] = []
    refused: list[str] = []
    for recipient in recipients.recipients:
        body = template.render(recipient.values)
        try:
            shape = check_message(body, allow_long=options.allow_long)
            if options.sender:
                check_sender(options.sender, body)
        except InputError as exc:
            raise InputError(
                _("{where}, {number}: {error}").format(where=recipient.where, number=recipient.number, error=exc)
            ) from None
        due = recipient.due or at
        when = due if due is not None and due > now else None
        deferred = ""
        if not transactional:
            arrival = when or now
            place = place_of(recipient.number)
            why = why_unlawful(arrival, place, window)
            if why is not None:
                deferred = f"{arrival.astimezone(place.zone):%a %d/%m %H:%M} is {why}"
                if not defer:
                    refused.append(f"{recipient.where}, {recipient.number}: {deferred}")
                    continue
                when = next_lawful(arrival, place, window)
        messages.append(Message(recipient.number, body, shape, recipient.where, when, deferred))
    if refused:
        lines: list[object] = [f"  - {r}" for r in refused[:SHOWN]]
        if len(refused) > SHOWN:
            lines.append(Joined("", ("  ", _("… and {n} more").format(n=len(refused) - SHOWN))))
        raise GuardError(
            ngettext(
                "{n} message would arrive outside the lawful hours and --no-defer is set; nothing was sent:\n{lines}",
                "{n} messages would arrive outside the lawful hours and --no-defer is set; nothing was sent:\n{lines}",
                len(refused),
            ).format(n=len(refused), lines=Joined("\n", lines))
        )
    kind = TRANSACTIONAL if transactional else MARKETING
    rule = (
        "transactional: the lawful-hours rule does not apply"
        if transactional
        else f"marketing: Monday to Saturday {window}, no Sundays or public holidays, in the recipient's time"
    )
    numbers = [m.number for m in messages]
    return CampaignPlan(
        name or derive_name(text, numbers, at, options.test),
        text,
        kind,
        rule,
        recipients.source,
        options,
        messages,
        recipients.skipped,
        recipients.rejects,
        window,
    )
