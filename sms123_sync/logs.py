"""Log setup for unattended runs: timestamped lines, secrets redacted.

Credentials never reach a log line: the client never logs request bodies, and this
filter replaces any known secret that a message might still carry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from sms123_sync.redact import redact


class RedactSecrets(logging.Filter):
    """Replaces each secret in a record's final message with ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret, "***")
        # The shared net too: labelled credentials and every client's registered values.
        record.msg, record.args = redact(message), None
        return True


def setup_logging(log_file: Path | None, secrets: Iterable[str] = ()) -> None:
    """Sends the package's INFO log to ``log_file`` with timestamps, when given."""
    if log_file is None:
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    logger = logging.getLogger("sms123_sync")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
