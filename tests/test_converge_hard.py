"""The convergence property on the hard cases: whatever the nights, the faults and the
crash, the account ends as the export says, field by field.

Beside tests/test_sync.py's property, the generator here reaches what that one never
does: groups renamed with part of their members (around the rename threshold), a crash
on the first or second call of every kind of operation (renames and number changes
included), numbers in every French spelling and overseas region with the same number
spelled differently by two people, several fields, every fault kind of the sandbox at
concurrency 1 and 4, ``account: exclusive`` and ``mode: upsert``, and rejected rows.
The account's fields are compared with the export's, not with the state.

CI replays a fixed, derandomized set (tests/conftest.py); ``HYPOTHESIS_EXPLORE=1`` draws
fresh examples and ``CONVERGE_EXAMPLES=N`` asks for more.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from sms123_sync.api.client import Client, Result
from sms123_sync.api.codes import Endpoint
from sms123_sync.api.connection import ConnectionSettings
from sms123_sync.contact import FIELD_NAMES
from sms123_sync.reconcile.apply import ApplyOptions
from sms123_sync.reconcile.plan import OpKind, Plan, PlanOptions
from sms123_sync.reconcile.state import StateStore
from sms123_sync.reconcile.sync import SyncReport, make_plan, run_sync
from sms123_sync.sandbox.server import Faults, Sandbox
from tests.helpers import CREDS, FAST_RETRY

SYNCED = ("nom", "prenom", "v1")  # the fields the mapping fills; the others stay empty

# Canonical digits → (country code, national significant number): metropolitan mobiles
# and one mobile of each overseas region the API reaches.
NUMBERS = {
    "33612345671": ("33", "612345671"),
    "33698765432": ("33", "698765432"),
    "262692123456": ("262", "692123456"),  # La Réunion
    "262639012345": ("262", "639012345"),  # Mayotte
    "590690123456": ("590", "690123456"),  # Guadeloupe
    "596696123456": ("596", "696123456"),  # Martinique
    "594694201234": ("594", "694201234"),  # French Guiana
}


def spell(digits: str, how: int) -> str:
    """One of the ways a CRM writes ``digits``: all are the same number to the tool."""
    cc, nsn = NUMBERS[digits]
    national = "0" + nsn
    spellings = [
        national,
        f"{national[:2]} {national[2:4]} {national[4:6]} {national[6:8]} {national[8:]}",
        f"+{cc} {nsn}",
        f"00{cc}{nsn}",
        f"{cc}{nsn}",  # the "+" lost
        nsn,  # the leading zero lost (a column typed as a number)
        f"{national[:2]}.{national[2:4]}.{national[4:6]}.{national[6:8]}.{national[8:]}",
    ]
    if cc == "33":
        spellings.append(f"+33 (0){nsn}")
    return spellings[how % len(spellings)]


# A row the mapping rejects: a landline, a number too short, an overseas mobile written
# with the metropolitan country code (the tool never moves a number across countries).
REJECTS = ["0142000009", "06 12", "+33 6 92 12 34 56"]

Person = tuple[str, str, int, str, str, str, str]  # key, digits, spelling, nom, prenom, v1, groups

person = st.tuples(
    st.sampled_from("12345"),
    st.sampled_from(sorted(NUMBERS)),
    st.integers(0, 7),
    st.sampled_from(["Martin", "Durand"]),
    st.sampled_from(["", "Léa", "Jean-Luc"]),
    st.sampled_from(["", "Paris", "Saint-Denis"]),
    st.sampled_from(["A", "B", "A,B", "B,C", "C"]),
)


@dataclass(frozen=True)
class Night:
    """One night's export: the people, the name group B goes by, a rejected row."""

    people: list[Person]
    b_name: str = "B"
    reject: int | None = None


EDITS = ["number", "spelling", "fields", "groups", "drop", "add"]


