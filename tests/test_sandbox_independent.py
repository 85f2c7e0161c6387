"""The sandbox stands on its own: no client code inside it, and its codes match the document.

Every other test uses the sandbox as "the real API". If it borrowed the client's code
table, number reading or wire format, a bug there would be on both sides and no test
could see it. These tests keep the two apart, then check that they agree with each
other and with the API document (``shared/seeds/`` beside the clone).
"""

from __future__ import annotations

import ast
import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sms123_sync.api.codes import TABLES, CodeInfo
from sms123_sync.api.codes import Endpoint as ClientEndpoint
from sms123_sync.sandbox.codes import CODES, Code, Endpoint

ROOT = Path(__file__).resolve().parents[1]
SANDBOX = ROOT / "sms123_sync" / "sandbox"
SEED = ROOT.parent / "shared" / "seeds" / "000_e6f9248626dde999.txt"

#: What the sandbox may import from the package: pure data and the error hierarchy.
ALLOWED = ("sms123_sync.contact", "sms123_sync.endpoints", "sms123_sync.errors", "sms123_sync.sandbox")
#: Modules importing the sandbox loads anyway: the package itself, its version, and the
#: redaction the error hierarchy applies to every message (pure text, no API knowledge).
PACKAGE_ROOT = ("sms123_sync", "sms123_sync._version", "sms123_sync.redact")

#: Codes the client classifies that the sandbox never answers, and why that is right.
CLIENT_ONLY = {
    ("contact/upd/", "508"): "the live API may say 'no such contact' on upd; the sandbox answers 510 (its choice)",
}


def _allowed(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in ALLOWED)


def forbidden_imports(source: str, package: str) -> list[str]:
    """The ``sms123_sync`` modules ``source`` imports outside :data:`ALLOWED`.

    ``package`` is the dotted package the source lives in, to resolve relative imports.
    Every import counts, wherever it is (function bodies, ``TYPE_CHECKING`` blocks).
    """
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            # ``from sms123_sync import api`` imports the submodule ``sms123_sync.api``.
            targets = [f"{base}.{alias.name}" for alias in node.names] if base == "sms123_sync" else [base]
        else:
            continue
        found += [t for t in targets if t.split(".")[0] == "sms123_sync" and not _allowed(t)]
    return found


def test_sandbox_imports_nothing_from_the_client() -> None:
    files = sorted(SANDBOX.rglob("*.py"))
    assert len(files) >= 5  # server, codes, numbers, wire, message at least: the walk found them
    problems = {
        str(path.relative_to(ROOT)): bad
        for path in files
        if (bad := forbidden_imports(path.read_text(encoding="utf-8"), "sms123_sync.sandbox"))
    }
    assert problems == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from sms123_sync.api.codes import code_of", ["sms123_sync.api.codes"]),
        ("import sms123_sync.mapping.normalize as n", ["sms123_sync.mapping.normalize"]),
        ("from sms123_sync import api, errors", ["sms123_sync.api"]),
        ("from ..api import wire", ["sms123_sync.api"]),
        ("from .. import mapping", ["sms123_sync.mapping"]),
        ("def f():\n    from sms123_sync.api.message import measure\n", ["sms123_sync.api.message"]),
        ("from sms123_sync.contact import FIELD_NAMES\nfrom .codes import Endpoint\nimport json", []),
        ("from sms123_sync.errors import InputError\nfrom sms123_sync.sandbox.wire import read_body", []),
    ],
)
def test_the_import_check_catches_every_spelling(source: str, expected: list[str]) -> None:
    assert forbidden_imports(source, "sms123_sync.sandbox") == expected


