"""The planner on its own: a pure function from desired and known state to operations."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from sms123_sync.contact import FIELD_NAMES
from sms123_sync.mapping.desired import DesiredState, fields_hash
from sms123_sync.mapping.pipeline import read_desired
from sms123_sync.reconcile.plan import OpKind, index_desired, plan_changes
from sms123_sync.reconcile.state import KnownState

ROOT = Path(__file__).resolve().parent.parent
SAMPLES, MAPPINGS = ROOT / "samples", ROOT / "mappings"

# (key, number, name, groups)
Person = tuple[str, str, str, tuple[str, ...]]


def _fields(name: str) -> dict[str, str]:
    return {f: (name if f == "nom" else "") for f in FIELD_NAMES}


def desired(people: list[Person], account: str = "shared") -> DesiredState:
    contacts = pd.DataFrame(
        [
            {"key": k, "numero": n, "kind": "mobile", "row": i + 2, **_fields(name)}
            for i, (k, n, name, _) in enumerate(people)
        ],
        columns=["key", "numero", "kind", "row", *FIELD_NAMES],
    )
    contacts["fhash"] = fields_hash(contacts) if len(contacts) else pd.Series(dtype="int64")
    members = pd.DataFrame([{"key": k, "group": g} for k, _, _, gs in people for g in gs], columns=["key", "group"])
    return DesiredState(contacts, members, identity=True, account=account)


def known(people: list[Person]) -> KnownState:
    rows = [{"grp": g, "numero": n, "key": k, **_fields(name)} for k, n, name, gs in people for g in gs]
    frame = pd.DataFrame(rows, columns=["grp", "numero", "key", *FIELD_NAMES])
    frame["fhash"] = fields_hash(frame) if len(frame) else pd.Series(dtype="int64")
    groups = {g: "created" for _, _, _, gs in people for g in gs}
    return KnownState(groups, frame)


def kinds(people_now: list[Person], people_before: list[Person], **kw: str) -> list[tuple[str, str, str]]:
    plan = plan_changes(desired(people_now, **kw), known(people_before))
    return [(op.kind.name, ",".join(op.groups), op.number) for op in plan.operations]


BEFORE: list[Person] = [("1", "33612345671", "Martin", ("A", "B")), ("2", "33612345672", "Durand", ("A",))]


def test_same_state_plans_nothing() -> None:
    assert kinds(BEFORE, BEFORE) == []


def test_first_sync_from_empty_state() -> None:
    assert kinds(BEFORE, []) == [
        ("GROUP_ADD", "A", ""),
        ("GROUP_ADD", "B", ""),
        ("CONTACT_ADD", "A,B", "33612345671"),
        ("CONTACT_ADD", "A", "33612345672"),
    ]


def test_swapped_numbers_are_updates_in_place() -> None:
    swapped: list[Person] = [("1", "33612345672", "Martin", ("A",)), ("2", "33612345671", "Durand", ("A", "B"))]
    plan = plan_changes(desired(swapped), known(BEFORE))
    assert {(op.kind, op.groups, op.number, op.key) for op in plan.operations} == {
        (OpKind.CONTACT_UPD, ("A",), "33612345671", "2"),
        (OpKind.CONTACT_UPD, ("B",), "33612345671", "2"),
        (OpKind.CONTACT_UPD, ("A",), "33612345672", "1"),
    }
    assert all(op.reason == "number now belongs to another CRM record" for op in plan.operations)


def test_number_change_is_one_update_per_group_with_before() -> None:
    moved: list[Person] = [("1", "33698765432", "Martin", ("A", "B")), BEFORE[1]]
    plan = plan_changes(desired(moved), known(BEFORE))
    assert [(op.kind, op.groups, op.old_number, op.number) for op in plan.operations] == [
        (OpKind.CONTACT_UPD, ("A",), "33612345671", "33698765432"),
        (OpKind.CONTACT_UPD, ("B",), "33612345671", "33698765432"),
    ]
    assert plan.operations[0].before is not None and plan.operations[0].before.nom == "Martin"


def test_numbers_that_are_not_plain_digits_still_match() -> None:
    # A state adopted from a hand-made file may hold numbers normalisation never writes.
    odd: list[Person] = [("1", "+33612345671", "Martin", ("A",)), ("2", "0612345672", "Durand", ("A",))]
    assert kinds(odd, odd) == []
    renamed: list[Person] = [("1", "+33612345671", "Martin-Dupont", ("A",)), odd[1]]
    assert kinds(renamed, odd) == [("CONTACT_UPD", "A", "+33612345671")]


def test_exclusive_account_never_deletes_everywhere_a_number_still_wanted() -> None:
    stays: Person = ("3", "33612345673", "Petit", ("A",))
    before: list[Person] = [("1", "33612345671", "Martin", ("A",)), ("2", "33612345672", "Durand", ("A",)), stays]
    # Contact 1 leaves the export; contact 2 takes 1's old number, in a new group B.
    now: list[Person] = [("2", "33612345671", "Durand", ("B",)), stays]
    ops = kinds(now, before, account="exclusive")
    assert ("CONTACT_ADD", "B", "33612345671") in ops
    assert ("CONTACT_DEL", "", "33612345671") not in ops  # a group-less delete would remove B's new record
    assert ("CONTACT_DEL", "A", "33612345671") in ops


@pytest.mark.parametrize("account", ["shared", "exclusive"])
def test_contact_gone_from_export(account: str) -> None:
    ops = kinds(BEFORE[1:], BEFORE, account=account)
    if account == "exclusive":
        assert ops == [("CONTACT_DEL", "", "33612345671"), ("GROUP_DEL", "B", "")]
    else:
        assert ops == [("CONTACT_DEL", "A", "33612345671"), ("CONTACT_DEL", "B", "33612345671"), ("GROUP_DEL", "B", "")]


def test_very_long_numbers_pair_without_overflow() -> None:
    # 18 digits across many groups do not fit one int64 code: the planner pairs them another way.
    groups = tuple("ABCDEFGH")
    long: list[Person] = [("1", "999999999999999999", "Martin", groups), ("2", "33612345672", "Durand", ("A",))]
    assert kinds(long, long) == []
    changed: list[Person] = [("1", "999999999999999999", "Martin-Dupont", groups), long[1]]
    assert [k for k, _, _ in kinds(changed, long)] == ["CONTACT_UPD"] * len(groups)


def test_state_with_a_repeated_record_still_plans() -> None:
    # The state's key forbids it, but a planner handed such a frame must not fail.
    twice = known(BEFORE)
    frame = pd.concat([twice.memberships, twice.memberships.iloc[[0]]], ignore_index=True)
    plan = plan_changes(desired(BEFORE), KnownState(twice.groups, frame))
    assert [op.kind for op in plan.operations] == []


@pytest.mark.parametrize("numbers", ["plain", "one not plain"])
def test_desired_index_codes_what_its_records_hold(numbers: str) -> None:
    """index_desired codes groups on a helper thread and casts numbers per contact: the
    codes must name each record's own group and number, a membership without a contact
    dropped (no contact column: found by key)."""
    people: list[Person] = [("1", "33612345671", "Martin", ("A", "B")), ("2", "33612345672", "Durand", ("C", "A"))]
    if numbers == "one not plain":
        people.append(("3", "+33612345673", "Petit", ("B",)))
    state = desired(people)
    orphan = pd.DataFrame([{"key": "gone", "group": "Z"}])  # a record whose key has no contact
    state = replace(state, memberships=pd.concat([orphan, state.memberships, orphan], ignore_index=True))
    mine = index_desired(state)
    members = mine.members
    assert list(members["key"]) == [k for k, _, _, gs in people for _ in gs]
    assert [mine.groups[c] for c in mine.group_codes] == list(members["grp"]) == [g for *_, gs in people for g in gs]
    assert sorted(set(mine.groups)) == ["A", "B", "C"]  # "Z" only named by the orphans
    if numbers == "plain":
        assert mine.numbers is not None
        assert mine.numbers.tolist() == [int(n) for n in members["numero"]]
    else:
        assert mine.numbers is None  # paired on the records' text instead
    contacts = state.contacts
    assert [contacts["key"][c] for c in members["_c"]] == list(members["key"])
    assert list(members["fhash"]) == [contacts["fhash"][c] for c in members["_c"]]


def test_desired_index_of_a_built_state_names_each_records_contact() -> None:
    """A built desired state says each record's contact (its contact column): the index
    takes numbers, digests and keys from that contact, and codes each record's group."""
    state = read_desired(SAMPLES / "crm_export.csv", MAPPINGS / "crm_csv.yaml").state
    assert "contact" in state.memberships
    mine = index_desired(state)
    members, contacts = mine.members, state.contacts
    assert len(members) == len(state.memberships) > 0
    assert list(members["key"]) == [contacts["key"][c] for c in state.memberships["contact"]]
    assert list(members["numero"]) == [contacts["numero"][c] for c in members["_c"]]
    assert list(members["fhash"]) == [contacts["fhash"][c] for c in members["_c"]]
    assert [mine.groups[c] for c in mine.group_codes] == list(state.memberships["group"])
    assert mine.numbers is not None and mine.numbers.tolist() == [int(n) for n in members["numero"]]