@st.composite
def nights_strategy(draw: st.DrawFn) -> list[Night]:
    """Two or three nights, each the one before with a few edits: a number changed or
    spelled anew, fields or groups changed, people gone or new, group B renamed (its
    overlap with the old B is whatever the edits left, on either side of the threshold)."""
    people = draw(st.lists(person, min_size=2, max_size=5, unique_by=lambda p: p[0]))
    b_name = "B"
    nights = []
    for i in range(draw(st.integers(2, 3))):
        if i:
            for kind, who, other in draw(
                st.lists(st.tuples(st.sampled_from(EDITS), st.integers(0, 4), person), max_size=3)
            ):
                at = who % len(people) if people else None
                if kind == "add" or at is None:
                    people = [p for p in people if p[0] != other[0]] + [other]
                elif kind == "drop":
                    del people[at]
                else:
                    key, digits, how, nom, prenom, v1, groups = people[at]
                    if kind == "number":
                        digits = other[1]
                    elif kind == "spelling":
                        how = other[2]
                    elif kind == "fields":
                        nom, prenom, v1 = other[3:6]
                    else:
                        groups = other[6]
                    people[at] = (key, digits, how, nom, prenom, v1, groups)
            if draw(st.booleans()):
                b_name = "B2" if b_name == "B" else "B"
        reject = draw(st.one_of(st.none(), st.integers(0, len(REJECTS) - 1)))
        nights.append(Night(list(people), b_name, reject))
    return nights


# The endpoint each kind of operation calls first: where the crash can fall.
ENDPOINT_OF = {
    OpKind.GROUP_ADD: Endpoint.GROUP_ADD,
    OpKind.GROUP_RENAME: Endpoint.GROUP_UPD,
    OpKind.CONTACT_ADD: Endpoint.CONTACT_ADD,
    OpKind.CONTACT_UPD: Endpoint.CONTACT_UPD,
    OpKind.CONTACT_DEL: Endpoint.CONTACT_DEL,
    OpKind.GROUP_DEL: Endpoint.GROUP_DEL,
}
FAULTS = ["none", "technical", "http500", "http429", "drop", "lost", "all"]


def faults_of(kind: str) -> Faults:
    """The sandbox's faults by name; "all" mixes every kind."""
    rate = 0.25
    if kind == "all":
        return Faults(
            technical_rate=0.06,
            http500_rate=0.06,
            http429_rate=0.06,
            drop_rate=0.06,
            lost_answer_rate=0.06,
            retry_after=0.01,
        )
    names = {
        "technical": "technical_rate",
        "http500": "http500_rate",
        "http429": "http429_rate",
        "drop": "drop_rate",
        "lost": "lost_answer_rate",
    }
    return Faults(**{names[kind]: rate}, retry_after=0.01) if kind in names else Faults()


class _Crash(BaseException):
    """Stands for kill -9: the answer arrived, nothing after it is recorded."""