def test_importing_the_sandbox_loads_no_client_module() -> None:
    """The static check's backstop: what a fresh interpreter actually loads."""
    script = (
        "import sys, sms123_sync.sandbox.server\n"
        "print('\\n'.join(m for m in sys.modules if m.split('.')[0] == 'sms123_sync'))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    loaded = set(done.stdout.split())
    assert "sms123_sync.sandbox.server" in loaded
    assert {m for m in loaded if m not in PACKAGE_ROOT and not _allowed(m)} == set()


# -- the two code tables --------------------------------------------------------------


def _client_table(endpoint: Endpoint) -> dict[str, CodeInfo]:
    return TABLES[ClientEndpoint(endpoint.value)]


def test_both_sides_know_the_same_endpoints() -> None:
    assert {e.value for e in Endpoint} == {e.value for e in ClientEndpoint}


@pytest.mark.parametrize("endpoint", list(Endpoint), ids=lambda e: e.value)
def test_client_and_sandbox_tables_agree(endpoint: Endpoint) -> None:
    """Same codes, same meaning, same documented flag and the same French text."""
    client, sandbox = _client_table(endpoint), CODES[endpoint]
    disagreements = []
    for code in sorted(set(client) | set(sandbox)):
        ours, theirs = client.get(code), sandbox.get(code)
        if theirs is None:
            assert ours is not None
            if (endpoint.value, code) not in CLIENT_ONLY or ours.documented:
                disagreements.append(f"{code}: only the client has it ({ours.key})")
            continue
        if ours is None:
            disagreements.append(f"{code}: the sandbox answers it, the client cannot classify it")
            continue
        if (ours.key, ours.documented) != (theirs.key, theirs.documented):
            disagreements.append(
                f"{code}: client {ours.key} documented={ours.documented},"
                f" sandbox {theirs.key} documented={theirs.documented}"
            )
        elif ours.documented and _squash(ours.fr) != _squash(theirs.text):
            disagreements.append(f"{code}: client says {ours.fr!r}, sandbox {theirs.text!r}")
    assert disagreements == []


def test_client_only_codes_are_still_in_the_client() -> None:
    """An entry of CLIENT_ONLY that no longer applies must go, not linger as an excuse."""
    for (path, code), _why in CLIENT_ONLY.items():
        endpoint = Endpoint(path)
        assert code in _client_table(endpoint) and code not in CODES[endpoint]


# -- both tables against the document -------------------------------------------------

_URL_ROW = re.compile(r"^\|\s*URL\s*\|.*?/api/([a-z/]+/)")
_CODE_CELL = re.compile(r"^(?:-?\d+|E\d+)$")
_MEANING = ("Erreur", "Succès", "Info")


def _squash(text: str) -> str:
    return " ".join(text.split())


def seed_codes(text: str) -> dict[str, dict[str, str]]:
    """{path: {code: French text}} from the document's "Codes retour" tables."""
    found: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        url = _URL_ROW.match(line)
        if url:
            current = found.setdefault(url.group(1), {})
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        for here, after in itertools.pairwise(cells):
            if current is not None and _CODE_CELL.match(here) and after.startswith(_MEANING):
                current[here] = _squash(after)
                break
    return found


@pytest.fixture(scope="module")
def seed() -> dict[str, dict[str, str]]:
    if not SEED.is_file():
        pytest.skip(f"the API document is not at {SEED} (CI keeps shared/ beside the clone)")
    return seed_codes(SEED.read_text(encoding="utf-8"))


def test_the_seed_reader_finds_every_endpoint(seed: dict[str, dict[str, str]]) -> None:
    assert set(seed) == {e.value for e in Endpoint}
    # Spot checks from the document, so a reader that lost rows cannot pass.
    assert seed["send/"]["102"].startswith("Erreur : le changement de SENDER ID")
    assert seed["solde/"]["E505"] == "Erreur : user et/ou cleAPI non valides"
    assert seed["group/del/"]["516"] == "Succès : le groupe est supprimé"
    assert len(seed["send/"]) == 21 and len(seed["contact/upd/"]) == 6


def _documented(table: dict[str, CodeInfo] | dict[str, Code]) -> set[str]:
    return {code for code, entry in table.items() if entry.documented}


@pytest.mark.parametrize("endpoint", list(Endpoint), ids=lambda e: e.value)
def test_both_tables_hold_exactly_the_documented_codes(endpoint: Endpoint, seed: dict[str, dict[str, str]]) -> None:
    listed = seed[endpoint.value]
    assert _documented(_client_table(endpoint)) == set(listed)
    assert _documented(CODES[endpoint]) == set(listed)


@pytest.mark.parametrize("endpoint", list(Endpoint), ids=lambda e: e.value)
def test_both_tables_quote_the_document(endpoint: Endpoint, seed: dict[str, dict[str, str]]) -> None:
    listed = seed[endpoint.value]
    client, sandbox = _client_table(endpoint), CODES[endpoint]
    assert {c: _squash(client[c].fr) for c in listed} == listed
    assert {c: _squash(sandbox[c].text) for c in listed} == listed
