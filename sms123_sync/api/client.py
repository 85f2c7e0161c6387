"""HTTP clients for the 123-SMS API: all eight endpoints, retries, typed results.

:class:`Client` (threads) and :class:`AsyncClient` (asyncio) share one core that builds
requests and reads answers; they differ only in how they wait. Both keep one httpx
connection pool. A call returns a :class:`Result` for every answer the caller must
judge (done, already done, conflict, not found, bad input) and raises for the answers
that end the run (:class:`AuthError`, :class:`AccountError`) or that stayed transient
through every retry (:class:`RetryableError`).

Never logged or put in an exception: the request body (it carries the credentials).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Mapping, Sequence
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
from sms123_sync.api.wire import Credentials, WireFormat, encode_request, parse_answer, parse_balance
from sms123_sync.contact import ContactFields
from sms123_sync.errors import (
    AccountError,
    AuthError,
    InputError,
    ProtocolError,
    RetryableError,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.123-sms.net/api/"
PARIS = ZoneInfo("Europe/Paris")
GROUP_SEPARATOR = "--"


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


def _retry_after(response: httpx.Response) -> float | None:
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
        self.timeout = timeout
        self.retry = retry or RetryPolicy()

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

    def _interpret(self, endpoint: Endpoint, response: httpx.Response, attempt: _Attempt) -> Result:
        status = response.status_code
        if status == 429 or status >= 500:
            raise RetryableError(
                f"{endpoint.value}: HTTP {status}", endpoint=endpoint.value, retry_after=_retry_after(response)
            )
        if status >= 400:
            raise ProtocolError(f"{endpoint.value}: HTTP {status}", endpoint=endpoint.value)
        answer = parse_answer(endpoint, response.text)
        info = lookup(endpoint, answer.code)
        _raise_for_category(endpoint, info)
        return Result(endpoint, info, answer.reference, answer.raw, attempt.count, attempt.maybe_applied)

    def _interpret_balance(self, response: httpx.Response, attempt: _Attempt) -> Balance:
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableError(
                f"solde/: HTTP {response.status_code}", endpoint="solde/", retry_after=_retry_after(response)
            )
        if response.status_code >= 400:
            raise ProtocolError(f"solde/: HTTP {response.status_code}", endpoint="solde/")
        value = parse_balance(response.text)
        if isinstance(value, Decimal):
            return Balance(value, response.text, attempt.count)
        info = lookup(Endpoint.BALANCE, value)
        _raise_for_category(Endpoint.BALANCE, info)
        raise ProtocolError(f"solde/ answered {info.code}: {info.en}", endpoint="solde/", info=info)


class _Attempt:
    """Counts the attempts of one call and whether any may have been applied."""

    __slots__ = ("count", "maybe_applied")

    def __init__(self) -> None:
        self.count = 0
        self.maybe_applied = False

    def transport_failed(self, endpoint: Endpoint, exc: httpx.TransportError) -> RetryableError:
        maybe = _maybe_applied(exc)
        self.maybe_applied = self.maybe_applied or maybe
        return RetryableError(f"{endpoint.value}: {type(exc).__name__}", endpoint=endpoint.value, maybe_applied=maybe)

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
        self._http = httpx.Client(timeout=timeout, limits=limits, transport=transport)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _post(self, endpoint: Endpoint, params: Mapping[str, str], read: Callable[[httpx.Response, _Attempt], T]) -> T:
        url, body, headers = self._prepare(endpoint, params)
        attempt = _Attempt()
        try:
            for retrying in tenacity.Retrying(**self._retrying()):
                with retrying:
                    attempt.count += 1
                    try:
                        response = self._http.post(url, content=body, headers=headers)
                    except httpx.TransportError as exc:
                        raise attempt.transport_failed(endpoint, exc) from None
                    return read(response, attempt)
        except RetryableError as exc:
            raise attempt.exhausted(exc) from None
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    def call(self, endpoint: Endpoint, params: Mapping[str, str]) -> Result:
        """One endpoint call with retries; see the module docstring for what raises."""
        return self._post(endpoint, params, lambda r, a: self._interpret(endpoint, r, a))

    def balance(self) -> Balance:
        return self._post(Endpoint.BALANCE, {}, self._interpret_balance)

    def send(self, number: str, message: str, **options: Any) -> Result:
        """One SMS to one number; options as :func:`send_params`."""
        return self.call(Endpoint.SEND, send_params(number, message, **options))

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

    async def _post(
        self, endpoint: Endpoint, params: Mapping[str, str], read: Callable[[httpx.Response, _Attempt], T]
    ) -> T:
        url, body, headers = self._prepare(endpoint, params)
        attempt = _Attempt()
        try:
            async for retrying in tenacity.AsyncRetrying(**self._retrying()):
                with retrying:
                    attempt.count += 1
                    try:
                        response = await self._http.post(url, content=body, headers=headers)
                    except httpx.TransportError as exc:
                        raise attempt.transport_failed(endpoint, exc) from None
                    return read(response, attempt)
        except RetryableError as exc:
            raise attempt.exhausted(exc) from None
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def call(self, endpoint: Endpoint, params: Mapping[str, str]) -> Result:
        return await self._post(endpoint, params, lambda r, a: self._interpret(endpoint, r, a))

    async def balance(self) -> Balance:
        return await self._post(Endpoint.BALANCE, {}, self._interpret_balance)

    async def send(self, number: str, message: str, **options: Any) -> Result:
        return await self.call(Endpoint.SEND, send_params(number, message, **options))

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
