"""A local 123-SMS server on loopback: every endpoint, every code, injectable faults.

Tests run against it over real HTTP, and users try their mappings on it
(``--sandbox``) before touching their account. Its data lives in a SQLite file, so
successive runs see the same account; ``GET /_sandbox/state`` (or
:meth:`Sandbox.snapshot`) shows what the account holds now.

Where the API document is silent, the sandbox chooses, and says so here:

- Credentials: ``user`` + ``cleAPI`` or ``email`` + ``pass``; an empty user answers the
  endpoint's "empty user" code, a wrong pair its "bad credentials" code.
- Contacts are records per (group, number). Numbers are stored as sent, digits only.
- ``contact/add/`` naming several groups (``A--B``) is all or nothing: if the number is
  already in any of them the answer is 506 and nothing is added; if any group does not
  exist the answer is 517 (a code the document lists only for ``group/del/``).
- ``contact/upd/`` on a number not in the group answers 510; to a new number already in
  the group, 506; on an unknown group, 517. Fields absent from the request are kept,
  fields sent empty are cleared.
- ``group/upd/`` of a group that does not exist answers 517; to a taken name, 513.
- ``solde/`` with any parameter besides the credentials answers -1.
- ``send/``: numbers are national French (``06…``) or international digits (``336…``),
  written without spaces as the document asks (the rules: :mod:`.numbers`); overseas
  departments and territories need the account's DOM-TOM option (93). A message longer
  than one SMS without the long-SMS option answers -1. The balance counts SMS credits:
  each segment costs one (GSM 03.38 / UCS-2, :mod:`.message`), test sends cost nothing,
  a cancelled scheduled send is refunded. ``diff`` must be in the future. The 24-hour
  rule compares number and exact text.
- Answers are plain text unless the answer style is ``json`` (``{"code": "514"}``,
  ``{"solde": "12,5"}``) or ``xml`` (``<sms><code>514</code></sms>``). With references
  on, sends answer ``80 refaccuse=N``. Any other path below ``/api/`` answers -3 in
  the same style.

The sandbox reads the document on its own: its codes (:mod:`.codes`), number rules,
body reading and answers (:mod:`.wire`) and SMS measuring share no code with the
client, so that a client bug cannot hide behind the same bug here
(``tests/test_sandbox_independent.py`` checks the imports and the two tables).

Faults (:class:`Faults`) are drawn per request from a seeded generator: latency, a
rate of -2 answers, HTTP 500 and 429 (with ``Retry-After``), connections dropped
before the request is handled, and "applied, but the answer was lost" (handled, then
the connection is closed without an answer). A client that hangs up on its own is
normal too: the server carries on without a word.
"""

from __future__ import annotations

import ipaddress
import json
import random
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypedDict, cast

from sms123_sync.contact import FIELD_NAMES
from sms123_sync.errors import InputError
from sms123_sync.sandbox.codes import BAD_URL, Endpoint, code_of
from sms123_sync.sandbox.message import cost, ends_with_stop, sender_valid
from sms123_sync.sandbox.numbers import read_number
from sms123_sync.sandbox.wire import STYLES, UnreadableBodyError, balance_answer, code_answer, read_body

DEFAULT_USER = "sandbox"
DEFAULT_KEY = "sandbox-key"
_PATHS = {"/api/" + e.value: e for e in Endpoint}
# A client that hangs up mid-answer (a killed process, a timeout) is normal for a server.
_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


@dataclass(frozen=True, slots=True)
class Faults:
    """Failure rates (0..1) and latency the sandbox injects into its answers."""

    latency_ms: float = 0.0
    technical_rate: float = 0.0  # answer -2 without doing anything
    http500_rate: float = 0.0
    http429_rate: float = 0.0
    retry_after: float = 0.05  # seconds advertised with 429
    drop_rate: float = 0.0  # close the connection before handling
    lost_answer_rate: float = 0.0  # handle, then close without answering

    def any(self) -> bool:
        return any(v > 0 for k, v in asdict(self).items() if k not in ("latency_ms", "retry_after"))


