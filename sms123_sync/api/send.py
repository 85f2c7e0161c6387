"""Sending SMS: checking a send request locally, then one ``send/`` call per number.

Everything the API would refuse for a reason we can see (empty or over-long
message, bad sender id, missing opt-out mention, invalid number, a schedule in the
past) is refused here first, before any call or any charge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sms123_sync.api.client import PARIS, Client, Result
from sms123_sync.api.message import MessageShape, check_message, check_sender
from sms123_sync.errors import InputError
from sms123_sync.i18n import lazy_gettext as _
from sms123_sync.mapping.phone import normalize_phone

_WHEN_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%d/%m/%Y %Hh%M", "%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True, slots=True)
class SendRequest:
    """A checked send: normalised numbers, message and options."""

    numbers: tuple[str, ...]
    message: str
    shape: MessageShape
    at: datetime | None = None
    cancel: bool = False
    flash: bool = False
    sender: str | None = None
    tts: bool = False
    test: bool = False


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """What the API answered for one number."""

    number: str
    result: Result


def parse_when(text: str, *, now: datetime | None = None) -> datetime:
    """A human date-time, read as Paris time: ``2026-12-01 15:30`` or ``01/12/2026 15:30``."""
    for fmt in _WHEN_FORMATS:
        try:
            when = datetime.strptime(text.strip(), fmt).replace(tzinfo=PARIS)
        except ValueError:
            continue
        return when
    raise InputError(
        _("--at {text}: write the date and time as 'YYYY-MM-DD HH:MM' (Paris time)").format(text=repr(text))
    )


def prepare_send(
    numbers: Sequence[str],
    message: str,
    *,
    at: datetime | None = None,
    cancel: bool = False,
    flash: bool = False,
    sender: str | None = None,
    tts: bool = False,
    test: bool = False,
    allow_long: bool = False,
    region: str = "FR",
    now: datetime | None = None,
) -> SendRequest:
    """Checks everything that can be checked without the API; raises InputError."""
    if not numbers:
        raise InputError(_("no recipient: give at least one --to number"))
    normalised = []
    for raw in numbers:
        phone = normalize_phone(raw, region)
        if phone is None:
            raise InputError(
                _("--to {number} is not a valid phone number (region {region})").format(number=repr(raw), region=region)
            )
        normalised.append(phone.digits)
    shape = check_message(message, allow_long=allow_long)
    if sender:
        check_sender(sender, message)
    if cancel and at is None:
        raise InputError(_("--cancel needs --at: the time the send was scheduled for"))
    current = now or datetime.now(PARIS)
    if at is not None and not cancel and at <= current:
        raise InputError(_("--at {at} is in the past (Paris time)").format(at=f"{at:%Y-%m-%d %H:%M}"))
    return SendRequest(tuple(dict.fromkeys(normalised)), message, shape, at, cancel, flash, sender, tts, test)


def send_sms(client: Client, request: SendRequest) -> list[SendOutcome]:
    """One ``send/`` call per number; auth and account errors propagate and stop."""
    outcomes = []
    for number in request.numbers:
        result = client.send(
            number,
            request.message,
            at=request.at,
            cancel=request.cancel,
            flash=request.flash,
            sender=request.sender,
            tts=request.tts,
            test=request.test,
        )
        outcomes.append(SendOutcome(number, result))
    return outcomes
