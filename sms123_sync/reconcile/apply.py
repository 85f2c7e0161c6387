"""Applying a plan: phases in order, calls in parallel, every outcome journaled.

Within a phase, operations on the same number run one after the other (never in
flight together); different numbers run concurrently on a thread pool sharing one
HTTP connection pool, under an optional requests-per-second limit. Between phases
there is a barrier, so a contact is never added to a group before the group exists.

How answers become outcomes (docs/design.md, "Codes are outcomes, not failures"):
already-done codes are successes; a contact already in the group (506) is followed by
an update of its fields, group by group for a multi-group add; a "not found" or
"conflict" answer after an attempt that may have been applied is our own earlier
success; a group still holding unknown contacts (515) is a conflict kept in the
report; credentials or account errors stop the run.

Stopping early (DESIGN, "the journal is the truth"): past the run's deadline, or after a
first SIGINT/SIGTERM, no new operation starts; those in flight finish and are journaled;
the queued ones are reported as skipped and never journaled, so the next run plans them
again. A second signal stops at once (open journal entries are settled by the next run).
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from enum import StrEnum
from types import FrameType
from typing import Protocol

from sms123_sync.api.client import Client, Result
from sms123_sync.api.codes import Category
from sms123_sync.contact import ContactFields
from sms123_sync.errors import (
    EXIT_INTERRUPTED as EXIT_INTERRUPTED,  # re-exported: its home before
)
from sms123_sync.errors import (
    AccountError,
    ApiError,
    AuthError,
    RetryableError,
    Sms123Error,
    StoppedError,
)
from sms123_sync.i18n import Text, english
from sms123_sync.i18n import lazy_gettext as _
from sms123_sync.i18n import lazy_ngettext as ngettext
from sms123_sync.reconcile.plan import Operation, OpKind, Plan
from sms123_sync.reconcile.state import StateStore

log = logging.getLogger(__name__)

# Exit code of a run that reached its --deadline with operations left.
EXIT_DEADLINE = 1
NOT_STARTED = "not started: run stopped"


class Status(StrEnum):
    """What became of one operation, as the journal and the reports name it."""

    APPLIED = "applied"
    ALREADY = "already-done"
    CONFLICT = "conflict"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    """What happened to one operation."""

    op: Operation
    status: Status
    code: str | None = None
    meaning: str = ""
    attempts: int = 0


@dataclass(frozen=True)
class ApplyOptions:
    """How a plan is applied: calls in flight, request rate, the run's deadline, signals."""

    concurrency: int = 8
    rate: float | None = None  # requests per second, all threads together
    # time.monotonic() after which no operation starts (the run's --deadline).
    deadline_at: float | None = None
    # Install SIGINT/SIGTERM handlers for a graceful stop (command line; main thread only).
    handle_signals: bool = False


@dataclass
class RunResult:
    """The outcomes of the operations a run executed, and why it stopped early, if it did."""

    outcomes: list[Outcome] = field(default_factory=list)
    stopped: Sms123Error | None = None

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status is status)

    @property
    def exit_code(self) -> int:
        if self.stopped is not None:
            return self.stopped.exit_code
        return 1 if any(o.status is Status.FAILED for o in self.outcomes) else 0


class _RateLimiter:
    """Spaces calls evenly across threads: at most ``rate`` per second."""

    def __init__(self, rate: float | None) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self, stop: threading.Event | None = None, until: float | None = None) -> None:
        """Waits for this thread's slot; returns early when ``stop`` is set or at ``until``."""
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
        end = slot if until is None else min(slot, until)
        if end > now:
            if stop is None:
                time.sleep(end - now)
            else:
                stop.wait(end - now)


