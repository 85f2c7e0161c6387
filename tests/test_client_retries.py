"""Retries recover from transient faults; credentials stop at once; secrets stay hidden."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx
import pytest

from sms123_sync.api.client import AsyncClient, Client, RetryPolicy
from sms123_sync.api.codes import Endpoint
from sms123_sync.api.wire import Credentials
from sms123_sync.errors import AuthError, InputError, RetryableError
from sms123_sync.sandbox.server import Faults, Sandbox
from tests.helpers import CREDS, FAST_RETRY


@pytest.mark.parametrize(
    "faults",
    [Faults(technical_rate=0.3), Faults(http500_rate=0.3), Faults(drop_rate=0.3), Faults(http429_rate=0.3)],
    ids=["minus2", "http500", "dropped", "http429"],
)
def test_retries_recover(faults: Faults, sandbox: Sandbox, make_client: Callable[..., Client]) -> None:
    sandbox.faults = faults
    client = make_client(retry=RetryPolicy(attempts=12, initial=0.001, maximum=0.01, jitter=0.001))
    results = [client.group_add(f"G{i}") for i in range(20)]
    assert all(r.code == "514" for r in results)
    assert sum(r.attempts for r in results) > 20  # some calls really were retried
    assert sandbox.snapshot()["groups"] == sorted(f"G{i}" for i in range(20))


def test_lost_answer_is_marked_maybe_applied(sandbox: Sandbox, make_client: Callable[..., Client]) -> None:
    sandbox.faults = Faults(lost_answer_rate=1.0)
    client = make_client(retry=RetryPolicy(attempts=2, initial=0.001, maximum=0.01, jitter=0))
    with pytest.raises(RetryableError) as caught:
        client.group_add("G")
    assert caught.value.maybe_applied
    sandbox.faults = Faults()
    result = client.group_add("G")  # the first call was applied although unanswered
    assert result.code == "513"


def test_retry_after_is_honoured(sandbox: Sandbox, make_client: Callable[..., Client]) -> None:
    sandbox.faults = Faults(http429_rate=1.0, retry_after=0.3)
    client = make_client(retry=RetryPolicy(attempts=2, initial=0.001, maximum=5, jitter=0))
    import time

    start = time.perf_counter()
    with pytest.raises(RetryableError):
        client.group_add("G")
    assert time.perf_counter() - start >= 0.3


def test_exhausted_retries_raise(sandbox: Sandbox, make_client: Callable[..., Client]) -> None:
    sandbox.faults = Faults(http500_rate=1.0)
    with pytest.raises(RetryableError, match="HTTP 500"):
        make_client(retry=RetryPolicy(attempts=3, initial=0.001, maximum=0.01, jitter=0)).group_add("G")
    assert len(sandbox.requests) == 3


def test_bad_credentials_stop_at_once(sandbox: Sandbox) -> None:
    with (
        Client(Credentials("sandbox", "wrong-key"), base_url=sandbox.url, retry=FAST_RETRY) as client,
        pytest.raises(AuthError) as caught,
    ):
        client.group_add("G")
    assert len(sandbox.requests) == 1
    assert "wrong-key" not in str(caught.value)


def test_connection_refused_is_retried_then_raised() -> None:
    client = Client(CREDS, base_url="http://127.0.0.1:9/api/", retry=RetryPolicy(attempts=2, initial=0.001))
    with client, pytest.raises(RetryableError) as caught:
        client.balance()
    assert not caught.value.maybe_applied


def test_async_client_against_sandbox(sandbox: Sandbox) -> None:
    async def scenario() -> list[str]:
        async with AsyncClient(CREDS, base_url=sandbox.url, retry=FAST_RETRY, wire_format="xml") as client:
            await client.group_add("A")
            codes = await asyncio.gather(*(client.contact_add(["A"], f"3361234567{i}") for i in range(5)))
            upd = await client.contact_upd("A", "33612345670", "33612345679")
            gone = await client.contact_del("33612345679")
            renamed = await client.group_upd("A", "B")
            balance = await client.balance()
            sent = await client.send("0612345678", "async")
            return [*(c.code for c in codes), upd.code, gone.code, renamed.code, str(balance.value), sent.code]

    sandbox.faults = Faults(technical_rate=0.3)
    assert asyncio.run(scenario()) == ["507"] * 5 + ["507", "509", "514", "1000", "80"]


def test_plain_http_refused_except_loopback() -> None:
    with pytest.raises(InputError, match="https"):
        Client(CREDS, base_url="http://api.example.com/api/")
    Client(CREDS, base_url="http://localhost:1/api/").close()
    Client(CREDS, base_url="https://api.example.com/api/").close()


def test_secrets_never_in_repr_errors_or_logs(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture, make_client: Callable[..., Client]
) -> None:
    secret = Credentials("someone@example.com", "s3cr3t-key-value")
    assert "s3cr3t" not in repr(secret) and "someone@example.com" not in repr(secret)
    sandbox.faults = Faults(technical_rate=0.5)
    caplog.set_level(logging.DEBUG)
    with Client(secret, base_url=sandbox.url, retry=RetryPolicy(attempts=3, initial=0.001)) as client:
        assert "s3cr3t" not in repr(client)
        with pytest.raises((AuthError, RetryableError)) as caught:
            client.call(Endpoint.GROUP_ADD, {"groupe": "G"})
    assert "s3cr3t" not in str(caught.value)
    assert "s3cr3t" not in caplog.text and "someone@example.com" not in caplog.text


def test_mock_transport_reads_reference_glued_to_code() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="8012345"))
    with Client(CREDS, base_url="https://x.invalid/api/", transport=transport) as client:
        result = client.send("33612345678", "m")
    assert (result.code, result.reference) == ("80", "12345")