class CrashingClient(Client):
    """Dies on the ``nth`` call to ``endpoint``, once the server has answered it; every
    call after that (on any thread) dies before it is sent, as in a killed process."""

    def __init__(self, *args: Any, endpoint: Endpoint, nth: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.endpoint, self.left = endpoint, nth
        self.dead = threading.Event()
        self._count = threading.Lock()

    def call(self, endpoint: Endpoint, params: Any) -> Result:
        if self.dead.is_set():
            raise _Crash
        result = super().call(endpoint, params)
        with self._count:
            if endpoint is self.endpoint:
                self.left -= 1
                if self.left == 0:
                    self.dead.set()
        if self.dead.is_set():
            raise _Crash
        return result


class HardEnv:
    """A sandbox account, a state file and nightly exports through a mapping."""

    def __init__(self, tmp: Path, sandbox: Sandbox, mode: str, account: str) -> None:
        self.tmp, self.sandbox, self.n = tmp, sandbox, 0
        self.state = tmp / "state.sqlite"
        self.mapping = tmp / "m.yaml"
        self.mapping.write_text(
            "identity: Id\nfields: {numero: Tel, nom: Nom, prenom: Prenom, v1: Ville}\n"
            f"groups: {{column: G, separator: ','}}\nmode: {mode}\naccount: {account}\n",
            encoding="utf-8",
        )

    def export(self, night: Night) -> Path:
        self.n += 1
        path = self.tmp / f"export{self.n}.csv"
        lines = ["Id;Tel;Nom;Prenom;Ville;G"]
        for key, digits, how, nom, prenom, v1, groups in night.people:
            lines.append(";".join((key, spell(digits, how), nom, prenom, v1, _groups(groups, night))))
        if night.reject is not None and night.people:  # alone, it is an unusable export (exit 2)
            lines.append(f"9;{REJECTS[night.reject]};Rejet;;;A")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def sync(self, export: Path, client: Client | None = None, **kw: Any) -> SyncReport:
        connection = ConnectionSettings(
            user="sandbox", api_key="sandbox-key", base_url=self.sandbox.url, retry=FAST_RETRY
        )
        return run_sync(export, self.mapping, self.state, connection, client=client, **kw)

    def plan(self, export: Path) -> Plan:
        """What a sync of ``export`` would do now (no network, the state untouched)."""
        return make_plan(export, self.mapping, self.state, PlanOptions(max_delete=None, allow_empty=True))[1]

    def remote(self) -> dict[tuple[str, str], dict[str, str]]:
        return {k: {f: v[f] for f in FIELD_NAMES} for k, v in self.sandbox.store.memberships().items()}

    def state_records(self) -> dict[tuple[str, str], dict[str, str]]:
        with StateStore(self.state) as store:
            frame = store.load().memberships
        return {(r["grp"], r["numero"]): {f: r[f] for f in FIELD_NAMES} for r in frame.to_dict("records")}

    def calls(self) -> int:
        return sum(self.sandbox.calls.values())

    def reset_calls(self) -> None:
        for endpoint in self.sandbox.calls:
            self.sandbox.calls[endpoint] = 0


def crash_point(plan: Plan, pick: int, nth: int) -> tuple[Endpoint, int] | None:
    """The ``nth`` call (at most as many as planned) of one of the endpoints ``plan``
    calls, chosen by ``pick``; None when the plan is empty."""
    planned = sorted({ENDPOINT_OF[op.kind] for op in plan.operations}, key=list(Endpoint).index)
    if not planned:
        return None
    endpoint = planned[pick % len(planned)]
    calls = sum(1 for op in plan.operations if ENDPOINT_OF[op.kind] is endpoint)
    return endpoint, min(nth, calls)


def _groups(groups: str, night: Night) -> str:
    return groups.replace("B", night.b_name)


def expected(night: Night) -> dict[tuple[str, str], dict[str, str]]:
    """The (group, number) records of the export with their fields: where people share a
    number in a group, the lowest identity's (docs/design.md, "Shared numbers")."""
    records: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
    for key, digits, _, nom, prenom, v1, groups in night.people:
        fields = dict.fromkeys(FIELD_NAMES, "") | {"nom": nom, "prenom": prenom, "v1": v1}
        for group in _groups(groups, night).split(","):
            held = records.get((group, digits))
            if held is None or key < held[0]:
                records[(group, digits)] = (key, fields)
    return {record: fields for record, (_, fields) in records.items()}


def one_per_identity(night: Night) -> Night:
    return Night(list({p[0]: p for p in night.people}.values()), night.b_name, night.reject)


@settings(
    max_examples=int(os.environ.get("CONVERGE_EXAMPLES", "10")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    nights=nights_strategy(),
    faults=st.sampled_from(FAULTS),
    crash=st.sampled_from([True, True, False]),
    pick=st.integers(0, 5),
    nth=st.integers(1, 2),
    concurrency=st.sampled_from([1, 4]),
    mode=st.sampled_from(["mirror", "mirror", "upsert"]),
    account=st.sampled_from(["shared", "exclusive"]),
)
# Group B renamed while one of its two members leaves it: overlap at the threshold, and
# the crash falls on the rename itself.
@example(
    nights=[
        Night(
            [("1", "33612345671", 0, "Martin", "", "", "B"), ("2", "262692123456", 3, "Durand", "", "", "B")],
        ),
        Night(
            [("1", "33612345671", 4, "Martin", "Léa", "", "B"), ("2", "262692123456", 5, "Durand", "", "", "A")],
            "B2",
            0,
        ),
    ],
    faults="lost",
    crash=True,
    pick=0,  # the rename: the first endpoint the plan calls
    nth=1,
    concurrency=4,
    mode="mirror",
    account="exclusive",
)
# A number change crashed on, with two people spelling one shared overseas number apart.
@example(
    nights=[
        Night(
            [("1", "594694201234", 0, "Martin", "", "", "A,B"), ("2", "594694201234", 2, "Durand", "", "Paris", "A")],
            "B",
            2,
        ),
        Night(
            [("1", "590690123456", 6, "Martin", "", "", "A,B"), ("2", "594694201234", 5, "Durand", "Léa", "", "A")],
        ),
    ],
    faults="all",
    crash=True,
    pick=0,  # the number change: the only endpoint the plan calls
    nth=1,
    concurrency=4,
    mode="mirror",
    account="shared",
)
def test_hard_nights_converge(
    tmp_path_factory: Any,
    nights: list[Night],
    faults: str,
    crash: bool,
    pick: int,
    nth: int,
    concurrency: int,
    mode: str,
    account: str,
) -> None:
    tmp = tmp_path_factory.mktemp("hard")
    with Sandbox(tmp / "sb.sqlite", seed=nth) as sandbox:
        env = HardEnv(tmp, sandbox, mode, account)
        released = PlanOptions(max_delete=None, allow_empty=True)
        apply = ApplyOptions(concurrency=concurrency)
        for night in map(one_per_identity, nights):
            before = env.remote()
            export = env.export(night)
            sandbox.faults = faults_of(faults)
            plan = env.plan(export)
            _events(plan)
            point = crash_point(plan, pick, nth) if crash else None
            if point is not None:
                endpoint, at = point
                crasher = CrashingClient(CREDS, base_url=sandbox.url, retry=FAST_RETRY, endpoint=endpoint, nth=at)
                try:
                    env.sync(export, client=crasher, plan_options=released, apply_options=apply)
                except _Crash:
                    pass
                finally:
                    event(f"crashed on {endpoint.name}" if crasher.dead.is_set() else "no crash (faults)")
                    crasher.close()
                    StateStore(env.state).release()
            through = env.sync(export, plan_options=released, apply_options=apply)  # through the faults
            if through.settled is not None:
                event("open entries settled")
            sandbox.faults = Faults()
            final = env.sync(export, plan_options=released, apply_options=apply)
            assert final.exit_code == 0, final.result.outcomes if final.result else final.settled
            want = expected(night)
            remote = env.remote()
            if mode == "mirror":
                assert remote == want  # the export's fields, not only the state's
            else:  # upsert adds and updates, never deletes: what the export holds is there
                assert {k: remote.get(k) for k in want} == want
                assert {k for k in before if k not in remote} <= _moved(before, want)
            assert remote == env.state_records()
            env.reset_calls()
            again = env.sync(export, plan_options=released, apply_options=apply)
            assert len(again.plan) == 0 and env.calls() == 0


def _events(plan: Plan) -> None:
    """What the night plans, for ``pytest --hypothesis-show-statistics``."""
    if plan.renames:
        event("a group renamed")
    if any(op.old_number and op.old_number != op.number for op in plan.operations):
        event("a number changed")


def _moved(before: dict[tuple[str, str], Any], want: dict[tuple[str, str], Any]) -> set[tuple[str, str]]:
    """Records an upsert may drop: a number changed within a group (the update moves it)."""
    groups = {g for g, _ in want}
    return {k for k in before if k[0] in groups and k not in want}