@dataclass(frozen=True, slots=True)
class Account:
    """The simulated account's settings."""

    user: str = DEFAULT_USER
    api_key: str = DEFAULT_KEY
    long_sms: bool = False
    domtom: bool = True
    ip_allowed: bool = True
    blocked: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as the sandbox received it (for tests to assert on)."""

    path: str
    headers: dict[str, str]
    body: bytes


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS groups (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS contacts (
    groupe TEXT NOT NULL REFERENCES groups(name) ON UPDATE CASCADE,
    numero TEXT NOT NULL,
    nom TEXT NOT NULL DEFAULT '', prenom TEXT NOT NULL DEFAULT '', societe TEXT NOT NULL DEFAULT '',
    datea TEXT NOT NULL DEFAULT '', v1 TEXT NOT NULL DEFAULT '', v2 TEXT NOT NULL DEFAULT '',
    v3 TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (groupe, numero)
);
CREATE TABLE IF NOT EXISTS sends (
    id INTEGER PRIMARY KEY, numero TEXT NOT NULL, message TEXT NOT NULL, sent_at TEXT NOT NULL,
    diff TEXT, status TEXT NOT NULL, segments INTEGER NOT NULL, flash INTEGER, tts INTEGER, senderid TEXT
);
"""


class AccountSnapshot(TypedDict):
    """The whole simulated account, as ``sandbox show --json`` prints it."""

    balance: str
    groups: list[str]
    contacts: list[dict[str, str]]  # groupe, numero and the seven fields
    sends: list[dict[str, str | int | None]]  # every message accepted, with its schedule


