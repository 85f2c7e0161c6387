"""Sending a campaign exactly once: every send journaled before its call, concluded after.

A recipient whose send is concluded as sent, scheduled or already sent is never sent
again under the same campaign name. A send left ``pending`` (the process was killed
during its call, or every retry lost its answer) is retried on the next run with the
very text it was journaled with: if the first call went through, the API answers 91
("already sent to this number in the last 24 hours"), which is read as done.

Before any send: the balance is read (``solde/``, a decimal number of SMS credits) and a
campaign needing more SMS than it holds is refused (exit 4) unless ``allow_partial``.
Concurrency, rate limit, retries and the graceful stop on SIGINT/SIGTERM are the
reconciler's (:mod:`sms123_sync.reconcile.apply`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from sms123_sync.api.client import PARIS, Client, Result
from sms123_sync.api.codes import Category
from sms123_sync.api.connection import ConnectionSettings, connect
from sms123_sync.campaigns.plan import CampaignPlan, Message
from sms123_sync.errors import (
    AccountError,
    ApiError,
    AuthError,
    InputError,
    RetryableError,
    Sms123Error,
    StoppedError,
)
from sms123_sync.i18n import Text
from sms123_sync.i18n import lazy_gettext as _
from sms123_sync.i18n import lazy_ngettext as ngettext
from sms123_sync.reconcile.apply import _RateLimiter, stop_on_signals
from sms123_sync.reconcile.state import StateStore


class SendStatus(StrEnum):
    SENT = "sent"
    SCHEDULED = "scheduled"
    ALREADY = "already-sent"  # 91: the number has this text from the last 24 hours
    TESTED = "tested"  # test mode: checked by the API, nothing sent
    FAILED = "failed"
    PENDING = "pending"  # journaled, outcome unknown: the next run retries it
    NOT_STARTED = "not-started"  # the run stopped first; never journaled


# Statuses after which a recipient has its message: never sent again.
DONE = frozenset({SendStatus.SENT, SendStatus.SCHEDULED, SendStatus.ALREADY})
# The API's meaning key of a success → the send's status.
_DONE_KEYS = {"sent": SendStatus.SENT, "scheduled": SendStatus.SCHEDULED, "test_ok": SendStatus.TESTED}


@dataclass(frozen=True)
class SendOutcome:
    """What happened to one recipient's message in this run."""

    message: Message
    status: SendStatus
    code: str | None = None
    meaning: str = ""
    reference: str | None = None
    attempts: int = 0


@dataclass(frozen=True)
class CampaignOptions:
    concurrency: int = 8
    rate: float | None = None  # requests per second, all threads together
    allow_partial: bool = False  # send what the balance allows instead of refusing
    handle_signals: bool = False  # graceful SIGINT/SIGTERM (command line, main thread)


@dataclass(frozen=True)
class Preview:
    """What a run would do now: the plan less what earlier runs already sent."""

    plan: CampaignPlan
    to_send: list[Message]
    already_done: int
    balance: Decimal | None  # None in test mode, or when it could not be read (dry run)

    @property
    def sms_needed(self) -> int:
        return sum(m.shape.segments for m in self.to_send)

    @property
    def over_balance(self) -> bool:
        return self.balance is not None and self.sms_needed > self.balance


@dataclass
class CampaignResult:
    preview: Preview
    campaign_id: int | None = None
    run_id: int | None = None
    outcomes: list[SendOutcome] = field(default_factory=list)
    stopped: Sms123Error | None = None

    def count(self, status: SendStatus) -> int:
        return sum(1 for o in self.outcomes if o.status is status)

    @property
    def exit_code(self) -> int:
        if self.stopped is not None:
            return self.stopped.exit_code
        bad = (SendStatus.FAILED, SendStatus.PENDING, SendStatus.NOT_STARTED)
        return 1 if any(o.status in bad for o in self.outcomes) else 0


