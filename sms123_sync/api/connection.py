"""Where API calls go: the real 123-SMS account, or a sandbox in this process.

Resolves connection settings (options, then environment) into an open
:class:`~sms123_sync.api.client.Client`. With ``sandbox=True`` a sandbox server is started
on loopback with its data under the work directory, so a user can try a whole sync
without an account.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sms123_sync.api.client import DEFAULT_BASE_URL, Client, RetryPolicy
from sms123_sync.api.wire import Credentials, WireFormat
from sms123_sync.files import WORK_DIR as WORK_DIR  # re-exported: its home before
from sms123_sync.redact import forget

ENV_USER = "SMS123_USER"
ENV_KEY = "SMS123_API_KEY"
ENV_URL = "SMS123_BASE_URL"


@dataclass(frozen=True)
class ConnectionSettings:
    """How to reach the API; ``api_key`` is hidden from ``repr``."""

    user: str | None = None
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    wire_format: WireFormat = WireFormat.JSON
    timeout: float = 15.0
    sandbox: bool = False
    sandbox_data: Path = WORK_DIR / "sandbox.sqlite"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    legacy: bool = False

    def credentials(self) -> Credentials:
        """Options first, then the environment; empty when neither gives them."""
        user = self.user or os.environ.get(ENV_USER, "")
        key = self.api_key or os.environ.get(ENV_KEY, "")
        return Credentials(user, key, legacy=self.legacy)

    def url(self) -> str:
        return self.base_url or os.environ.get(ENV_URL) or DEFAULT_BASE_URL


@contextmanager
def connect(settings: ConnectionSettings, *, max_connections: int = 16) -> Iterator[Client]:
    """An open client for ``settings``; starts and stops the sandbox when asked."""
    if not settings.sandbox:
        with Client(
            settings.credentials(),
            base_url=settings.url(),
            wire_format=settings.wire_format,
            timeout=settings.timeout,
            retry=settings.retry,
            max_connections=max_connections,
        ) as client:
            yield client
        return
    # Imported here: the sandbox is a server beside the API layer, not part of it.
    from sms123_sync.sandbox.server import DEFAULT_KEY, DEFAULT_USER, Sandbox

    with (
        Sandbox(settings.sandbox_data) as sandbox,
        Client(
            Credentials(DEFAULT_USER, DEFAULT_KEY),
            base_url=sandbox.url,
            wire_format=settings.wire_format,
            timeout=settings.timeout,
            retry=settings.retry,
            max_connections=max_connections,
        ) as client,
    ):
        forget(DEFAULT_USER, DEFAULT_KEY)  # public defaults, not secrets
        yield client