class AccountStore:
    """The sandbox account's data in SQLite; every method is one transaction."""

    def __init__(self, path: Path | str, *, balance: Decimal | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        if balance is not None:
            self.set_balance(balance)
        elif self._meta("balance") is None:
            self.set_balance(Decimal(1000))

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def balance(self) -> Decimal:
        with self._lock:
            return Decimal(self._meta("balance") or "0")

    def set_balance(self, value: Decimal) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('balance', ?)", (str(value),))

    def snapshot(self) -> AccountSnapshot:
        """Everything the account holds: groups, contacts per group, sends, balance."""
        with self._lock:
            groups = [r[0] for r in self._db.execute("SELECT name FROM groups ORDER BY name")]
            cols = ("groupe", "numero", *FIELD_NAMES)
            contacts = [
                dict(zip(cols, r, strict=True))
                for r in self._db.execute(f"SELECT {', '.join(cols)} FROM contacts ORDER BY groupe, numero")
            ]
            send_cols = ("id", "numero", "message", "sent_at", "diff", "status", "segments")
            sends = [
                dict(zip(send_cols, r, strict=True))
                for r in self._db.execute(f"SELECT {', '.join(send_cols)} FROM sends ORDER BY id")
            ]
            return AccountSnapshot(balance=str(self.balance()), groups=groups, contacts=contacts, sends=sends)

    def memberships(self) -> dict[tuple[str, str], dict[str, str]]:
        """{(group, number): fields} — the shape tests compare with the sync state."""
        return {(c["groupe"], c["numero"]): {k: c[k] for k in FIELD_NAMES} for c in self.snapshot()["contacts"]}


def _parse_diff(diff: str) -> tuple[datetime, bool] | None:
    cancel = diff.endswith("s")
    core = diff[:-1] if cancel else diff
    if len(core) != 12 or not core.isdigit():
        return None
    try:
        return datetime.strptime(core, "%H%M%d%m%Y"), cancel
    except ValueError:
        return None


class Api:
    """The endpoints' semantics, over an :class:`AccountStore`; no HTTP here."""

    def __init__(self, store: AccountStore, account: Account, clock: Callable[[], datetime] = datetime.now) -> None:
        self.store = store
        self.account = account
        self.clock = clock
        self._refs = iter(range(int(time.time()) % 100000 * 10, 10**12))

    def authenticate(self, endpoint: Endpoint, params: dict[str, str]) -> str | None:
        """The code refusing these credentials, or None when they are good."""
        user = params.get("user", params.get("email", ""))
        key = params.get("cleAPI", params.get("pass", ""))
        if not user:
            return code_of(endpoint, "empty_user")
        if not key:
            return code_of(endpoint, "empty_key")
        if (user, key) != (self.account.user, self.account.api_key):
            return code_of(endpoint, "bad_credentials")
        if not self.account.ip_allowed and endpoint is Endpoint.SEND:
            return code_of(endpoint, "ip_refused")
        return None

    def handle(self, endpoint: Endpoint, params: dict[str, str]) -> tuple[str, str | None]:
        """(code, reference) for one request; the balance is answered as its code."""
        refused = self.authenticate(endpoint, params)
        if refused:
            return refused, None
        handler = getattr(self, "_" + endpoint.name.lower())
        result: tuple[str, str | None] = handler(endpoint, params)
        return result

    # -- balance and send ---------------------------------------------------------

    def _balance(self, endpoint: Endpoint, params: dict[str, str]) -> tuple[str, str | None]:
        if set(params) - {"user", "cleAPI", "email", "pass"}:
            return code_of(endpoint, "malformed"), None  # solde/ takes nothing but credentials
        value = self.store.balance()
        text = format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
        return text.replace(".", ","), None

    def _send(self, endpoint: Endpoint, p: dict[str, str]) -> tuple[str, str | None]:
        number, message, diff = p.get("numero", ""), p.get("message", ""), p.get("diff", "")
        if not number:
            return code_of(endpoint, "empty_number"), None
        if not message:
            return code_of(endpoint, "empty_message"), None
        recipient = read_number(number)
        if recipient is None:
            return code_of(endpoint, "bad_number"), None
        digits = recipient.digits
        if recipient.overseas and not self.account.domtom:
            return code_of(endpoint, "domtom_off"), None
        if digits in self.account.blocked:
            return code_of(endpoint, "blocked"), None
        sender = p.get("senderid", "")
        if sender and not sender_valid(sender):
            return code_of(endpoint, "bad_sender"), None
        if sender and not ends_with_stop(message):
            return code_of(endpoint, "sender_needs_stop"), None
        shape = cost(message)
        if shape.segments > 1 and not self.account.long_sms:
            return code_of(endpoint, "malformed"), None
        now = self.clock()
        when: datetime | None = None
        if diff:
            parsed_diff = _parse_diff(diff)
            if parsed_diff is None:
                return code_of(endpoint, "bad_diff"), None
            when, cancel = parsed_diff
            if cancel:
                return self._cancel(endpoint, digits, when), None
            if when <= now:
                return code_of(endpoint, "bad_diff"), None
        if p.get("test") == "o":
            return code_of(endpoint, "test_ok"), None
        with self.store.transaction() as db:
            since = (now - timedelta(hours=24)).isoformat()
            dup = db.execute(
                "SELECT 1 FROM sends WHERE numero = ? AND message = ? AND sent_at > ? AND status != 'cancelled'",
                (digits, message, since),
            ).fetchone()
            if dup:
                return code_of(endpoint, "duplicate_24h"), None
            balance = Decimal(db.execute("SELECT value FROM meta WHERE key='balance'").fetchone()[0])
            if balance < shape.segments:
                return code_of(endpoint, "no_credit"), None
            db.execute("UPDATE meta SET value = ? WHERE key = 'balance'", (str(balance - shape.segments),))
            status = "scheduled" if when else "sent"
            db.execute(
                "INSERT INTO sends (numero, message, sent_at, diff, status, segments, flash, tts, senderid)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    digits,
                    message,
                    now.isoformat(),
                    when.isoformat() if when else None,
                    status,
                    shape.segments,
                    p.get("flash") == "o",
                    p.get("TTS") == "o",
                    sender or None,
                ),
            )
        return code_of(endpoint, status), str(next(self._refs))

    def _cancel(self, endpoint: Endpoint, digits: str, when: datetime) -> str:
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT id, segments FROM sends WHERE numero = ? AND diff = ? AND status = 'scheduled'",
                (digits, when.isoformat()),
            ).fetchone()
            if row is None or when <= self.clock():
                return code_of(endpoint, "cancel_failed")
            db.execute("UPDATE sends SET status = 'cancelled' WHERE id = ?", (row[0],))
            balance = Decimal(db.execute("SELECT value FROM meta WHERE key='balance'").fetchone()[0])
            db.execute("UPDATE meta SET value = ? WHERE key = 'balance'", (str(balance + row[1]),))
        return code_of(endpoint, "cancelled")

    # -- groups -------------------------------------------------------------------

    def _group_add(self, endpoint: Endpoint, p: dict[str, str]) -> tuple[str, str | None]:
        name = p.get("groupe", "")
        if not name:
            return code_of(endpoint, "malformed"), None
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM groups WHERE name = ?", (name,)).fetchone():
                return code_of(endpoint, "group_exists"), None
            db.execute("INSERT INTO groups VALUES (?)", (name,))
        return code_of(endpoint, "group_done"), None

    def _group_upd(self, endpoint: Endpoint, p: dict[str, str]) -> tuple[str, str | None]:
        old, new = p.get("groupe", ""), p.get("groupe_upd", "")
        if not old or not new:
            return code_of(endpoint, "malformed"), None
        with self.store.transaction() as db:
            if not db.execute("SELECT 1 FROM groups WHERE name = ?", (old,)).fetchone():
                return code_of(endpoint, "no_group"), None
            if old != new and db.execute("SELECT 1 FROM groups WHERE name = ?", (new,)).fetchone():
                return code_of(endpoint, "group_exists"), None
            db.execute("UPDATE groups SET name = ? WHERE name = ?", (new, old))
        return code_of(endpoint, "group_done"), None

    def _group_del(self, endpoint: Endpoint, p: dict[str, str]) -> tuple[str, str | None]:
        name = p.get("groupe", "")
        if not name:
            return code_of(endpoint, "malformed"), None
        with self.store.transaction() as db:
            if not db.execute("SELECT 1 FROM groups WHERE name = ?", (name,)).fetchone():
                return code_of(endpoint, "no_group"), None
            if db.execute("SELECT 1 FROM contacts WHERE groupe = ? LIMIT 1", (name,)).fetchone():
                return code_of(endpoint, "group_has_contacts"), None
            db.execute("DELETE FROM groups WHERE name = ?", (name,))
        return code_of(endpoint, "group_deleted"), None

    # -- contacts -----------------------------------------------------------------

    def _contact_add(self, endpoint: Endpoint, p: dict[str, str]) -> tuple[str, str | None]:
        groups = [g for g in p.get("groupe", "").split("--") if g]
        number = p.get("numero", "")
        if not groups or not number:
            return code_of(endpoint, "malformed"), None
        values = [p.get(f, "") for f in FIELD_NAMES]
        with self.store.transaction() as db:
            for g in groups:
                if not db.execute("SELECT 1 FROM groups WHERE name = ?", (g,)).fetchone():
                    return code_of(endpoint, "no_group"), None
            for g in groups:
                if db.execute("SELECT 1 FROM contacts WHERE groupe = ? AND numero = ?", (g, number)).fetchone():
                    return code_of(endpoint, "contact_exists"), None
            db.executemany(
                f"INSERT INTO contacts (groupe, numero, {', '.join(FIELD_NAMES)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(g, number, *values) for g in groups],
            )
        return code_of(endpoint, "contact_done"), None

    def _contact_upd(self, endpoint: Endpoint, p: dict[str, str]) -> tuple[str, str | None]:
        group, old, new = p.get("groupe", ""), p.get("numeroa", ""), p.get("numero", "")
        if not group or not old or not new:
            return code_of(endpoint, "malformed"), None
        given = {f: p[f] for f in FIELD_NAMES if f in p}
        with self.store.transaction() as db:
            if not db.execute("SELECT 1 FROM groups WHERE name = ?", (group,)).fetchone():
                return code_of(endpoint, "no_group"), None
            if not db.execute("SELECT 1 FROM contacts WHERE groupe = ? AND numero = ?", (group, old)).fetchone():
                return code_of(endpoint, "not_in_group"), None
            if (
                new != old
                and db.execute("SELECT 1 FROM contacts WHERE groupe = ? AND numero = ?", (group, new)).fetchone()
            ):
                return code_of(endpoint, "contact_exists"), None
            sets = ", ".join(f"{f} = ?" for f in ("numero", *given))
            db.execute(
                f"UPDATE contacts SET {sets} WHERE groupe = ? AND numero = ?",
                (new, *given.values(), group, old),
            )
        return code_of(endpoint, "contact_done"), None

    def _contact_del(self, endpoint: Endpoint, p: dict[str, str]) -> tuple[str, str | None]:
        number, group = p.get("numero", ""), p.get("groupe")
        if not number:
            return code_of(endpoint, "malformed"), None
        with self.store.transaction() as db:
            if group:
                if not db.execute("SELECT 1 FROM groups WHERE name = ?", (group,)).fetchone():
                    return code_of(endpoint, "no_group"), None
                gone = db.execute("DELETE FROM contacts WHERE groupe = ? AND numero = ?", (group, number))
                return code_of(endpoint, "contact_deleted" if gone.rowcount else "not_in_group"), None
            gone = db.execute("DELETE FROM contacts WHERE numero = ?", (number,))
            return code_of(endpoint, "contact_deleted" if gone.rowcount else "no_contact"), None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silent: the sandbox must not print request lines (they may carry secrets)."""

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/_sandbox/state":
            self._write(200, json.dumps(self.server.sandbox.snapshot(), ensure_ascii=False), "application/json")
        else:
            self._write(404, "not found", "text/plain")

    def do_POST(self) -> None:
        sandbox = self.server.sandbox
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        endpoint = _PATHS.get(self.path)
        sandbox.record(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        faults, rng = sandbox.faults, sandbox.rng
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        if endpoint is None:
            if self.path.startswith("/api/"):
                self._write(200, *code_answer(sandbox.style, BAD_URL))
            else:
                self._write(404, "not found", "text/plain")
            return
        if faults.any():
            roll = rng()
            if roll < faults.drop_rate:
                self.close_connection = True
                return
            roll -= faults.drop_rate
            if roll < faults.http500_rate:
                self._write(500, "Internal Server Error", "text/plain")
                return
            roll -= faults.http500_rate
            if roll < faults.http429_rate:
                self._write(429, "Too Many Requests", "text/plain", {"Retry-After": str(faults.retry_after)})
                return
            roll -= faults.http429_rate
            if roll < faults.technical_rate:
                self._answer(endpoint, code_of(endpoint, "technical"), None)
                return
            roll -= faults.technical_rate
            lose = roll < faults.lost_answer_rate
        else:
            lose = False
        try:
            params = read_body(body, self.headers.get("Content-Type", ""))
        except UnreadableBodyError:
            self._answer(endpoint, code_of(endpoint, "malformed"), None)
            return
        code, ref = sandbox.api.handle(endpoint, params)
        sandbox.count(endpoint)
        if lose:
            self.close_connection = True
            return
        self._answer(endpoint, code, ref if sandbox.references else None)

    def _answer(self, endpoint: Endpoint, code: str, ref: str | None) -> None:
        style = self.server.sandbox.style
        if endpoint is Endpoint.BALANCE and code[:1].isdigit():
            text, ctype = balance_answer(style, code)
        else:
            text, ctype = code_answer(style, code, ref)
        self._write(200, text, ctype)

    def _write(self, status: int, text: str, ctype: str, extra: dict[str, str] | None = None) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    sandbox: Sandbox

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet when the client hung up; the standard traceback for anything else."""
        if isinstance(sys.exc_info()[1], _GONE):
            return
        super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


