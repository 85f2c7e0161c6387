"""HTTP clients for the 123-SMS API: all eight endpoints, retries, typed results.

:class:`Client` (threads) and :class:`AsyncClient` (asyncio) share one core that builds
requests and reads answers; they differ only in how they wait. Both keep one httpx
connection pool. A call returns a :class:`Result` for every answer the caller must
judge (done, already done, conflict, not found, bad input) and raises for the answers
that end the run (:class:`AuthError`, :class:`AccountError`) or that stayed transient
through every retry (:class:`RetryableError`).

Every attempt ends at a wall-clock deadline (``timeout`` seconds for connect, headers
and body together; see :mod:`sms123_sync.api.transport`), reads at most
:data:`MAX_ANSWER_BYTES` of an uncompressed answer, and accepts only a short code token
(see :mod:`sms123_sync.api.wire`); anything else is a :class:`ProtocolError` quoting a
redacted excerpt of what came back.

Never logged or put in an exception: the request body (it carries the credentials).
Each client registers its credentials with :mod:`sms123_sync.redact`, so a server's
echo of them is masked in every error text.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import tenacity

from sms123_sync.api.codes import Category, CodeInfo, Endpoint, lookup
from sms123_sync.api.transport import DeadlineClient, DeadlineTransport, deadline
from sms123_sync.api.wire import Credentials, WireFormat, encode_request, parse_answer, parse_balance
from sms123_sync.contact import ContactFields
from sms123_sync.errors import (
    AccountError,
    AuthError,
    InputError,
    ProtocolError,
    RetryableError,
)
from sms123_sync.redact import excerpt, register

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.123-sms.net/api/"
PARIS = ZoneInfo("Europe/Paris")
GROUP_SEPARATOR = "--"

# Real answers are a few bytes ("80 refaccuse=123"); anything near this is not one.
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How transient failures are retried: exponential backoff with jitter."""

    attempts: int = 5
    initial: float = 0.5
    maximum: float = 30.0
    jitter: float = 0.5

    def wait(self, state: tenacity.RetryCallState) -> float:
        """Seconds before the next attempt; a server's ``Retry-After`` wins, capped."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableError) and exc.retry_after is not None:
            return min(exc.retry_after, self.maximum)
        backoff = tenacity.wait_exponential_jitter(multiplier=self.initial, max=self.maximum, jitter=self.jitter)
        return float(backoff(state))


@dataclass(frozen=True, slots=True)
class Result:
    """One answered call: its code's meaning, the raw answer, how many attempts it took.

    ``maybe_applied`` is True when an earlier attempt of the same call may have reached
    the server (a timeout or dropped connection after sending): a "not found" or
    "conflict" answer may then be the echo of our own earlier success.
    """

    endpoint: Endpoint
    info: CodeInfo
    reference: str | None
    raw: str
    attempts: int
    maybe_applied: bool = False

    @property
    def code(self) -> str:
        return self.info.code

    @property
    def category(self) -> Category:
        return self.info.category

    @property
    def ok(self) -> bool:
        return self.info.ok


@dataclass(frozen=True, slots=True)
class Balance:
    """The account's balance as the API reports it."""

    value: Decimal
    raw: str
    attempts: int