def preview_campaign(plan: CampaignPlan, store: StateStore, balance: Decimal | None) -> Preview:
    """The messages still to send under ``plan.name``; a pending one keeps its journaled text.

    Refuses (InputError) a name already used for another message: the journal would
    take its recipients for done.
    """
    existing = store.campaign_named(plan.name)
    journal: dict[str, dict[str, Any]] = {}
    if existing is not None:
        if existing["template"] != plan.template:
            raise InputError(
                _(
                    "a campaign named {name} was already sent with another message ({message}); choose another --name"
                ).format(name=repr(plan.name), message=repr(str(existing["template"])[:60]))
            )
        journal = {str(row["numero"]): row for row in store.campaign_sends(int(existing["id"] or 0))}
    to_send: list[Message] = []
    done = 0
    for message in plan.messages:
        row = journal.get(message.number)
        if row is not None and row["status"] in DONE:
            done += 1
            continue
        if row is not None and row["status"] == SendStatus.PENDING:
            # The retry must carry the same text for the API's 91 to recognise it.
            message = replace(message, text=row["message"])
        to_send.append(message)
    return Preview(plan, to_send, done, None if plan.options.test else balance)


def read_balance(client: Client) -> Decimal:
    return client.balance().value


def run_campaign(
    plan: CampaignPlan,
    state: Path | str,
    connection: ConnectionSettings,
    *,
    options: CampaignOptions | None = None,
    confirm: Callable[[Preview], bool] = lambda preview: True,
    on_done: Callable[[SendOutcome], None] | None = None,
    client: Client | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(PARIS),
) -> CampaignResult:
    """Sends ``plan`` (what earlier runs of the same name did not); see the module docstring.

    ``client`` replaces the connection built from ``connection`` (tests inject faults).
    """
    options = options or CampaignOptions()
    with StateStore(state) as store:
        store.acquire()
        with (
            nullcontext(client) if client is not None else connect(connection, max_connections=options.concurrency)
        ) as api:
            balance = None if plan.options.test else read_balance(api)
            preview = preview_campaign(plan, store, balance)
            if preview.over_balance and not options.allow_partial:
                raise AccountError(
                    _(
                        "the campaign needs {needed} SMS and the balance is {balance};"
                        " nothing was sent: credit the account, or pass --allow-partial to send what it allows"
                    ).format(needed=preview.sms_needed, balance=preview.balance)
                )
            if not preview.to_send or not confirm(preview):
                return CampaignResult(preview)
            campaign_id, _run = store.open_campaign(plan.name, plan.template, plan.kind, plan.source)
            run_id = store.begin_run("send", source=plan.name, mode=plan.kind)
            sender = _Sender(api, store, campaign_id, run_id, plan, options, on_done, now)
            result = sender.send(preview)
            # Upper-case keys: `runs` lists them as the counts of a sync's operations.
            counts = {s.name: result.count(s) for s in SendStatus if result.count(s)}
            store.end_run(run_id, result.exit_code, counts)
            return result


