"""Log setup for unattended runs: timestamped lines, secrets redacted.

Credentials never reach a log line: the client never logs request bodies, and this
filter replaces any known secret that a message might still carry. The log file is
created 0600: it names files, groups and numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from sms123_sync.errors import InputError
from sms123_sync.files import open_private, output_problem
from sms123_sync.i18n import lazy_gettext as _
from sms123_sync.redact import redact


class RedactSecrets(logging.Filter):
    """Replaces each secret in a record's final message (and trace) with ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        # The secrets given to this handler, then the shared net: labelled credentials
        # and every client's registered values.
        record.msg, record.args = redact(record.getMessage(), self.secrets), None
        if record.exc_info:
            # Format the trace here, redacted; the handler then uses this text as is.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None
        return True


def setup_logging(log_file: Path | None, secrets: Iterable[str] = ()) -> logging.Handler | None:
    """Sends the package's INFO log to ``log_file`` with timestamps, when given.

    Returns the handler, for :func:`stop_logging` at the end of the command.
    """
    if log_file is None:
        return None
    problem = output_problem(log_file)
    if problem is not None:
        raise InputError(_("--log-file {path}: {problem}").format(path=log_file, problem=problem))
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        stream = open_private(log_file, "a", encoding="utf-8")
    except OSError as exc:
        raise InputError(
            _("--log-file {path}: cannot write ({reason})").format(path=log_file, reason=exc.strerror)
        ) from None
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    logger = logging.getLogger("sms123_sync")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return handler


def stop_logging(handler: logging.Handler | None) -> None:
    """Detaches and closes a handler from :func:`setup_logging` (and its file)."""
    if handler is None:
        return
    logging.getLogger("sms123_sync").removeHandler(handler)
    handler.close()
    if isinstance(handler, logging.StreamHandler):
        handler.stream.close()
