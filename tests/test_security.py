"""Files that name people are private; keys stay out of `ps`; the sandbox stays on loopback."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sms123_sync.cli import cli
from sms123_sync.errors import InputError
from sms123_sync.sandbox.server import DEFAULT_KEY, DEFAULT_USER, Sandbox, is_loopback

MAPPING = "identity: Id\nfields: {numero: Tel, nom: Nom}\ngroups: {column: G}\n"


def _invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert "Traceback" not in result.output, result.output
    return result


def _mode(path: str | Path) -> int:
    return stat.S_IMODE(Path(path).stat().st_mode)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder with an export (one reject) and the usual umask, which would give 0644."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "e.csv").write_text("Id;Tel;Nom;G\n1;0612345671;Martin;A\n2;0612;Petit;A\n", encoding="utf-8")
    previous = os.umask(0o022)
    yield tmp_path
    os.umask(previous)


def test_reports_rejects_exports_and_logs_are_created_0600(work: Path) -> None:
    Path("old.json").write_text("{}", encoding="utf-8")
    Path("old.json").chmod(0o644)  # an earlier night's report is narrowed when rewritten
    result = _invoke(
        "sync", "e.csv", "-m", "m.yaml", "--sandbox", "--yes", "--log-file", "logs/run.log",
        "--report", "out/r.json", "--report", "out/r.csv", "--report", "out/r.xlsx", "--report", "out/r.html",
        "--report", "old.json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _invoke("validate", "e.csv", "-m", "m.yaml", "--rejects", "rej.csv").exit_code == 0
    assert _invoke("state", "export", "members.csv").exit_code == 0
    assert "Martin" in Path("members.csv").read_text(encoding="utf-8-sig")
    files = [
        "logs/run.log", "out/r.json", "out/r.csv", "out/r-rejects.csv", "out/r.xlsx", "out/r.html", "old.json",
        "rej.csv", "members.csv",
    ]  # fmt: skip
    assert {name: _mode(name) for name in files} == dict.fromkeys(files, 0o600)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "key.txt"
    path.write_text(DEFAULT_KEY + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def _balance(sandbox: Sandbox, *extra: str) -> Result:
    return _invoke("balance", "--base-url", sandbox.url, "--user", DEFAULT_USER, *extra, env={"SMS123_API_KEY": ""})


def test_api_key_file_is_read_and_its_newline_stripped(sandbox: Sandbox, key_file: Path) -> None:
    result = _balance(sandbox, "--api-key-file", str(key_file))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("balance: ") and "warning" not in result.stderr


def test_api_key_file_readable_by_others_warns(sandbox: Sandbox, key_file: Path) -> None:
    key_file.chmod(0o644)
    result = _balance(sandbox, "--api-key-file", str(key_file))
    assert result.exit_code == 0, result.output
    assert f"warning: --api-key-file {key_file} can be read by other users (mode 0644)" in result.stderr
    assert DEFAULT_KEY not in result.output


def test_a_wrong_key_in_the_file_is_refused_by_the_server(sandbox: Sandbox, key_file: Path) -> None:
    key_file.write_text("not-the-key\n", encoding="utf-8")
    result = _balance(sandbox, "--api-key-file", str(key_file))
    assert result.exit_code == 4, result.output
    assert sandbox.total_calls() == 1 and "not-the-key" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "must hold the API key alone"), ("\n", "must hold the API key alone"), ("a\nb\n", "on one line")],
)
def test_an_unusable_key_file_is_an_input_error(sandbox: Sandbox, key_file: Path, content: str, message: str) -> None:
    key_file.write_text(content, encoding="utf-8")
    result = _balance(sandbox, "--api-key-file", str(key_file))
    assert result.exit_code == 2 and message in result.output, result.output
    assert sandbox.total_calls() == 0


def test_a_missing_key_file_and_two_keys_are_refused(sandbox: Sandbox, key_file: Path) -> None:
    missing = _balance(sandbox, "--api-key-file", str(key_file.with_name("nope.txt")))
    assert missing.exit_code == 2 and "cannot read it (No such file or directory)" in missing.output
    both = _balance(sandbox, "--api-key", DEFAULT_KEY, "--api-key-file", str(key_file))
    assert both.exit_code == 2 and "not both" in both.output
    assert sandbox.total_calls() == 0


def test_help_says_the_api_key_option_shows_in_ps() -> None:
    result = _invoke("balance", "--help")
    assert result.exit_code == 0
    assert "`ps`" in result.output and "--api-key-file" in result.output


# Only refusals are tested: no test binds or sends to anything but loopback.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - the address under test, never bound


@pytest.mark.parametrize("host", [ALL_INTERFACES, "::", "192.0.2.10", "sandbox.example"])
def test_sandbox_serve_refuses_a_non_loopback_host(tmp_path: Path, host: str) -> None:
    """Refused before anything is opened or bound (the data file is not even created)."""
    data = tmp_path / "sb.sqlite"
    result = _invoke("sandbox", "serve", "--host", host, "--port", "0", "--data", str(data))
    assert result.exit_code == 2, result.output
    assert "--insecure-listen" in result.output and not data.exists()
    with pytest.raises(InputError, match="only listens on loopback"):
        Sandbox(data, host=host)
    assert not data.exists()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        (ALL_INTERFACES, False),
        ("::", False),
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("localhost.example", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 on this machine")
def test_sandbox_listens_on_ipv6_loopback(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "sb.sqlite", host="::1") as server:
        assert server.url.startswith("http://[::1]:")
        result = _invoke("balance", "--base-url", server.url, "--user", DEFAULT_USER, "--api-key", DEFAULT_KEY)
    assert result.exit_code == 0, result.output


def test_sandbox_serve_on_a_taken_port_is_an_input_error(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "a.sqlite") as taken:
        port = taken.url.rsplit(":", 1)[1].split("/")[0]
        result = _invoke("sandbox", "serve", "--port", port, "--data", str(tmp_path / "b.sqlite"))
    assert result.exit_code == 2, result.output
    assert f"cannot listen on 127.0.0.1 port {port}" in result.output