class _Sender:
    """Sends the messages on a thread pool under the rate limit; journals each one."""

    def __init__(
        self,
        client: Client,
        store: StateStore,
        campaign_id: int,
        run_id: int,
        plan: CampaignPlan,
        options: CampaignOptions,
        on_done: Callable[[SendOutcome], None] | None,
        now: Callable[[], datetime],
    ) -> None:
        self.client, self.store, self.plan, self.options = client, store, plan, options
        self.campaign_id, self.run_id = campaign_id, run_id
        self._on_done = on_done or (lambda outcome: None)
        self._now = now
        self._limiter = _RateLimiter(options.rate)
        self._stop = threading.Event()
        self._stop_reason: tuple[Text, int] | None = None
        self._fatal: Sms123Error | None = None

    @property
    def stop_requested(self) -> bool:
        return self._stop_reason is not None

    def request_stop(self, why: Text, exit_code: int) -> None:
        if self._stop_reason is None:
            self._stop_reason = (why, exit_code)
        self._stop.set()

    def send(self, preview: Preview) -> CampaignResult:
        result = CampaignResult(preview, self.campaign_id, self.run_id)
        signals = stop_on_signals(self) if self.options.handle_signals else nullcontext()
        with signals, ThreadPoolExecutor(max_workers=max(1, self.options.concurrency)) as pool:
            result.outcomes = list(pool.map(self._one, preview.to_send))
        if self._fatal is not None:
            result.stopped = self._fatal
        elif self._stop_reason is not None:
            why, exit_code = self._stop_reason
            sent = sum(1 for o in result.outcomes if o.status in DONE)
            waiting = result.count(SendStatus.NOT_STARTED)
            result.stopped = StoppedError(
                ngettext(
                    "{why}: {sent} sent, {n} message not started; run the same command again to send it",
                    "{why}: {sent} sent, {n} messages not started; run the same command again to send them",
                    waiting,
                ).format(why=why, sent=sent, n=waiting),
                exit_code=exit_code,
            )
        return result

    def _one(self, message: Message) -> SendOutcome:
        self._limiter.wait(self._stop)
        if self._stop.is_set():
            return SendOutcome(message, SendStatus.NOT_STARTED, meaning="not started: run stopped")
        at = self.plan.lawful_at(message, self._now())
        when = at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M") if at is not None else ""
        self.store.send_begin(self.campaign_id, self.run_id, message.number, message.text, message.shape.segments, when)
        o = self.plan.options
        try:
            answer = self.client.send(
                message.number, message.text, at=at, flash=o.flash, sender=o.sender, tts=o.tts, test=o.test
            )
        except RetryableError as exc:
            if exc.maybe_applied:
                return self._unknown(message, exc)
            return self._conclude(SendOutcome(message, SendStatus.FAILED, _code(exc), str(exc)))
        except (AuthError, AccountError) as exc:
            self._fatal = self._fatal or exc
            self._stop.set()
            return self._conclude(SendOutcome(message, SendStatus.FAILED, _code(exc), str(exc), attempts=1))
        except ApiError as exc:
            # An unreadable answer: the request reached the server, so the send may be done.
            return self._unknown(message, exc)
        return self._conclude(_judge(message, answer))

    def _unknown(self, message: Message, exc: ApiError) -> SendOutcome:
        """Leaves the send pending: the next run's retry reads 91 as our own success."""
        meaning = f"{exc}; outcome unknown, retried by the next run"
        outcome = SendOutcome(message, SendStatus.PENDING, _code(exc), meaning)
        self._on_done(outcome)
        return outcome

    def _conclude(self, outcome: SendOutcome) -> SendOutcome:
        self.store.send_end(
            self.campaign_id,
            outcome.message.number,
            outcome.status.value,
            outcome.code,
            outcome.meaning,
            outcome.reference,
            outcome.attempts,
        )
        self._on_done(outcome)
        return outcome


def _code(exc: ApiError) -> str | None:
    return exc.info.code if exc.info else None


def _judge(message: Message, answer: Result) -> SendOutcome:
    if answer.category is Category.DONE:
        status = _DONE_KEYS.get(answer.info.key, SendStatus.SENT)
    elif answer.category is Category.ALREADY_DONE:
        status = SendStatus.ALREADY
    else:
        status = SendStatus.FAILED
    return SendOutcome(message, status, answer.code, answer.info.en, answer.reference, answer.attempts)


def dry_run(plan: CampaignPlan, state: Path | str, connection: ConnectionSettings) -> Preview:
    """What a run would send now, beside the balance; no send, no change to the state.

    The balance is read when credentials are at hand; without them it shows as unknown.
    """
    balance = None
    if not plan.options.test:
        try:
            with connect(connection) as api:
                balance = read_balance(api)
        except InputError:
            balance = None
    with StateStore(state) as store:
        return preview_campaign(plan, store, balance)