class Applier:
    """Runs operations against the API and records each outcome in the state."""

    def __init__(
        self,
        client: Client,
        store: StateStore,
        run_id: int,
        options: ApplyOptions | None = None,
        on_done: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.run_id = run_id
        self.options = options or ApplyOptions()
        self._limiter = _RateLimiter(self.options.rate)
        self._stop = threading.Event()
        self._stop_reason: tuple[Text, int] | None = None  # (why, exit code) of an early stop
        self._prepaid = threading.local()  # the rate slot taken before an operation started
        self._on_done = on_done or (lambda outcome: None)

    def request_stop(self, why: Text, exit_code: int) -> None:
        """No operation starts after this; those in flight finish (thread- and signal-safe)."""
        if self._stop_reason is None:
            self._stop_reason = (why, exit_code)
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop_reason is not None

    def _may_start(self) -> bool:
        """Takes a rate slot; False when the run must not start another operation."""
        deadline = self.options.deadline_at
        self._limiter.wait(self._stop, deadline)
        if deadline is not None and time.monotonic() >= deadline:
            self.request_stop(_("the run's deadline passed"), EXIT_DEADLINE)
        if self._stop.is_set():
            return False
        self._prepaid.slot = True
        return True

    def apply(self, plan: Plan) -> RunResult:
        return self.run(plan.operations)

    def run(self, operations: Iterable[Operation], *, suspect: bool = False) -> RunResult:
        """Executes ``operations`` phase by phase; ``suspect`` marks a settle of open entries."""
        result = RunResult()
        by_phase: dict[OpKind, list[Operation]] = defaultdict(list)
        for op in operations:
            by_phase[op.kind].append(op)
        failed_groups: set[str] = set()
        signals = stop_on_signals(self) if self.options.handle_signals else nullcontext()
        with signals, ThreadPoolExecutor(max_workers=max(1, self.options.concurrency)) as pool:
            for kind in sorted(by_phase):
                chains: dict[str, list[Operation]] = defaultdict(list)
                for op in by_phase[kind]:
                    chains[op.number or "|".join(op.groups)].append(op)
                futures = [pool.submit(self._chain, ops, failed_groups, suspect) for ops in chains.values()]
                for future in futures:
                    outcomes, stopped = future.result()
                    result.outcomes.extend(outcomes)
                    if stopped is not None and result.stopped is None:
                        result.stopped = stopped
                for outcome in result.outcomes:
                    if outcome.status in (Status.FAILED, Status.CONFLICT, Status.SKIPPED) and outcome.op.kind in (
                        OpKind.GROUP_ADD,
                        OpKind.GROUP_RENAME,
                    ):
                        failed_groups.add(outcome.op.new_name or outcome.op.groups[0])
                if result.stopped is not None:
                    break
        if result.stopped is None and self._stop_reason is not None:
            why, exit_code = self._stop_reason
            applied = sum(1 for o in result.outcomes if o.status in (Status.APPLIED, Status.ALREADY))
            waiting = sum(1 for o in result.outcomes if o.meaning == NOT_STARTED)
            result.stopped = StoppedError(
                ngettext(
                    "{why}: {applied} operation applied, {waiting} not started; the next run continues from there",
                    "{why}: {applied} operations applied, {waiting} not started; the next run continues from there",
                    applied,
                ).format(why=why, applied=applied, waiting=waiting),
                exit_code=exit_code,
            )
        return result

    def _chain(
        self, ops: list[Operation], failed_groups: set[str], suspect: bool
    ) -> tuple[list[Outcome], Sms123Error | None]:
        outcomes: list[Outcome] = []
        for op in ops:
            if op.kind in (OpKind.CONTACT_ADD, OpKind.CONTACT_UPD) and failed_groups & set(op.groups):
                outcomes.append(Outcome(op, Status.SKIPPED, meaning="its group could not be created or renamed"))
                continue
            if not self._may_start():
                # Never journaled: the next run plans it again.
                outcomes.append(Outcome(op, Status.SKIPPED, meaning=NOT_STARTED))
                continue
            try:
                outcome = self._execute(op, suspect)
            except (AuthError, AccountError) as exc:
                self._stop.set()
                outcomes.append(Outcome(op, Status.FAILED, exc.info.code if exc.info else None, str(exc)))
                return outcomes, exc
            outcomes.append(outcome)
            self._on_done(outcome)
        return outcomes, None

    # -- one operation --------------------------------------------------------------

    def _execute(self, op: Operation, suspect: bool) -> Outcome:
        entry = self.store.journal_begin(self.run_id, op.to_json())
        try:
            outcome = self._dispatch(op, suspect)
        except RetryableError as exc:
            if exc.maybe_applied:
                # The server may have done it: leave the entry open so the next run
                # settles it and reads "not found" / "already" answers as our own echo.
                return Outcome(op, Status.FAILED, None, f"{exc}; outcome unknown, settled by the next run")
            outcome = Outcome(op, Status.FAILED, exc.info.code if exc.info else None, str(exc), 0)
            with self.store.change() as db:
                self.store.journal_end(db, entry, outcome.status.value, outcome.code, outcome.meaning, 0)
            return outcome
        except (AuthError, AccountError) as exc:
            with self.store.change() as db:
                self.store.journal_end(db, entry, Status.FAILED.value, exc.info.code if exc.info else None, str(exc), 1)
            raise
        except ApiError as exc:
            # An answer we cannot read (an HTML page, a compressed or oversized body): the
            # request reached the server, so it may have been applied. Like a lost
            # answer, the entry stays open for the next run to settle.
            return Outcome(op, Status.FAILED, None, f"{exc}; outcome unknown, settled by the next run")
        with self.store.change() as db:
            self._record(db, op, outcome)
            self.store.journal_end(db, entry, outcome.status.value, outcome.code, outcome.meaning, outcome.attempts)
        return outcome

    def _call(self, fn: Callable[[], Result]) -> Result:
        if getattr(self._prepaid, "slot", False):
            self._prepaid.slot = False  # the operation's first call: its slot was taken to start
        else:
            self._limiter.wait()
        return fn()

    def _dispatch(self, op: Operation, suspect: bool) -> Outcome:
        c = self.client
        if op.kind is OpKind.GROUP_ADD:
            return self._judge(op, self._call(lambda: c.group_add(op.groups[0])), suspect)
        if op.kind is OpKind.GROUP_RENAME:
            return self._judge(op, self._call(lambda: c.group_upd(op.groups[0], op.new_name)), suspect)
        if op.kind is OpKind.GROUP_DEL:
            return self._judge(op, self._call(lambda: c.group_del(op.groups[0])), suspect)
        if op.kind is OpKind.CONTACT_DEL:
            group = op.groups[0] if op.groups else None
            return self._judge(op, self._call(lambda: c.contact_del(op.number, group)), suspect)
        if op.kind is OpKind.CONTACT_ADD:
            return self._add(op, suspect)
        return self._update(op, suspect)

    def _judge(self, op: Operation, result: Result, suspect: bool) -> Outcome:
        category = result.category
        # Only a rename can meet its own earlier success as "no such group" / "name
        # taken"; a 515 or 517 elsewhere is never an echo.
        echo = (result.maybe_applied or suspect) and op.kind is OpKind.GROUP_RENAME
        if category is Category.DONE:
            return Outcome(op, Status.APPLIED, result.code, result.info.en, result.attempts)
        if category is Category.ALREADY_DONE or (echo and category in (Category.NOT_FOUND, Category.CONFLICT)):
            return Outcome(op, Status.ALREADY, result.code, result.info.en, result.attempts)
        if category is Category.CONFLICT:
            return Outcome(op, Status.CONFLICT, result.code, result.info.en, result.attempts)
        return Outcome(op, Status.FAILED, result.code, result.info.en, result.attempts)

    def _add(self, op: Operation, suspect: bool) -> Outcome:
        c = self.client
        fields = op.fields or ContactFields()
        result = self._call(lambda: c.contact_add(op.groups, op.number, fields))
        if result.category is not Category.ALREADY_DONE:
            return self._judge(op, result, suspect)
        # 506: the number is in (one of) the group(s) with fields we do not know.
        attempts = result.attempts
        for group in op.groups:
            single = result
            if len(op.groups) > 1:
                single = self._call(lambda g=group: c.contact_add([g], op.number, fields))  # type: ignore[misc]
                attempts += single.attempts
            if single.category is Category.ALREADY_DONE:
                single = self._call(lambda g=group: c.contact_upd(g, op.number, op.number, fields))  # type: ignore[misc]
                attempts += single.attempts
            if not single.ok:
                return Outcome(op, Status.FAILED, single.code, f"{group}: {single.info.en}", attempts)
        return Outcome(op, Status.ALREADY, result.code, "already in the group; fields updated", attempts)

    def _update(self, op: Operation, suspect: bool) -> Outcome:
        c = self.client
        group = op.groups[0]
        fields = op.fields or ContactFields()
        old = op.old_number or op.number
        result = self._call(lambda: c.contact_upd(group, old, op.number, fields))
        if result.category is Category.CONFLICT and old != op.number:
            return self._take_over(op, group, old, fields, result)
        if result.category is not Category.NOT_FOUND:
            return self._judge(op, result, suspect)
        if (result.maybe_applied or suspect) and old != op.number:
            return Outcome(op, Status.ALREADY, result.code, "number already changed", result.attempts)
        # Not in the group after all (removed by hand): add it back with its fields.
        added = self._call(lambda: c.contact_add([group], op.number, fields))
        if added.category is Category.ALREADY_DONE:
            added = self._call(lambda: c.contact_upd(group, op.number, op.number, fields))
        status = Status.APPLIED if added.ok else Status.FAILED
        return Outcome(op, status, added.code, f"was missing; re-added: {added.info.en}", result.attempts + 1)

    def _take_over(self, op: Operation, group: str, old: str, fields: ContactFields, result: Result) -> Outcome:
        """The new number is already in the group, unknown to the state (added by hand).

        The export says it is this contact's: give it the contact's fields, then drop the
        old number's record, which is what the update would have left. Fields first: a
        crash in between leaves the old record, so the next run meets this case again.
        """
        c = self.client
        attempts = result.attempts
        taken = self._call(lambda: c.contact_upd(group, op.number, op.number, fields))
        attempts += taken.attempts
        if not taken.ok:
            return Outcome(op, Status.FAILED, taken.code, f"new number: {taken.info.en}", attempts)
        removed = self._call(lambda: c.contact_del(old, group))
        attempts += removed.attempts
        if not (removed.ok or removed.category is Category.NOT_FOUND):
            return Outcome(op, Status.FAILED, removed.code, f"old number: {removed.info.en}", attempts)
        return Outcome(op, Status.ALREADY, result.code, "new number was already in the group; took it over", attempts)

    # -- state ----------------------------------------------------------------------

    def _record(self, db: sqlite3.Connection, op: Operation, outcome: Outcome) -> None:
        """The state change an outcome implies, in the outcome's transaction."""
        ok = outcome.status in (Status.APPLIED, Status.ALREADY)
        s = self.store
        if op.kind is OpKind.GROUP_ADD:
            if ok:
                s.add_group(db, op.groups[0], "created" if outcome.status is Status.APPLIED else "adopted")
        elif op.kind is OpKind.GROUP_RENAME:
            if ok:
                s.rename_group(db, op.groups[0], op.new_name)
        elif op.kind is OpKind.GROUP_DEL:
            if ok:
                s.delete_group(db, op.groups[0])
        elif op.kind is OpKind.CONTACT_DEL:
            if ok:
                s.delete_member(db, op.number, op.groups[0] if op.groups else None)
        elif ok:
            for group in op.groups:
                s.put_member(db, group, op.number, op.key, op.fields or ContactFields(), op.old_number, op.fields_hash)


class Stoppable(Protocol):
    """What :func:`stop_on_signals` stops: an :class:`Applier`, or a campaign's sender."""

    @property
    def stop_requested(self) -> bool: ...

    def request_stop(self, why: Text, exit_code: int) -> None: ...


@contextmanager
def stop_on_signals(applier: Stoppable) -> Iterator[None]:
    """First SIGINT or SIGTERM: stop gracefully (exit 130); a second one: stop at once.

    cron and systemd stop a job with SIGTERM, so it gets the same graceful stop as
    Ctrl-C. Signal handlers can only be set from the main thread; elsewhere this does
    nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    watched = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.getsignal(sig) for sig in watched}

    def handler(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if applier.stop_requested:
            raise KeyboardInterrupt
        applier.request_stop(_("interrupted by {signal}").format(signal=name), EXIT_INTERRUPTED)
        message = _("{signal}: finishing the calls in flight, starting no more (again to stop at once)").format(
            signal=name
        )
        log.warning("%s", english(message))  # the log file stays English; the terminal speaks the reader's language
        print(message, file=sys.stderr, flush=True)

    for sig in watched:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
