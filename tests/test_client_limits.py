"""Hostile servers: every call ends at its deadline, answers are capped and must be codes.

The servers here are real sockets on loopback that misbehave on purpose: headers one
line at a time, a body one byte at a time, an endless body, gzip, an HTML page.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner

from sms123_sync.api.client import MAX_ANSWER_BYTES, AsyncClient, Client, RetryPolicy
from sms123_sync.api.codes import Endpoint
from sms123_sync.api.wire import parse_answer, parse_balance
from sms123_sync.cli import cli
from sms123_sync.errors import AuthError, InputError, ProtocolError, RetryableError
from tests.helpers import CREDS

ONCE = RetryPolicy(attempts=1)
Respond = Callable[[socket.socket, threading.Event], None]


class RawServer:
    """A TCP server on 127.0.0.1 that reads one HTTP request per connection, then ``respond``s."""

    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.requests: list[bytes] = []
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/"

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.lower().split(b"\r\n")
            lengths = [int(line.split(b":")[1]) for line in lines if line.startswith(b"content-length")]
            length = lengths[0] if lengths else 0
            while len(body) < length:
                body += conn.recv(65536)
            self.requests.append(head + b"\r\n\r\n" + body)
            with contextlib.suppress(OSError):  # the client gave up and closed: what we test
                self.respond(conn, self.stop)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(2)


@pytest.fixture
def serve() -> Iterator[Callable[[Respond], RawServer]]:
    servers: list[RawServer] = []

    def start(respond: Respond) -> RawServer:
        server = RawServer(respond)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def dribble_headers(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    # A header line every 50 ms: never a read timeout. Bounded at 3 s so that a client
    # without a deadline fails the timing assertions instead of hanging the suite.
    for n in range(60):
        if stop.wait(0.05):
            return
        conn.sendall(b"X-Slow-%d: yes\r\n" % n)


def dribble_body(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(150):  # 3 s at most, as above
        if stop.wait(0.02):
            return
        conn.sendall(b"8")


def endless_digits(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
    block = b"9" * 16384
    while not stop.is_set():
        conn.sendall(block)


def fixed(status: str, body: bytes, *headers: str, length: int | None = None) -> Respond:
    def respond(conn: socket.socket, stop: threading.Event) -> None:
        extra = "".join(f"{h}\r\n" for h in headers)
        size = len(body) if length is None else length
        head = f"HTTP/1.1 {status}\r\nContent-Length: {size}\r\nConnection: close\r\n{extra}\r\n"
        conn.sendall(head.encode() + body)

    return respond


def client_for(server: RawServer, timeout: float = 0.5) -> Client:
    return Client(CREDS, base_url=server.url, timeout=timeout, retry=ONCE)


@pytest.mark.parametrize("respond", [dribble_headers, dribble_body], ids=["headers", "body"])
def test_a_dribbling_server_is_cut_at_the_deadline(serve: Callable[[Respond], RawServer], respond: Respond) -> None:
    server = serve(respond)
    with client_for(server, timeout=0.5) as client:
        start = time.monotonic()
        with pytest.raises(RetryableError, match=r"no complete answer within 0.5 s") as caught:
            client.group_add("G")
        took = time.monotonic() - start
        with pytest.raises(RetryableError):
            client.balance()
    assert 0.45 <= took < 1.5
    assert caught.value.maybe_applied  # the request was sent: the apply layer keeps it open


def test_the_deadline_covers_every_attempt(serve: Callable[[Respond], RawServer]) -> None:
    server = serve(dribble_headers)
    retry = RetryPolicy(attempts=3, initial=0.001, maximum=0.01, jitter=0)
    with Client(CREDS, base_url=server.url, timeout=0.3, retry=retry) as client:
        start = time.monotonic()
        with pytest.raises(RetryableError, match="after 3 attempts"):
            client.group_add("G")
    assert time.monotonic() - start < 1.8
    assert len(server.requests) == 3


def test_async_client_has_the_same_deadline(serve: Callable[[Respond], RawServer]) -> None:
    server = serve(dribble_headers)

    async def go() -> None:
        async with AsyncClient(CREDS, base_url=server.url, timeout=0.4, retry=ONCE) as client:
            with pytest.raises(RetryableError, match=r"within 0\.4 s") as caught:
                await client.group_add("G")
            assert caught.value.maybe_applied

    start = time.monotonic()
    asyncio.run(go())
    assert time.monotonic() - start < 1.5


def test_cli_balance_ends_against_a_dribbling_server(serve: Callable[[Respond], RawServer]) -> None:
    server = serve(dribble_headers)
    start = time.monotonic()
    result = CliRunner().invoke(
        cli,
        ["balance", "--base-url", server.url, "--user", "u", "--api-key", "k123", "--timeout", "0.3", "--retries", "1"],
    )
    assert result.exit_code == 1, result.output
    assert "no complete answer within 0.3 s" in result.output
    assert time.monotonic() - start < 2


def test_an_endless_body_is_refused_at_the_cap(serve: Callable[[Respond], RawServer]) -> None:
    server = serve(endless_digits)
    with (
        client_for(server, timeout=5) as client,
        pytest.raises(ProtocolError, match=f"longer than {MAX_ANSWER_BYTES} bytes") as caught,
    ):
        client.balance()
    message = str(caught.value)
    assert "'9999" in message and len(message) < 200  # names what came back, cut short


def test_an_announced_oversized_body_is_refused_unread(serve: Callable[[Respond], RawServer]) -> None:
    server = serve(fixed("200 OK", b"80", length=999_999_999))
    with client_for(server) as client, pytest.raises(ProtocolError, match="answer of 999999999 bytes refused"):
        client.send("0612345678", "hi")


def test_compressed_answers_are_refused_and_identity_is_asked(serve: Callable[[Respond], RawServer]) -> None:
    import gzip

    server = serve(fixed("200 OK", gzip.compress(b"0" * 100_000), "Content-Encoding: gzip"))
    with client_for(server) as client, pytest.raises(ProtocolError, match="compressed answer refused"):
        client.balance()
    assert b"accept-encoding: identity" in server.requests[0].lower()


def test_an_html_page_with_status_200_is_a_protocol_error(serve: Callable[[Respond], RawServer]) -> None:
    page = b"<html><head><title>Maintenance</title></head><body>" + b"x" * 5000 + b"</body></html>"
    server = serve(fixed("200 OK", page, "Content-Type: text/html"))
    with client_for(server) as client, pytest.raises(ProtocolError) as caught:
        client.group_add("G")
    message = str(caught.value)
    assert "group/add/" in message and "Maintenance" in message and len(message) < 160


@pytest.mark.parametrize(
    ("body", "expected"),
    [(b"12.5", "12.5"), (b'{"solde": "7"}', "7"), (b"<sms><solde>3,25</solde></sms>", "3.25")],
)
def test_a_short_decimal_is_a_balance(serve: Callable[[Respond], RawServer], body: bytes, expected: str) -> None:
    server = serve(fixed("200 OK", body))
    with client_for(server) as client:
        assert str(client.balance().value) == expected


@pytest.mark.parametrize("body", [b"1" * 300, b"12.5 credits", b"ERR something", b"1e9"])
def test_anything_else_is_not_a_balance(serve: Callable[[Respond], RawServer], body: bytes) -> None:
    server = serve(fixed("200 OK", body))
    with client_for(server) as client, pytest.raises(ProtocolError, match="neither a balance nor a code"):
        client.balance()


def test_a_code_instead_of_a_balance_is_judged(serve: Callable[[Respond], RawServer]) -> None:
    server = serve(fixed("200 OK", b"E505"))
    with client_for(server) as client, pytest.raises(AuthError):
        client.balance()


@pytest.mark.parametrize(
    ("endpoint", "raw", "code", "ref"),
    [
        (Endpoint.SEND, "80", "80", None),
        (Endpoint.SEND, "80 refaccuse=123", "80", "123"),
        (Endpoint.SEND, "8012345", "80", "12345"),
        (Endpoint.SEND, '{"code": "80", "refaccuse": "9"}', "80", "9"),
        (Endpoint.GROUP_ADD, "-2", "-2", None),
        (Endpoint.GROUP_ADD, "E505", "E505", None),
        (Endpoint.CONTACT_ADD, "<sms><code>506</code></sms>", "506", None),
    ],
)
def test_short_code_tokens_are_read(endpoint: Endpoint, raw: str, code: str, ref: str | None) -> None:
    answer = parse_answer(endpoint, raw)
    assert (answer.code, answer.reference) == (code, ref)


@pytest.mark.parametrize(
    "raw",
    [
        "ERR request was: user=u&cleAPI=k",
        "80" + "1" * 300,
        "OK",
        "80 refaccuse=" + "1" * 100,
        '{"code": "80 and more words"}',
        '{"code": "80", "refaccuse": "a b c"}',
        "[" * 10_000,
        "{" + '"a":' * 5000,
    ],
)
def test_anything_else_is_a_protocol_error(raw: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_answer(Endpoint.SEND, raw)
    assert len(str(caught.value)) < 140
    assert "cleAPI=k" not in str(caught.value)


def test_balance_parser_rejects_a_page_of_digits() -> None:
    with pytest.raises(ProtocolError):
        parse_balance("3" * 1000)


@pytest.mark.parametrize("timeout", [0.0, -1.0])
def test_a_non_positive_timeout_is_an_input_error(timeout: float) -> None:
    with pytest.raises(InputError, match="timeout"):
        Client(CREDS, base_url="http://127.0.0.1:9/", timeout=timeout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["balance", "--timeout", "0"], "--timeout"),
        (["balance", "--timeout", "-1"], "--timeout"),
        (["balance", "--retries", "0"], "--retries"),
        (["sync", "x.csv", "-m", "m.yaml", "--rate", "0.0001"], "--rate"),
        (["sync", "x.csv", "-m", "m.yaml", "--deadline", "0"], "--deadline"),
        (["sync", "x.csv", "-m", "m.yaml", "--deadline", "soon"], "--deadline"),
        (["sync", "x.csv", "-m", "m.yaml", "--deadline", "8000h"], "--deadline"),
        (["sync", "x.csv", "-m", "m.yaml", "--concurrency", "0"], "--concurrency"),
        (["validate", "x.csv", "-m", "m.yaml", "--show", "-1"], "--show"),
    ],
)
def test_option_values_are_validated(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert f"Invalid value for '{message}'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [["--drop-rate", "2"], ["--technical-rate", "-0.1"], ["--latency-ms", "-5"], ["--port", "70000"]],
)
def test_sandbox_serve_option_values_are_validated(args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["sandbox", "serve", *args])
    assert result.exit_code == 2
    assert f"Invalid value for '{args[0]}'" in result.output