def is_loopback(host: str) -> bool:
    """True for 'localhost' and the loopback addresses (127.0.0.0/8, ::1).

    Other names are not resolved: a name that resolves to loopback today may not tomorrow.
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(host: str, insecure_listen: bool) -> None:
    """Refuses a non-loopback address unless the caller says it knows the risk.

    The sandbox accepts a well-known default key and shows its whole account, numbers
    included, on an unauthenticated ``GET /_sandbox/state``.
    """
    if not insecure_listen and not is_loopback(host):
        raise InputError(
            f"--host {host}: the sandbox only listens on loopback (127.0.0.1, ::1, localhost): it has a"
            " well-known key and an unauthenticated state page; pass --insecure-listen to expose it anyway"
        )


class Sandbox:
    """A running sandbox server; use as a context manager or call start()/stop().

    ``faults``, ``style`` and ``references`` may be changed while it runs.
    """

    def __init__(
        self,
        data: Path | str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account: Account | None = None,
        faults: Faults | None = None,
        style: str = "plain",
        references: bool = False,
        seed: int | None = None,
        balance: Decimal | None = None,
        record_requests: bool = False,
        clock: Callable[[], datetime] = datetime.now,
        insecure_listen: bool = False,
    ) -> None:
        if style not in STYLES:
            raise ValueError(f"answer style must be plain, json or xml, not {style!r}")
        check_listen(host, insecure_listen)
        self.store = AccountStore(data, balance=balance)
        self.api = Api(self.store, account or Account(), clock)
        self.faults = faults or Faults()
        self.style = style
        self.references = references
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._record = record_requests
        self.requests: list[Recorded] = []
        # Keyed by the sandbox's endpoints, which equal (and hash as) their paths, so a
        # caller may look them up with any str enum of the same paths, the client's included.
        self.calls: dict[Any, int] = dict.fromkeys(Endpoint, 0)
        self._count_lock = threading.Lock()
        bare = host.strip("[]")
        try:
            self._server = (_Server6 if ":" in bare else _Server)((bare, port), _Handler)
        except OSError as exc:  # port taken, address not on this machine: the user's to fix
            self.store.close()
            raise InputError(f"the sandbox cannot listen on {host} port {port} ({exc.strerror or exc})") from None
        self._server.sandbox = self
        self._thread: threading.Thread | None = None

    @property
    def account(self) -> Account:
        return self.api.account

    @account.setter
    def account(self, value: Account) -> None:
        self.api.account = value

    def set_account(self, **changes: str | bool | frozenset[str]) -> None:
        """Changes some of the simulated account's settings (``domtom=False``, ...)."""
        self.api.account = replace(self.api.account, **cast(dict[str, Any], changes))

    @property
    def url(self) -> str:
        host, port = (str(part) for part in self._server.server_address[:2])
        return f"http://[{host}]:{port}/api/" if ":" in host else f"http://{host}:{port}/api/"

    def rng(self) -> float:
        with self._rng_lock:
            return self._rng.random()

    def record(self, request: Recorded) -> None:
        if self._record:
            self.requests.append(request)

    def count(self, endpoint: Endpoint) -> None:
        """Counts requests that reached the account (faults before handling excluded)."""
        with self._count_lock:
            self.calls[endpoint] += 1

    def total_calls(self) -> int:
        return sum(self.calls.values())

    def snapshot(self) -> AccountSnapshot:
        """What the account holds now (also served at ``GET /_sandbox/state``)."""
        return self.store.snapshot()

    def start(self) -> Sandbox:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="sms123-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self.store.close()

    def serve_forever(self) -> None:
        """Blocks serving requests (the ``sandbox serve`` command)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
            self.store.close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
