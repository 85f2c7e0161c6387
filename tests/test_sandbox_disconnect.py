"""A client that goes away mid-request is normal for the sandbox: no traceback, no harm.

The crash tests kill client processes on purpose; the sandbox used to print
"Exception occurred during processing of request" with a BrokenPipeError for each.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from pathlib import Path

import httpx
import pytest

from sms123_sync.sandbox.server import DEFAULT_KEY, DEFAULT_USER, Faults, Sandbox


def _hang_up_before_the_answer(sandbox: Sandbox, group: str) -> None:
    """Sends a whole request, then resets the connection while the sandbox is still busy."""
    body = json.dumps({"user": DEFAULT_USER, "cleAPI": DEFAULT_KEY, "groupe": group}).encode()
    url = httpx.URL(sandbox.url)
    with socket.create_connection((url.host, url.port or 80), timeout=5) as conn:
        conn.sendall(
            b"POST /api/group/add/ HTTP/1.1\r\nHost: sandbox\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        # Linger on, timeout 0: close() sends a reset instead of a polite FIN.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _wait_for_calls(sandbox: Sandbox, count: int) -> None:
    deadline = time.monotonic() + 5
    while sandbox.total_calls() < count:
        assert time.monotonic() < deadline, "the sandbox never handled the request"
        time.sleep(0.01)


def test_a_client_that_hangs_up_leaves_no_traceback(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    with Sandbox(tmp_path / "s.sqlite", faults=Faults(latency_ms=150)) as sandbox:
        for i in range(3):
            _hang_up_before_the_answer(sandbox, f"G{i}")
        _wait_for_calls(sandbox, 3)
        time.sleep(0.3)  # the answers are written (and fail) just after the count
        sandbox.faults = Faults()
        answer = httpx.post(
            sandbox.url + "group/add/",
            json={"user": DEFAULT_USER, "cleAPI": DEFAULT_KEY, "groupe": "after"},
            timeout=5,
        )
        groups = sandbox.snapshot()["groups"]
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err, err
    assert (answer.status_code, answer.text) == (200, "514")  # still serving
    assert groups == ["G0", "G1", "G2", "after"]  # the requests were applied, only their answers lost
