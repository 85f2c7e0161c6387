"""Values and helpers shared by several test files (fixtures stay in conftest.py)."""

from __future__ import annotations

from sms123_sync.api.client import RetryPolicy
from sms123_sync.api.wire import Credentials
from sms123_sync.sandbox.server import DEFAULT_KEY, DEFAULT_USER

# Retries as the real policy makes them, with waits short enough for a test.
FAST_RETRY = RetryPolicy(attempts=6, initial=0.001, maximum=0.01, jitter=0.001)
CREDS = Credentials(DEFAULT_USER, DEFAULT_KEY)
