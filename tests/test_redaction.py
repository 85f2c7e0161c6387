"""Credentials never leave the client, even when a server echoes our request back.

End to end: a real HTTP server on loopback answers every call with an error page
holding the credentials, the body's form encoding and the raw body; the real CLI
runs ``balance`` and ``sync`` against it; the key and the user must be in none of
the outputs, logs, reports, state bytes or ``runs show``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from sms123_sync.cli import cli
from sms123_sync.errors import ProtocolError, RetryableError
from sms123_sync.logs import RedactSecrets
from sms123_sync.redact import excerpt, redact, register

KEY = "Zx9-secret+key/42é"
USER = "alice.martin@example.org"
SECRETS = (KEY, USER, urlencode({"k": KEY})[2:], urlencode({"u": USER})[2:], json.dumps(KEY)[1:-1])


class EchoHandler(BaseHTTPRequestHandler):
    """Answers 200 with a page that repeats the request, as some broken gateways do."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        params = json.loads(body)
        # The bare values first, so that they fall inside the excerpt an error quotes.
        page = (
            f"ERR {params.get('cleAPI')} {params.get('user')} request was: "
            f"{urlencode(sorted(params.items()))} body={body.decode()} path={self.path}"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keeps the test output quiet
        pass


@pytest.fixture
def echo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _leaks(text: str | bytes) -> list[str]:
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    return [s for s in SECRETS if s.encode("utf-8") in data]


def test_nothing_the_echoing_server_sends_back_leaks(echo_url: str, tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("Id;Tel;Nom;G\n1;0612345671;Martin;A\n2;0612345672;Durand;B\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("identity: Id\nfields: {numero: Tel, nom: Nom}\ngroups: {column: G}\n", encoding="utf-8")
    state = tmp_path / "state.sqlite"
    env = {"SMS123_USER": USER, "SMS123_API_KEY": KEY, "SMS123_BASE_URL": echo_url}
    runner = CliRunner()

    balance = runner.invoke(cli, ["balance", "--retries", "1", "--timeout", "5"], env=env)
    assert balance.exit_code == 1, balance.output
    assert "neither a balance nor a code" in balance.output  # the page is quoted, cut short...
    assert "request was" in balance.output
    assert _leaks(balance.output) == []  # ...and redacted

    outputs = []
    for night in range(2):  # the second night settles the first night's open entries
        sync = runner.invoke(
            cli,
            [
                "sync",
                str(export),
                "-m",
                str(mapping),
                "--state",
                str(state),
                "--yes",
                "--retries",
                "1",
                "--report",
                str(tmp_path / f"x{night}.json"),
                "--report",
                str(tmp_path / f"x{night}.html"),
                "--log-file",
                str(tmp_path / "l.log"),
            ],
            env=env,
        )
        assert sync.exit_code == 1, sync.output
        assert "request was" in sync.output
        outputs.append(sync.output)

    runs = runner.invoke(cli, ["runs", "--state", str(state)])
    assert runs.exit_code == 0, runs.output
    assert "unfinished" not in runs.output  # an unreadable answer fails the operation, not the run
    shown = [runner.invoke(cli, ["runs", "--state", str(state), "show", str(n)]) for n in (1, 2)]
    assert all(s.exit_code == 0 for s in shown), [s.output for s in shown]

    files = [tmp_path / name for name in ("x0.json", "x0.html", "x1.json", "x1.html", "l.log")]
    files += [p for p in tmp_path.iterdir() if p.name.startswith("state.sqlite")]  # the file, -wal, -shm
    assert all(f.exists() for f in files[:5])
    assert "request was" in (tmp_path / "x0.json").read_text(encoding="utf-8")  # the text did get there
    for path in files:
        assert _leaks(path.read_bytes()) == [], path.name
    for text in [*outputs, runs.output, *(s.output for s in shown)]:
        assert _leaks(text) == []


@pytest.mark.parametrize(
    "echo",
    [
        f"cleAPI={KEY}&user={USER}",
        urlencode({"cleAPI": KEY, "user": USER}),
        json.dumps({"cleAPI": KEY, "user": USER}),
        json.dumps({"cleAPI": KEY, "user": USER}, ensure_ascii=True),
        f"<sms><user>{USER}</user><cleAPI>{KEY}</cleAPI></sms>",
    ],
    ids=["query", "form", "json", "json-ascii", "xml"],
)
def test_every_encoding_of_a_registered_secret_is_masked(echo: str) -> None:
    register(USER, KEY)
    clean = redact(f"ERR request was: {echo}")
    assert _leaks(clean) == [] and "\\u00e9" not in clean
    assert clean.startswith("ERR request was: ")


@pytest.mark.parametrize(
    "echo",
    ["cleAPI=unknown-key-1", '"pass": "unknown-key-1"', "<cleAPI>unknown-key-1</cleAPI>", "api_key: unknown-key-1"],
)
def test_a_labelled_credential_is_masked_even_when_unknown(echo: str) -> None:
    assert "unknown-key-1" not in redact(echo)


def test_errors_and_log_lines_are_redacted_whatever_their_path() -> None:
    register(KEY)
    error = RetryableError(f"group/add/: boom {KEY}")
    assert KEY not in str(error) and KEY not in repr(error.args)
    error.args = (f"changed later: {KEY}",)  # as the retry loop does
    assert KEY not in str(error)
    record = logging.LogRecord("sms123_sync", logging.INFO, __file__, 1, "failed: %s", (error,), None)
    RedactSecrets(()).filter(record)
    assert KEY not in record.getMessage()


def test_an_excerpt_is_short_single_line_and_redacted() -> None:
    register(KEY)
    quoted = excerpt(f"<html>\n<body>\x00{KEY}" + "x" * 500)
    assert len(quoted) < 70 and "\n" not in quoted and "\x00" not in quoted and KEY not in quoted
    assert quoted.endswith("…'")


def test_a_protocol_error_quotes_the_answer_redacted() -> None:
    from sms123_sync.api.codes import Endpoint
    from sms123_sync.api.wire import parse_answer

    register(KEY)
    with pytest.raises(ProtocolError) as caught:
        parse_answer(Endpoint.GROUP_ADD, f"ERR {KEY}")
    assert "ERR ***" in str(caught.value)


def test_the_sandbox_default_user_is_not_masked_in_messages(tmp_path: Path) -> None:
    from sms123_sync.api.connection import ConnectionSettings, connect
    from sms123_sync.errors import InputError

    with connect(ConnectionSettings(sandbox=True, sandbox_data=tmp_path / "sb.sqlite")):
        pass
    assert "no sandbox data" in str(InputError("no sandbox data here"))
