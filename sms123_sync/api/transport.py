"""An httpx transport whose requests end at a wall-clock deadline, whatever the server does.

httpx's timeouts bound each socket operation, not the request: a server that sends
one header line a second, or its body a byte at a time, never trips them. Here every
socket operation of the blocking client asks how much of the calling thread's
deadline is left (set with :func:`deadline` around one request), uses at most that
as its own timeout, and raises httpcore's timeout at once when nothing is left, so
connect, TLS, headers and body together stay within it. httpcore maps those errors
to httpx's ``ConnectTimeout`` / ``ReadTimeout`` / ``WriteTimeout`` as usual.

The deadline lives in a thread-local: the blocking client performs a request in the
caller's thread, and :class:`~sms123_sync.api.client.Client` is shared between threads.
"""

from __future__ import annotations

import functools
import ssl
import threading
import time
import typing
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import httpcore
import httpx

_local = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every request of this thread inside the block ends ``seconds`` from now at the latest."""
    previous: float | None = getattr(_local, "at", None)
    _local.at = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.at = previous


def _left(timeout: float | None, late: type[Exception]) -> float | None:
    """The timeout a socket operation may use now; raises ``late`` past the deadline."""
    at: float | None = getattr(_local, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise late("deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: typing.Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(tls)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _left(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[typing.Any] | None = None
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(path, _left(timeout, httpcore.ConnectTimeout), socket_options)
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """httpx's default verifying context, built once: loading the CA bundle costs ~20 ms a client."""
    return httpx.create_ssl_context()


class DeadlineTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` (proxies included) whose sockets honour :func:`deadline`."""

    def __init__(self, **kwargs: typing.Any) -> None:
        kwargs.setdefault("verify", shared_ssl_context())
        super().__init__(**kwargs)
        # httpcore reads the backend when it opens a connection, so wrapping the pool's
        # backend covers every connection it will make (tests/test_client_limits.py
        # fails if an httpcore upgrade moves it).
        pool = self._pool
        pool._network_backend = _DeadlineBackend(pool._network_backend)


class DeadlineClient(httpx.Client):
    """``httpx.Client`` whose environment-proxy transports honour :func:`deadline` too."""

    def _init_proxy_transport(
        self,
        proxy: httpx.Proxy,
        verify: typing.Any = True,
        cert: typing.Any = None,
        trust_env: bool = True,
        http1: bool = True,
        http2: bool = False,
        limits: httpx.Limits = httpx.Limits(),  # noqa: B008 - httpx's own default, never mutated
    ) -> httpx.BaseTransport:
        return DeadlineTransport(
            proxy=proxy, verify=verify, cert=cert, trust_env=trust_env, http1=http1, http2=http2, limits=limits
        )
