"""A plan made against a state loaded without its fields is the plan made against the whole state.

``StateStore.load(fields=False)`` leaves the seven fields in the file and reads those of
the records a plan changes; the guard's counts run on key codes. Both are checked here
against the whole load and against pandas' own counts, on generated nights with every
kind of change (updates, number changes, swaps, owners changing, deletes, renames,
stale second numbers), and on a real SQLite file.
"""

from __future__ import annotations

import random
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sms123_sync.contact import FIELD_NAMES
from sms123_sync.errors import StateError
from sms123_sync.i18n import use
from sms123_sync.mapping.desired import DesiredState, fields_hash
from sms123_sync.mapping.normalize import distinct_codes
from sms123_sync.reconcile import plan as plan_module
from sms123_sync.reconcile import sync
from sms123_sync.reconcile.plan import KnownIndex, PlanOptions, index_known, plan_changes
from sms123_sync.reconcile.state import KnownState, StateStore

GROUPS = ("A", "B", "C", "VIP")


def _night(rng: random.Random, people: int) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(key, number, name, groups) per person; numbers drawn from a small pool, so owners change."""
    return [
        (
            f"K{i}",
            f"336{rng.randrange(10_000_000, 10_000_000 + people * 2):08d}",
            rng.choice(["Martin", "Durand", "Petit", ""]),
            tuple(sorted(rng.sample(GROUPS, rng.randint(1, 3)))),
        )
        for i in rng.sample(range(people * 2), people)
    ]


def _unique_numbers(night: list[tuple[str, str, str, tuple[str, ...]]]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    seen: set[str] = set()
    kept = []
    for person in night:
        if person[1] not in seen:
            seen.add(person[1])
            kept.append(person)
    return kept


def _desired(night: list[tuple[str, str, str, tuple[str, ...]]], account: str) -> DesiredState:
    contacts = pd.DataFrame(
        [
            {
                "key": k,
                "numero": n,
                "kind": "mobile",
                "row": i + 2,
                **{f: (name if f == "nom" else "") for f in FIELD_NAMES},
            }
            for i, (k, n, name, _) in enumerate(night)
        ],
        columns=["key", "numero", "kind", "row", *FIELD_NAMES],
    )
    contacts["fhash"] = fields_hash(contacts)
    members = pd.DataFrame([{"key": k, "group": g} for k, _, _, gs in night for g in gs], columns=["key", "group"])
    return DesiredState(contacts, members, identity=True, account=account, filtered_out=frozenset({"K1", "K3"}))


def _state(path: Path, night: list[tuple[str, str, str, tuple[str, ...]]], rng: random.Random) -> None:
    rows = [
        {"groupe": g, "numero": n, "key": k, "nom": name, "prenom": rng.choice(["", "Léa"])}
        for k, n, name, gs in night
        for g in gs
    ]
    with StateStore(path) as store:
        store.import_members(pd.DataFrame(rows), origin="created")


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("halves", [False, True])
def test_slim_and_whole_loads_plan_the_same(
    tmp_path: Path, seed: int, halves: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if halves:  # the records' hash probed in two halves on two threads, as at a million records
        monkeypatch.setattr(plan_module, "_HALF_MIN", 1)
    rng = random.Random(seed)
    before = _unique_numbers(_night(rng, 60))
    tonight = _unique_numbers(_night(rng, 60))
    if seed % 3 == 0:  # a group renamed: most of its members stay
        tonight = [(k, n, name, tuple("Renamed" if g == "VIP" else g for g in gs)) for k, n, name, gs in tonight]
    path = tmp_path / "state.sqlite"
    _state(path, before, rng)
    if seed % 4 == 1:  # a stale second number of one key in one group
        with closing(sqlite3.connect(path)) as db, db:
            db.execute(
                "INSERT INTO memberships (grp, numero, key, fhash) SELECT grp, '33699999999', key, fhash"
                " FROM memberships LIMIT 1"
            )
    account = "exclusive" if seed % 2 else "shared"
    with StateStore(path) as store:
        whole = plan_changes(_desired(tonight, account), store.load()).checked(PlanOptions())
        known = store.load(fields=False)
        slim = plan_changes(_desired(tonight, account), known).checked(PlanOptions())
        # The records' hash pairs as the shared dictionary codes do (the path for numbers
        # that are not plain digits, or a state that breaks its own key).
        unhashed = replace(index_known(known), records=None)
        assert index_known(known).records is not None
        slow = plan_changes(_desired(tonight, account), known, unhashed).checked(PlanOptions())
    assert whole.operations == slim.operations == slow.operations
    assert (whole.known_contacts, whole.removed_contacts, whole.vanished_contacts) == (
        slim.known_contacts,
        slim.removed_contacts,
        slim.vanished_contacts,
    )
    assert whole.group_losses == slim.group_losses and whole.guard == slim.guard
    kinds = {op.kind.name for op in slim.operations}
    assert {"CONTACT_ADD", "CONTACT_UPD", "CONTACT_DEL"} <= kinds  # every kind of change was exercised
    assert any(op.before is not None for op in slim.operations)  # fields read back for the changes


def test_a_record_changed_after_the_load_is_refused(tmp_path: Path) -> None:
    rng = random.Random(7)
    before = _unique_numbers(_night(rng, 20))
    path = tmp_path / "state.sqlite"
    _state(path, before, rng)
    tonight = [(k, n, name + "-bis", gs) for k, n, name, gs in before]  # every record changes
    with StateStore(path) as store:
        known = store.load(fields=False)
        # Another run rewrites a record between the load and the plan.
        with closing(sqlite3.connect(path)) as db, db:
            db.execute("UPDATE memberships SET nom = 'X', fhash = fhash + 1 WHERE rowid = 1")
        with pytest.raises(StateError, match="changed while this plan was made"):
            plan_changes(_desired(tonight, "shared"), known)
        # The fields are read on the planner's helper thread: the refusal still speaks the
        # caller's language (its text is worded when shown, not on that thread).
        with use("fr"), pytest.raises(StateError, match="a changé pendant que ce plan était fait"):
            plan_changes(_desired(tonight, "shared"), known)


@pytest.mark.parametrize("groups", [4, 3000])
def test_known_index_counts_like_pandas(groups: int) -> None:
    # 4 groups take the dense count; 3000 groups of 2000 keys the sorted one.
    rng = np.random.default_rng(groups)
    frame = pd.DataFrame(
        {
            "grp": [f"G{g}" for g in rng.integers(0, groups, 5000)],
            "key": [f"K{k}" for k in rng.integers(0, 2000, 5000)],
        }
    )
    frame["numero"] = [f"3361234{i:04d}" for i in range(len(frame))]
    known = index_known(KnownState({}, frame))
    assert known.contact_count == frame["key"].nunique()
    expected = frame.groupby("grp")["key"].nunique().to_dict()
    assert known.contacts_per_group({}) == expected
    renamed = known.contacts_per_group({"G1": "Renamed"})
    assert renamed["Renamed"] == expected["G1"] and "G1" not in renamed
    counts = frame["key"].value_counts()
    assert dict(zip(known.keys, known.records_per_key.tolist(), strict=True)) == counts.to_dict()


def test_a_rename_onto_a_name_only_the_memberships_hold_plans(tmp_path: Path) -> None:
    # The groups table lacks 'Renamed', a membership holds it: after the rename two known
    # group codes bear one name, and the records' hash cannot pair them; the planner pairs
    # through shared codes and counts the two as one group.
    rng = random.Random(3)
    before = _unique_numbers(_night(rng, 60))
    tonight = [(k, n, name, tuple("Renamed" if g == "VIP" else g for g in gs)) for k, n, name, gs in before]
    path = tmp_path / "state.sqlite"
    _state(path, before, rng)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("INSERT INTO memberships (grp, numero, key, fhash) VALUES ('Renamed', '33600000001', 'Kx', 1)")
    with StateStore(path) as store:
        whole = plan_changes(_desired(tonight, "exclusive"), store.load()).checked(PlanOptions())
        slim = plan_changes(_desired(tonight, "exclusive"), store.load(fields=False)).checked(PlanOptions())
    assert whole.renames == slim.renames == (("VIP", "Renamed"),)
    assert whole.operations == slim.operations
    assert [op.key for op in slim.operations if op.kind.name == "CONTACT_DEL"] == ["Kx"]  # the stray record goes


def test_a_plan_made_while_a_sync_writes_plans_again_from_the_whole_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plan takes no lock: a sync may commit between the slim load and the reading of the
    # changed records' fields. make_plan then plans from a whole load, read at one moment.
    rng = random.Random(11)
    before = _unique_numbers(_night(rng, 30))
    path = tmp_path / "state.sqlite"
    _state(path, before, rng)
    export = tmp_path / "tonight.csv"
    rows = [f"{k};0{n[2:]};{name}-bis;{','.join(gs)}" for k, n, name, gs in before]
    export.write_text("Id;Tel;Nom;G\n" + "\n".join(rows) + "\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("identity: Id\nfields: {numero: Tel, nom: Nom}\ngroups: {column: G, separator: ','}\n")
    load = sync._load_for_plan

    def load_then_a_sync_writes(store: StateStore) -> tuple[KnownState, KnownIndex]:
        loaded = load(store)
        with closing(sqlite3.connect(path)) as db, db:  # the sync applies one of tonight's updates
            db.execute("UPDATE memberships SET nom = 'Done', fhash = fhash + 1 WHERE rowid = 1")
        return loaded

    monkeypatch.setattr(sync, "_load_for_plan", load_then_a_sync_writes)
    _, plan = sync.make_plan(export, mapping, path, PlanOptions())
    before_names = {op.before.nom for op in plan.operations if op.before is not None}
    assert "Done" in before_names  # planned from the state as the sync left it
    assert {op.kind.name for op in plan.operations} == {"CONTACT_UPD"}


def test_a_slim_state_planned_after_its_store_closed_says_so(tmp_path: Path) -> None:
    rng = random.Random(5)
    before = _unique_numbers(_night(rng, 10))
    path = tmp_path / "state.sqlite"
    _state(path, before, rng)
    with StateStore(path) as store:
        known = store.load(fields=False)
    tonight = [(k, n, name + "-bis", gs) for k, n, name, gs in before]
    with pytest.raises(StateError, match="store is closed"):
        plan_changes(_desired(tonight, "shared"), known)


@pytest.mark.parametrize("top", [50, 10**12])
def test_distinct_codes_are_the_sorted_set(top: int) -> None:
    # Dense codes take the count per value, sparse ones the sort: the same answer as a set.
    codes = np.random.default_rng(top % 97).integers(0, top, 3000)
    assert distinct_codes(codes).tolist() == sorted(set(codes.tolist()))
    assert distinct_codes(np.empty(0, dtype=np.int64)).tolist() == []
