"""Shared fixtures: a real sandbox server on loopback and clients pointed at it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from sms123_sync.api.client import Client, RetryPolicy
from sms123_sync.sandbox.server import Sandbox
from tests.helpers import CREDS, FAST_RETRY

# Properties replay the same examples on every run, so a red CI is reproducible and
# bounded in time; HYPOTHESIS_EXPLORE=1 draws fresh ones (and CONVERGE_EXAMPLES=N more).
settings.register_profile("fixed", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("explore" if os.environ.get("HYPOTHESIS_EXPLORE") else "fixed")


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests read English unless they ask for French: a French desktop's LANG must not
    change what they see (docs/design.md, "Reports people read")."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """A fresh sandbox account with request recording on."""
    with Sandbox(tmp_path / "sandbox.sqlite", record_requests=True, seed=1) as server:
        yield server


@pytest.fixture
def make_client(sandbox: Sandbox) -> Iterator[Callable[..., Client]]:
    """Builds clients on the sandbox; all are closed after the test."""
    made: list[Client] = []

    def factory(wire_format: str = "json", retry: RetryPolicy = FAST_RETRY, **kw: object) -> Client:
        client = Client(CREDS, base_url=sandbox.url, wire_format=wire_format, retry=retry, timeout=5, **kw)  # type: ignore[arg-type]
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


@pytest.fixture(autouse=True)
def _fresh_phone_caches() -> None:
    """Under mutmut, each mutant's tests run in a process forked from one that already ran
    the suite: the phone caches would answer from the unmutated code, hiding the mutant."""
    if os.environ.get("MUTANT_UNDER_TEST"):
        from sms123_sync.mapping import normalize

        for cached in (normalize.normalize_phone, normalize.why_invalid, normalize.choose_in_cell):
            cached.cache_clear()