def check_base_url(url: str) -> str:
    """Refuses plain HTTP except to loopback, and normalises the trailing slash."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"base URL {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise InputError(f"base URL {url!r} uses plain http to a non-loopback host; use https")
    return url if url.endswith("/") else url + "/"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def schedule_code(when: datetime, *, cancel: bool = False) -> str:
    """The ``diff`` value for ``when``: ``hhmmDDMMYYYY`` in Paris time, ``s`` to cancel."""
    local = when.astimezone(PARIS) if when.tzinfo else when.replace(tzinfo=PARIS)
    return local.strftime("%H%M%d%m%Y") + ("s" if cancel else "")


def _yes(flag: bool) -> str:
    return "o" if flag else ""


# -- request builders: pure, shared by both clients ---------------------------------


def send_params(
    number: str,
    message: str,
    *,
    at: datetime | None = None,
    cancel: bool = False,
    flash: bool = False,
    sender: str | None = None,
    tts: bool = False,
    test: bool = False,
) -> dict[str, str]:
    """Parameters of one ``send/`` call (the document takes one number per call)."""
    params = {"numero": number, "message": message}
    if at is not None:
        params["diff"] = schedule_code(at, cancel=cancel)
    elif cancel:
        raise InputError("cancelling a scheduled send needs the time it was scheduled for")
    optional = {"flash": _yes(flash), "senderid": sender or "", "TTS": _yes(tts), "test": _yes(test)}
    params.update({k: v for k, v in optional.items() if v})
    return params


def join_groups(groups: Sequence[str]) -> str:
    """Several groups in one ``groupe`` parameter, as ``contact/add/`` takes them."""
    for name in groups:
        if GROUP_SEPARATOR in name:
            raise InputError(f"group name {name!r} contains {GROUP_SEPARATOR!r}, the API's group separator")
    return GROUP_SEPARATOR.join(groups)


def contact_params(fields: ContactFields | None) -> dict[str, str]:
    """The field parameters of a contact call; every field is sent so empties clear."""
    return (fields or ContactFields()).as_dict()


def _maybe_applied(exc: httpx.TransportError) -> bool:
    """Whether the request may have reached the server before ``exc``."""
    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class _Reply:
    """An answer read off the wire within the limits: status, headers, decoded body."""

    status: int
    headers: httpx.Headers
    text: str


def _check_head(endpoint: Endpoint, response: httpx.Response) -> None:
    """Refuses, before reading the body, an answer that is compressed or too long."""
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        raise ProtocolError(
            f"{endpoint.value}: compressed answer refused (Content-Encoding {excerpt(encoding)}, asked for identity)",
            endpoint=endpoint.value,
        )
    length = response.headers.get("Content-Length", "").strip()
    if length.isdigit() and int(length) > MAX_ANSWER_BYTES:
        raise ProtocolError(
            f"{endpoint.value}: answer of {int(length)} bytes refused (at most {MAX_ANSWER_BYTES})",
            endpoint=endpoint.value,
        )


class _Body:
    """Collects an answer's bytes, refusing more than :data:`MAX_ANSWER_BYTES`."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > MAX_ANSWER_BYTES:
            raise ProtocolError(
                f"{self.endpoint.value}: answer longer than {MAX_ANSWER_BYTES} bytes refused; it began "
                + excerpt(b"".join([*self.parts, chunk])[:4096].decode("utf-8", errors="replace")),
                endpoint=self.endpoint.value,
            )
        self.parts.append(chunk)

    def reply(self, response: httpx.Response) -> _Reply:
        raw = b"".join(self.parts)
        try:
            text = raw.decode(response.charset_encoding or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know
            text = raw.decode("utf-8", errors="replace")
        return _Reply(response.status_code, response.headers, text)


def _retry_after(response: _Reply) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class _Core:
    """What both clients share: configuration, request building, answer reading."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str = DEFAULT_BASE_URL,
        wire_format: WireFormat | str = WireFormat.JSON,
        timeout: float = 15.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not credentials.user or not credentials.api_key:
            raise InputError("credentials missing: set SMS123_USER and SMS123_API_KEY (or --user / --api-key)")
        self.credentials = credentials
        self.base_url = check_base_url(base_url)
        self.wire_format = WireFormat(wire_format)
        if not timeout > 0:
            raise InputError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        register(*credentials.secrets())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, credentials={self.credentials!r})"

    def _retrying(self) -> dict[str, Any]:
        return {
            "stop": tenacity.stop_after_attempt(self.retry.attempts),
            "wait": self.retry.wait,
            "retry": tenacity.retry_if_exception_type(RetryableError),
            "reraise": True,
            "before_sleep": _log_retry,
        }

    def _prepare(self, endpoint: Endpoint, params: Mapping[str, str]) -> tuple[str, bytes, dict[str, str]]:
        body, headers = encode_request({**self.credentials.as_params(), **params}, self.wire_format)
        return self.base_url + endpoint.value, body, headers

    def _interpret(self, endpoint: Endpoint, response: _Reply, attempt: _Attempt) -> Result:
        status = response.status
        if status == 429 or status >= 500:
            raise RetryableError(
                f"{endpoint.value}: HTTP {status}", endpoint=endpoint.value, retry_after=_retry_after(response)
            )
        if not 200 <= status < 300:
            raise ProtocolError(f"{endpoint.value}: HTTP {status}", endpoint=endpoint.value)
        answer = parse_answer(endpoint, response.text)
        info = lookup(endpoint, answer.code)
        _raise_for_category(endpoint, info)
        return Result(endpoint, info, answer.reference, answer.raw, attempt.count, attempt.maybe_applied)

    def _interpret_balance(self, response: _Reply, attempt: _Attempt) -> Balance:
        status = response.status
        if status == 429 or status >= 500:
            raise RetryableError(f"solde/: HTTP {status}", endpoint="solde/", retry_after=_retry_after(response))
        if not 200 <= status < 300:
            raise ProtocolError(f"solde/: HTTP {status}", endpoint="solde/")
        value = parse_balance(response.text)
        if isinstance(value, Decimal):
            return Balance(value, response.text, attempt.count)
        info = lookup(Endpoint.BALANCE, value)
        _raise_for_category(Endpoint.BALANCE, info)
        raise ProtocolError(f"solde/ answered {info.code}: {info.en}", endpoint="solde/", info=info)


class _Attempt:
    """Counts the attempts of one call and whether any may have been applied."""

    __slots__ = ("count", "maybe_applied", "timeout")

    def __init__(self, timeout: float) -> None:
        self.count = 0
        self.maybe_applied = False
        self.timeout = timeout

    def transport_failed(self, endpoint: Endpoint, exc: httpx.TransportError) -> RetryableError:
        maybe = _maybe_applied(exc)
        self.maybe_applied = self.maybe_applied or maybe
        what = type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            what = f"no complete answer within {self.timeout:g} s ({what})"
        return RetryableError(f"{endpoint.value}: {what}", endpoint=endpoint.value, maybe_applied=maybe)

    def deadline_passed(self, endpoint: Endpoint) -> RetryableError:
        """The async client's overall deadline: the request was sent, so maybe applied."""
        self.maybe_applied = True
        message = f"{endpoint.value}: no complete answer within {self.timeout:g} s (deadline)"
        return RetryableError(message, endpoint=endpoint.value, maybe_applied=True)

    def exhausted(self, last: RetryableError) -> RetryableError:
        """The error that ends the call: ambiguous if any attempt may have been applied."""
        last.maybe_applied = last.maybe_applied or self.maybe_applied
        if self.count > 1:
            last.args = (f"{last.args[0]} (after {self.count} attempts)",)
        return last


def _raise_for_category(endpoint: Endpoint, info: CodeInfo) -> None:
    message = f"{endpoint.value} answered {info.code}: {info.en}"
    if info.category is Category.RETRY:
        raise RetryableError(message, endpoint=endpoint.value, info=info)
    if info.category is Category.AUTH:
        raise AuthError(message, endpoint=endpoint.value, info=info)
    if info.category is Category.ACCOUNT:
        raise AccountError(message, endpoint=endpoint.value, info=info)


def _log_retry(state: tenacity.RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.info("retrying after %s (attempt %d, waiting %.2fs)", exc, state.attempt_number, wait)


T = TypeVar("T")


def _collect(endpoint: Endpoint, response: httpx.Response, chunks: Iterable[bytes]) -> _Reply:
    """Reads a streamed answer within the limits; an error status's body is not needed.

    ``iter_bytes`` decodes nothing here: a Content-Encoding other than identity was refused.
    """
    collected = _Body(endpoint)
    if response.status_code < 400:
        _check_head(endpoint, response)
        for chunk in chunks:
            collected.add(chunk)
    return collected.reply(response)


class Client(_Core):
    """Blocking client; safe to share between threads (httpx pools connections)."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str = DEFAULT_BASE_URL,
        wire_format: WireFormat | str = WireFormat.JSON,
        timeout: float = 15.0,
        retry: RetryPolicy | None = None,
        max_connections: int = 16,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(credentials, base_url=base_url, wire_format=wire_format, timeout=timeout, retry=retry)
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        # Per-read timeouts stay as a floor; the transport's deadline bounds the whole request.
        self._http = DeadlineClient(
            timeout=timeout, limits=limits, transport=transport or DeadlineTransport(limits=limits)
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _post(self, endpoint: Endpoint, params: Mapping[str, str], read: Callable[[_Reply, _Attempt], T]) -> T:
        url, body, headers = self._prepare(endpoint, params)
        attempt = _Attempt(self.timeout)
        try:
            for retrying in tenacity.Retrying(**self._retrying()):
                with retrying:
                    attempt.count += 1
                    try:
                        reply = self._exchange(endpoint, url, body, headers)
                    except httpx.TransportError as exc:
                        raise attempt.transport_failed(endpoint, exc) from None
                    return read(reply, attempt)
        except RetryableError as exc:
            raise attempt.exhausted(exc) from None
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    def _exchange(self, endpoint: Endpoint, url: str, body: bytes, headers: dict[str, str]) -> _Reply:
        """One attempt: request and capped answer, all within the deadline."""
        with deadline(self.timeout), self._http.stream("POST", url, content=body, headers=headers) as response:
            return _collect(endpoint, response, response.iter_bytes())

    def call(self, endpoint: Endpoint, params: Mapping[str, str]) -> Result:
        """One endpoint call with retries; see the module docstring for what raises."""
        return self._post(endpoint, params, lambda r, a: self._interpret(endpoint, r, a))

    def balance(self) -> Balance:
        return self._post(Endpoint.BALANCE, {}, self._interpret_balance)

    def send(
        self,
        number: str,
        message: str,
        *,
        at: datetime | None = None,
        cancel: bool = False,
        flash: bool = False,
        sender: str | None = None,
        tts: bool = False,
        test: bool = False,
    ) -> Result:
        """One SMS to one number; the options are :func:`send_params`'s."""
        params = send_params(number, message, at=at, cancel=cancel, flash=flash, sender=sender, tts=tts, test=test)
        return self.call(Endpoint.SEND, params)

    def group_add(self, name: str) -> Result:
        return self.call(Endpoint.GROUP_ADD, {"groupe": name})

    def group_upd(self, name: str, new_name: str) -> Result:
        return self.call(Endpoint.GROUP_UPD, {"groupe": name, "groupe_upd": new_name})

    def group_del(self, name: str) -> Result:
        return self.call(Endpoint.GROUP_DEL, {"groupe": name})

    def contact_add(self, groups: Sequence[str], number: str, fields: ContactFields | None = None) -> Result:
        return self.call(
            Endpoint.CONTACT_ADD, {"groupe": join_groups(groups), "numero": number, **contact_params(fields)}
        )

    def contact_upd(self, group: str, old_number: str, number: str, fields: ContactFields | None = None) -> Result:
        params = {"groupe": group, "numeroa": old_number, "numero": number, **contact_params(fields)}
        return self.call(Endpoint.CONTACT_UPD, params)

    def contact_del(self, number: str, group: str | None = None) -> Result:
        params = {"numero": number} if group is None else {"numero": number, "groupe": group}
        return self.call(Endpoint.CONTACT_DEL, params)


class AsyncClient(_Core):
    """Asyncio client with the same endpoints and semantics as :class:`Client`."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str = DEFAULT_BASE_URL,
        wire_format: WireFormat | str = WireFormat.JSON,
        timeout: float = 15.0,
        retry: RetryPolicy | None = None,
        max_connections: int = 16,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(credentials, base_url=base_url, wire_format=wire_format, timeout=timeout, retry=retry)
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._http = httpx.AsyncClient(timeout=timeout, limits=limits, transport=transport)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, endpoint: Endpoint, params: Mapping[str, str], read: Callable[[_Reply, _Attempt], T]) -> T:
        url, body, headers = self._prepare(endpoint, params)
        attempt = _Attempt(self.timeout)
        try:
            async for retrying in tenacity.AsyncRetrying(**self._retrying()):
                with retrying:
                    attempt.count += 1
                    try:
                        # Cancellation at the deadline covers every await of the attempt.
                        async with asyncio.timeout(self.timeout):
                            reply = await self._exchange(endpoint, url, body, headers)
                    except httpx.TransportError as exc:
                        raise attempt.transport_failed(endpoint, exc) from None
                    except TimeoutError:
                        raise attempt.deadline_passed(endpoint) from None
                    return read(reply, attempt)
        except RetryableError as exc:
            raise attempt.exhausted(exc) from None
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _exchange(self, endpoint: Endpoint, url: str, body: bytes, headers: dict[str, str]) -> _Reply:
        async with self._http.stream("POST", url, content=body, headers=headers) as response:
            collected = _Body(endpoint)
            if response.status_code < 400:
                _check_head(endpoint, response)
                async for chunk in response.aiter_bytes():
                    collected.add(chunk)
            return collected.reply(response)

    async def call(self, endpoint: Endpoint, params: Mapping[str, str]) -> Result:
        return await self._post(endpoint, params, lambda r, a: self._interpret(endpoint, r, a))

    async def balance(self) -> Balance:
        return await self._post(Endpoint.BALANCE, {}, self._interpret_balance)

    async def send(
        self,
        number: str,
        message: str,
        *,
        at: datetime | None = None,
        cancel: bool = False,
        flash: bool = False,
        sender: str | None = None,
        tts: bool = False,
        test: bool = False,
    ) -> Result:
        """One SMS to one number; the options are :func:`send_params`'s."""
        params = send_params(number, message, at=at, cancel=cancel, flash=flash, sender=sender, tts=tts, test=test)
        return await self.call(Endpoint.SEND, params)

    async def group_add(self, name: str) -> Result:
        return await self.call(Endpoint.GROUP_ADD, {"groupe": name})

    async def group_upd(self, name: str, new_name: str) -> Result:
        return await self.call(Endpoint.GROUP_UPD, {"groupe": name, "groupe_upd": new_name})

    async def group_del(self, name: str) -> Result:
        return await self.call(Endpoint.GROUP_DEL, {"groupe": name})

    async def contact_add(self, groups: Sequence[str], number: str, fields: ContactFields | None = None) -> Result:
        params = {"groupe": join_groups(groups), "numero": number, **contact_params(fields)}
        return await self.call(Endpoint.CONTACT_ADD, params)

    async def contact_upd(
        self, group: str, old_number: str, number: str, fields: ContactFields | None = None
    ) -> Result:
        params = {"groupe": group, "numeroa": old_number, "numero": number, **contact_params(fields)}
        return await self.call(Endpoint.CONTACT_UPD, params)

    async def contact_del(self, number: str, group: str | None = None) -> Result:
        params = {"numero": number} if group is None else {"numero": number, "groupe": group}
        return await self.call(Endpoint.CONTACT_DEL, params)
