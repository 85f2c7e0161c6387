"""What the ``send`` command asks for, as one value, turned into a campaign plan.

The one library call behind ``send --group`` and ``send --export``: read the
recipients, then plan the messages (see :func:`.plan.plan_campaign`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sms123_sync.campaigns.hours import Window
from sms123_sync.campaigns.plan import CampaignPlan, SendOptions, plan_campaign
from sms123_sync.campaigns.recipients import Recipients, from_export, from_groups
from sms123_sync.errors import InputError
from sms123_sync.i18n import lazy_gettext as _
from sms123_sync.reconcile.state import StateStore


@dataclass(frozen=True)
class CampaignRequest:
    """A campaign as asked: recipients from ``groups`` or from ``export`` through ``mapping``."""

    message: str
    state: Path
    groups: tuple[str, ...] = ()
    export: str | None = None
    mapping: Path | None = None
    at_column: str | None = None
    before: float = 0.0
    at: datetime | None = None
    name: str | None = None
    options: SendOptions = field(default_factory=SendOptions)
    transactional: bool = False
    window: Window = field(default_factory=Window)
    defer: bool = True


def read_recipients(request: CampaignRequest, now: datetime) -> Recipients:
    if request.before and request.at_column is None:
        raise InputError(_("--before counts back from each row's own time: give --at-column too"))
    if request.export is not None:
        if request.mapping is None:
            raise InputError(_("--export needs --mapping: the mapping says which column holds the number"))
        return from_export(request.export, request.mapping, at_column=request.at_column, before=request.before, now=now)
    if request.at_column is not None:
        raise InputError(_("--at-column reads a column of an export: use it with --export"))
    with StateStore(request.state) as store:
        known = store.load()
    return from_groups(known, request.groups)


def prepare_campaign(request: CampaignRequest, now: datetime) -> CampaignPlan:
    """The plan of ``request`` at ``now``; raises InputError or GuardError, nothing sent."""
    recipients = read_recipients(request, now)
    return plan_campaign(
        recipients,
        request.message,
        now=now,
        name=request.name,
        at=request.at,
        options=request.options,
        transactional=request.transactional,
        window=request.window,
        defer=request.defer,
    )
