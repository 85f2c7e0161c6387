"""The one exception hierarchy of sms123-sync.

Callers catch by category, never by message text::

    Sms123Error
    ├── InputError            bad file, mapping or option: nothing applied (exit 2)
    │   └── MappingError      the YAML mapping, with every problem found at once
    ├── GuardError            the deletion guard held deletes (exit 3): raised on request only
    ├── LockError             another run holds the state file (exit 2)
    ├── StateError            the state file is unusable (exit 2)
    └── ApiError              the 123-SMS API answered with a failure
        ├── AuthError         bad credentials or refused IP: the run stops (exit 4)
        ├── AccountError      no credit, option missing on the account (exit 4)
        ├── RetryableError    -2, HTTP 429/5xx, timeout, dropped connection
        ├── RejectedError     the API refused this one request (bad number, ...)
        └── ProtocolError     an answer that could not be understood
    StoppedError              the run was stopped early (deadline: exit 1, signal: 130)

Exception texts never carry credentials: the client builds them from codes and
endpoint names, and every message is passed through :func:`sms123_sync.redact.redact`
here, once, so a server's echo of our request cannot carry the key further.

A message the user reads may be a :class:`~sms123_sync.i18n.Text`: ``str(error)`` says it
in the reader's language, :meth:`Sms123Error.in_language` in another (``--json`` and the
log file keep English). API errors carry the API's own words and are never translated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sms123_sync.redact import redact

if TYPE_CHECKING:
    from sms123_sync.api.codes import CodeInfo
    from sms123_sync.i18n import Text


class Sms123Error(Exception):
    """Base of every error this package raises on purpose."""

    exit_code = 2

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))

    def __str__(self) -> str:
        # Imported here, as below: the sandbox shares this hierarchy but not the client's language.
        from sms123_sync.i18n import current

        return self.in_language(current())

    def in_language(self, language: str) -> str:
        """The message said in ``language`` (a plain string message is shown as it is)."""
        from sms123_sync.i18n import said

        # Redacted again at display time: ``args`` may have been changed after construction.
        if len(self.args) == 1:
            return redact(str(said(self.args[0], language)))
        return redact(super().__str__())

    def english(self) -> str:
        """The message as ``--json`` and the log file carry it, whatever the reader's language."""
        from sms123_sync.i18n import DEFAULT_LANGUAGE

        return self.in_language(DEFAULT_LANGUAGE)


class InputError(Sms123Error):
    """The user's file, mapping or options cannot be used as given."""

    exit_code = 2


class MappingError(InputError):
    """A mapping failed validation; ``problems`` lists every one found."""

    def __init__(self, path: str, problems: Sequence[str | Text]) -> None:
        from sms123_sync.i18n import Joined, english
        from sms123_sync.i18n import lazy_ngettext as ngettext

        self.path = path
        # As said (a Text is said in the reader's language), to build a longer error from this one.
        self.texts: list[str | Text] = list(problems)
        # In English, for callers that look for a problem.
        self.problems: list[str] = [english(p) for p in problems]
        lines = Joined("\n", (Joined("", ("  - ", p)) for p in problems))
        super().__init__(
            ngettext(
                "{path}: {n} problem in the mapping:\n{lines}",
                "{path}: {n} problems in the mapping:\n{lines}",
                len(problems),
            ).format(path=path, n=len(problems), lines=lines)
        )


class GuardError(Sms123Error):
    """The deletion guard held deletes; ``Guard.error()`` makes one for a caller that stops on it."""

    exit_code = 3


class LockError(Sms123Error):
    """Another process holds the state file's lock."""

    exit_code = 2


class StateError(Sms123Error):
    """The state file is missing, corrupt or from a newer version."""

    exit_code = 2


class ApiError(Sms123Error):
    """The API answered, or failed to answer, in a way that is not success."""

    exit_code = 1

    def __init__(self, message: str | Text, *, endpoint: str = "", info: CodeInfo | None = None) -> None:
        self.endpoint = endpoint
        self.info = info
        super().__init__(message)


class AuthError(ApiError):
    """Credentials or client IP refused: every further call would fail too."""

    exit_code = 4


class AccountError(ApiError):
    """The account cannot do this (no credit, DOM-TOM option off)."""

    exit_code = 4


class RetryableError(ApiError):
    """A transient failure; ``retry_after`` is the server's hint in seconds."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        info: CodeInfo | None = None,
        retry_after: float | None = None,
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(message, endpoint=endpoint, info=info)
        self.retry_after = retry_after
        # True when the request may have reached the server before the failure
        # (a timeout while reading, a dropped answer): its outcome is ambiguous.
        self.maybe_applied = maybe_applied


class RejectedError(ApiError):
    """The API refused this request for a reason a retry will not fix."""


class ProtocolError(ApiError):
    """The answer was not a code this client knows how to read."""


# The exit code of an unexpected error (a bug, not the user's input): one line on stderr
# and the full trace in a file. 70 is EX_SOFTWARE in sysexits.h; a code of its own lets
# monitoring tell a crash from a run where some operations failed (1).
EXIT_INTERNAL = 70
# Exit code of a run stopped by SIGINT/SIGTERM (128 + SIGINT, the shell's convention).
EXIT_INTERRUPTED = 130


class StoppedError(Sms123Error):
    """The run stopped before its end on purpose; unstarted operations wait for the next run."""

    def __init__(self, message: object, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code
