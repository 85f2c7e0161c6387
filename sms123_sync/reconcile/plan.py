"""The plan: the fewest API operations, in dependency order, from known to desired.

Pure: takes the desired state, the last-known state and options; returns a value. No
network, no disk, no clock. Order is make before break: group add → group rename →
contact add → contact update → contact delete → group delete.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from enum import IntEnum
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sms123_sync.contact import FIELD_NAMES, ContactFields
from sms123_sync.errors import GuardError
from sms123_sync.mapping.desired import DesiredState
from sms123_sync.mapping.keyset import KeySet
from sms123_sync.mapping.normalize import distinct_codes, plain_integers, text_array
from sms123_sync.memory import paused_collector
from sms123_sync.reconcile.state import KnownState

RENAME_OVERLAP = 0.5  # share of members two groups must have in common to be one group renamed
# Vanished contacts (or members of one group) a run may always remove, whatever the share:
# one to three people leaving a list of 5 to 50 is ordinary life, not a broken export
# (docs/design.md, "Deletion guard").
MIN_VANISHED = 3
FILTERED_REASON = "filtered out by the mapping"


class OpKind(IntEnum):
    """Operation kinds; the value is the phase, so sorting by kind orders the plan."""

    GROUP_ADD = 1
    GROUP_RENAME = 2
    CONTACT_ADD = 3
    CONTACT_UPD = 4
    CONTACT_DEL = 5
    GROUP_DEL = 6


@dataclass(frozen=True)
class Operation:
    """One API call to make, with why and, for updates, the fields before and after."""

    kind: OpKind
    reason: str
    groups: tuple[str, ...] = ()  # the group(s) concerned; empty for a delete from every group
    number: str = ""
    old_number: str = ""
    key: str = ""
    new_name: str = ""
    fields: ContactFields | None = None
    before: ContactFields | None = None
    fields_hash: int | None = None  # digest of ``fields`` as the planner computed it

    @property
    def changed_fields(self) -> tuple[str, ...]:
        if self.fields is None or self.before is None:
            return ()
        return self.fields.changed(self.before)

    def to_json(self) -> dict[str, object]:
        """The operation as the journal stores it (JSON-ready)."""
        data: dict[str, object] = asdict(self)
        data["kind"] = self.kind.name
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Operation:
        """The operation :meth:`to_json` wrote."""
        values: dict[str, Any] = dict(data)
        values["kind"] = OpKind[values["kind"]]
        values["groups"] = tuple(values.get("groups") or ())
        for name in ("fields", "before"):
            if values.get(name) is not None:
                values[name] = ContactFields(**values[name])
        return cls(**values)


@dataclass(frozen=True)
class PlanOptions:
    """Choices that change the plan or its guard."""

    max_delete: float | None = 0.10  # share of known contacts (and of each group), or None for no limit
    max_delete_count: int | None = None  # replaces the share and the small-list floor when given
    allow_empty: bool = False
    min_vanished: int = MIN_VANISHED  # vanished contacts always allowed before the share applies


@dataclass(frozen=True)
class GroupLoss:
    """Members a group loses without an explanation in the export, of how many it had."""

    group: str
    vanished: int
    known: int


@dataclass(frozen=True)
class Guard:
    """The deletion guard's verdict: the deletes it holds back, why, and how to release them.

    A tripped guard holds deletes, it does not refuse the run: everything else in the plan
    is applied, and the run exits 3 so that cron alerts.
    """

    reasons: tuple[str, ...] = ()
    held: tuple[Operation, ...] = ()
    release: str = ""

    @property
    def tripped(self) -> bool:
        return bool(self.reasons)

    @property
    def exit_code(self) -> int:
        return GuardError.exit_code if self.tripped else 0

    def verdict(self) -> str:
        """One line for the end of a plan or a run."""
        if not self.tripped:
            return "deletion guard: passed"
        return (
            f"deletion guard: {len(self.held)} delete(s) held, the rest applies: "
            f"{'; '.join(self.reasons)}; {self.release}"
        )

    def error(self) -> GuardError:
        """The verdict as an exception, for a library caller that wants to stop on it."""
        return GuardError(self.verdict())


@dataclass(frozen=True)
class Plan:
    """The operations that make the account match the export, in order, with the counts
    the deletion guard weighs and, once checked, its verdict."""

    operations: tuple[Operation, ...]
    known_contacts: int
    removed_contacts: int  # known contacts that leave every group
    desired_contacts: int
    renames: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # What the deletion guard weighs (docs/design.md, "Deletion guard"):
    vanished_contacts: int = 0  # of removed_contacts, those the export no longer holds at all
    group_losses: tuple[GroupLoss, ...] = ()  # groups losing members the export no longer explains
    explained_keys: frozenset[str] = frozenset()  # keys whose removal the mapping's filter explains
    guard: Guard | None = None  # the verdict, once checked (make_plan, run_sync)

    @property
    def held(self) -> tuple[Operation, ...]:
        return self.guard.held if self.guard is not None else ()

    @property
    def applicable(self) -> tuple[Operation, ...]:
        """The operations to apply: all but the held ones."""
        if not self.held:
            return self.operations
        held = {id(op) for op in self.held}
        return tuple(op for op in self.operations if id(op) not in held)

    def checked(self, options: PlanOptions) -> Plan:
        """This plan with the guard's verdict under ``options``."""
        return replace(self, guard=check_guard(self, options))

    def counts(self) -> dict[str, int]:
        counter = Counter(op.kind.name for op in self.operations)
        return {kind.name: counter.get(kind.name, 0) for kind in OpKind}

    def per_group(self) -> dict[str, dict[str, int]]:
        table: dict[str, Counter[str]] = {}
        for op in self.operations:
            for group in op.groups or ("(every group)",):
                table.setdefault(group, Counter())[op.kind.name] += 1
        return {g: dict(c) for g, c in sorted(table.items())}

    def __len__(self) -> int:
        return len(self.operations)


def _text(value: Any) -> str:
    return "" if value is None or value is pd.NA or value != value else str(value)


def _renames(known: pd.DataFrame, desired: pd.DataFrame, gone: set[str], new: set[str]) -> dict[str, str]:
    """Vanished → new group pairs that share most of their members."""
    pairs: dict[str, str] = {}
    members_new = {g: set(desired.loc[desired["grp"] == g, "key"]) for g in new}
    for old in sorted(gone):
        old_members = set(known.loc[known["grp"] == old, "key"])
        best, best_score = None, 0.0
        for g, members in members_new.items():
            if g in pairs.values() or not members or not old_members:
                continue
            score = len(old_members & members) / max(len(old_members), len(members))
            if score > best_score:
                best, best_score = g, score
        if best is not None and best_score >= RENAME_OVERLAP:
            pairs[old] = best
    return pairs


def _texts(column: pd.Series) -> list[str]:
    """A column as text, gaps as "": one Arrow pass rather than a test per value."""
    try:
        array = pa.array(column, pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text (a hand-made frame): value by value
        return [_text(value) for value in column.tolist()]
    return list(pc.fill_null(array, "").to_pylist())


def _field_list(frame: pd.DataFrame, suffix: str = "") -> list[ContactFields]:
    """The fields of every row of ``frame``, built column by column."""
    columns = [_texts(frame[name + suffix]) for name in FIELD_NAMES]
    return [ContactFields(*values) for values in zip(*columns, strict=True)]


def _updates(frame: pd.DataFrame, reason: str | None) -> list[Operation]:
    """A contact_upd per matched known/desired record pair of ``frame``; without a
    ``reason``, the reason is the owner's change (:func:`_owner_changed`) or the fields'."""
    if not len(frame):
        return []
    keys = _texts(frame["key"])
    old_keys = _texts(frame["key_k"]) if "key_k" in frame else keys  # a move pairs on the key
    return [
        Operation(
            OpKind.CONTACT_UPD,
            reason or _owner_changed(key, old_key) or "fields changed",
            (group,),
            number,
            old_number,
            key,
            fields=after,
            before=before,
            fields_hash=int(digest),
        )
        for group, number, old_number, key, old_key, after, before, digest in zip(
            _texts(frame["grp"]),
            _texts(frame["numero"]),
            _texts(frame["numero_k"]),
            keys,
            old_keys,
            _field_list(frame),
            _field_list(frame, "_k"),
            frame["fhash"].tolist(),
            strict=True,
        )
    ]


def _full_rows(contacts: pd.DataFrame, desired_members: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """The desired rows at ``positions`` of ``desired_members``, with the contact's fields and row (``_c``)."""
    rows: pd.DataFrame = contacts.iloc[desired_members["_c"].to_numpy()[positions]].reset_index(drop=True)
    # Taken, not converted whole: the group column is two million strings.
    rows["grp"] = desired_members["grp"].iloc[positions].to_numpy()
    rows["_c"] = desired_members["_c"].to_numpy()[positions]
    return rows


def _number_codes(known: pa.Array, desired: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Integers standing for phone numbers on both sides, equal where the numbers are.

    Normalised numbers are digits without a leading zero, so the number itself is its
    code (an Arrow cast, 0.02 s a million); anything else gets shared dictionary codes.
    """
    known_integers = plain_integers(known)
    desired_integers = plain_integers(desired) if known_integers is not None else None
    if known_integers is not None and desired_integers is not None:
        return known_integers, desired_integers
    return _shared_codes(known, desired)


def _shared_codes(known: pa.Array, desired: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Dictionary codes over both sides, so equal values get equal codes."""
    both = pc.dictionary_encode(pa.chunked_array([known, desired], type=pa.string()))
    parts = [chunk.indices.to_numpy(zero_copy_only=False) for chunk in both.chunks]
    codes = np.concatenate(parts).astype(np.int64) if parts else np.empty(0, dtype=np.int64)
    return codes[: len(known)], codes[len(known) :]


@dataclass(frozen=True)
class KnownIndex:
    """What the planner derives from the known state alone, as integers: each record's
    key code (``keys[key_codes[i]]``), group code (``groups[group_codes[i]]``) and, when
    every number is plain digits, the records hashed on (number, group) for pairing.

    It needs nothing of the export, so ``make_plan`` and ``run_sync`` build it on the
    thread that loads the state while the export is read (:func:`index_known`).
    """

    key_codes: np.ndarray
    keys: pd.Index
    records_per_key: np.ndarray  # how many known records each key code has
    group_codes: np.ndarray
    groups: tuple[str, ...]
    records: pd.Index | None  # number * (len(groups) + 1) + group code; None: pair another way
    # contacts_per_group without renames, counted with the rest of the index (on the
    # loading thread when make_plan or run_sync load early): what the guard weighs on a
    # night with deletes, 0.03 s a million records less on the plan's own time.
    per_group: Mapping[str, int] | None = None

    @property
    def contact_count(self) -> int:
        return len(self.keys)

    def group_names(self, renames: Mapping[str, str]) -> list[str]:
        """The groups in code order, as the plan names them once ``renames`` are made."""
        return [renames.get(group, group) for group in self.groups]

    def contacts_per_group(self, renames: Mapping[str, str]) -> dict[str, int]:
        """How many distinct keys each group has, by its name after ``renames`` (two codes
        renamed onto one name count as one group)."""
        if not renames and self.per_group is not None:
            return dict(self.per_group)
        name_codes, names = pd.factorize(pd.Index(self.group_names(renames)))
        width = max(len(self.keys), 1)
        known = (self.group_codes >= 0) & (self.key_codes >= 0)
        groups = np.asarray(name_codes, dtype=np.int64)[self.group_codes[known]]
        pairs = groups * width + self.key_codes[known]
        per_group = np.bincount(distinct_codes(pairs) // width, minlength=len(names))
        return dict(zip((str(name) for name in names), (int(n) for n in per_group), strict=True))


def index_known(known: KnownState) -> KnownIndex:
    """The :class:`KnownIndex` of ``known``; a pure function of it."""
    members = known.memberships
    key_codes, keys = pd.factorize(members["key"])
    group_codes, groups = pd.factorize(members["grp"])
    records = None
    numbers = text_array(members["numero"])
    width = len(groups) + 1
    values = plain_integers(numbers)
    if values is not None and values.max(initial=0) < (2**62) // width:
        records = pd.Index(values * width + group_codes.astype(np.int64))
        # Hashed now, on this thread: a state that breaks its own (group, number) key
        # is paired the slow way.
        if not records.is_unique:
            records = None
    key_codes = np.asarray(key_codes, dtype=np.int64)
    keys = pd.Index(keys)
    index = KnownIndex(
        key_codes,
        keys,
        np.bincount(key_codes[key_codes >= 0], minlength=len(keys)),
        np.asarray(group_codes, dtype=np.int64),
        tuple(str(g) for g in groups),
        records,
    )
    return replace(index, per_group=index.contacts_per_group({}))


@dataclass(frozen=True)
class DesiredIndex:
    """What the planner derives from the desired state alone: one slim row per desired
    record (``members``: grp, numero, key, fhash and ``_c``, the contact's row in
    ``desired.contacts``, where its fields stay until an operation needs them), each
    record's group as a code into ``groups`` and, when every number is plain digits,
    the numbers as integers for pairing.

    It needs nothing of the state, so ``make_plan`` builds it when the export is read,
    while the state may still be loading (:func:`index_desired`).
    """

    members: pd.DataFrame
    groups: tuple[str, ...]  # the groups the records name, each once
    group_codes: np.ndarray
    numbers: np.ndarray | None  # None: a contact's number is not plain digits; pair another way


def index_desired(desired: DesiredState, helper: ThreadPoolExecutor | None = None) -> DesiredIndex:
    """The :class:`DesiredIndex` of ``desired``; a pure function of it.

    Built as Arrow columns (pandas would re-infer two million object strings); the
    groups are coded on ``helper`` meanwhile (a thread of its own without one), and the
    numbers are cast once per contact rather than once per record.
    """
    if helper is None:
        with _helper_thread() as own:
            return index_desired(desired, own)
    contacts, memberships = desired.contacts, desired.memberships
    groups = text_array(memberships["group"])
    coding = helper.submit(pc.dictionary_encode, groups)
    member_keys = text_array(memberships["key"])
    if "contact" in memberships:  # people sharing a number: each record names its contact
        position = memberships["contact"].to_numpy(dtype=np.int64)
    else:
        found = pc.index_in(member_keys, value_set=text_array(contacts["key"]))
        position = pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    has_contact = position >= 0
    position = position[has_contact]
    keep = pa.array(has_contact)
    numbers = text_array(contacts["numero"])
    taken = pa.array(position, pa.int64())
    columns = {
        "grp": groups.filter(keep),
        "numero": numbers.take(taken),
        "key": member_keys.filter(keep),
        "fhash": pa.array(contacts["fhash"].to_numpy(dtype=np.int64)[position], pa.int64()),
        "_c": taken,
    }
    members: pd.DataFrame = pa.table(columns).to_pandas()
    integers = plain_integers(numbers)
    encoded = coding.result()
    if not has_contact.all():  # a group only records without a contact name is no group of the plan
        encoded = pc.dictionary_encode(columns["grp"])
    return DesiredIndex(
        members,
        tuple(str(group) for group in encoded.dictionary.to_pylist()),
        encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64),
        integers[position] if integers is not None else None,
    )


@contextmanager
def _helper_thread() -> Iterator[ThreadPoolExecutor]:
    """The planner's one helper thread, for the length of a call: an error drops the work
    queued on it, and the call waits for the work it is running."""
    helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plan")
    try:
        yield helper
    finally:
        helper.shutdown(wait=True, cancel_futures=True)


def _pairs_on_number(
    known_members: pd.DataFrame,
    mine: DesiredIndex,
    index: KnownIndex,
    renames: Mapping[str, str],
    helper: ThreadPoolExecutor,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (in known_members, in desired_members) of the records both hold: same group, same number."""
    desired_members = mine.members
    if index.records is not None:
        found = _pairs_on_index(mine, index, renames, helper)
        if found is not None:
            d_pos = np.flatnonzero(found >= 0)
            return found[d_pos], d_pos
    k_grp, d_grp = _shared_codes(text_array(known_members["grp"]), text_array(desired_members["grp"]))
    k_num, d_num = _number_codes(text_array(known_members["numero"]), text_array(desired_members["numero"]))
    width = int(max(k_grp.max(initial=0), d_grp.max(initial=0))) + 1
    if max(k_num.max(initial=0), d_num.max(initial=0)) < (2**62) // width:
        # One int64 per record; the state's (group, number) key is unique, so a hash lookup pairs them.
        try:
            found = pd.Index(k_num * width + k_grp).get_indexer(d_num * width + d_grp)
        except pd.errors.InvalidIndexError:  # a state that breaks its own key: pair the slow way
            pass
        else:
            d_pos = np.flatnonzero(found >= 0)
            return found[d_pos], d_pos
    left = pd.DataFrame({"g": k_grp, "n": k_num, "_k": np.arange(len(known_members))})
    right = pd.DataFrame({"g": d_grp, "n": d_num, "_d": np.arange(len(desired_members))})
    pairs = left.merge(right, on=["g", "n"])
    return pairs["_k"].to_numpy(), pairs["_d"].to_numpy()


# Below this many lookups a second thread costs more than it saves.
_HALF_MIN = 50_000


def _positions_not_in(n: int, positions: np.ndarray) -> np.ndarray:
    """``range(n)`` without ``positions``, in order: a mask, where ``np.setdiff1d`` sorts
    (0.06 s for two million records)."""
    left = np.ones(n, dtype=bool)
    left[positions] = False
    return np.flatnonzero(left)


def _with_known_fields(frame: pd.DataFrame, fields: Future[pd.DataFrame]) -> pd.DataFrame:
    """Known records (``frame``) with their ``fields``, read meanwhile on the helper thread."""
    slim = frame.drop(columns=[c for c in FIELD_NAMES if c in frame]).reset_index(drop=True)
    return pd.concat([slim, fields.result()], axis=1)


def _pairs_on_index(
    mine: DesiredIndex, index: KnownIndex, renames: Mapping[str, str], helper: ThreadPoolExecutor
) -> np.ndarray | None:
    """For each desired record, the position of the known record of the same (group,
    number) or -1, looked up in the known records' hash; None when the desired numbers
    do not fit it (not plain digits, or too large)."""
    assert index.records is not None
    width = len(index.groups) + 1
    values = mine.numbers
    if values is None or values.max(initial=0) >= (2**62) // width:
        return None
    names = pd.Index(index.group_names(renames))
    if not names.is_unique:  # a group renamed onto a name the memberships hold already
        return None
    code_of = names.get_indexer(pd.Index(mine.groups))
    groups = code_of[mine.group_codes] if len(code_of) else code_of
    # A group the state does not hold has no known record: -1 is never a record's value.
    records = np.where(groups >= 0, values * width + groups, -1)
    return _looked_up(index.records, records, helper)


def _looked_up(table: pd.Index, values: np.ndarray, helper: ThreadPoolExecutor) -> np.ndarray:
    """``table.get_indexer(values)``, half on the helper thread: pandas probes its hash
    without the GIL, and the planner's other core is idle meanwhile."""
    # is_unique builds the hash here, before two threads probe it; a table that is not
    # unique is refused by get_indexer, as before.
    if len(values) < 2 * _HALF_MIN or not table.is_unique:
        found: np.ndarray = table.get_indexer(pd.Index(values))
        return found
    half = len(values) // 2
    second = helper.submit(table.get_indexer, pd.Index(values[half:]))
    return np.concatenate([table.get_indexer(pd.Index(values[:half])), second.result()])


def _match(
    known_members: pd.DataFrame,
    mine: DesiredIndex,
    contacts: pd.DataFrame,
    fields_at: Callable[[np.ndarray], pd.DataFrame],
    index: KnownIndex,
    renames: Mapping[str, str],
    helper: ThreadPoolExecutor,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Pairs known records with desired ones: (adds, changed records, number changes, deletes).

    The API keys a record by (group, number), so pairs are made on that first: a number
    that stays in a group is the same record, whoever owns it in the CRM (an update
    re-keys it). What is left pairs on (group, key): a contact whose number changed.
    After this, every add and every new number targets a number the group does not
    hold, so no operation waits on another (swaps and hand-overs included). The pairing
    runs on integers; full rows are built only for the few records that change.
    """
    desired_members = mine.members
    k_pos, d_pos = _pairs_on_number(known_members, mine, index, renames, helper)
    # The known fields are read on the helper thread (SQLite, without the GIL) while
    # the pairs are compared and the desired rows built here.
    unpaired = _positions_not_in(len(known_members), k_pos)
    gone_fields = helper.submit(fields_at, unpaired)
    k_key, d_key = text_array(known_members["key"]), text_array(desired_members["key"])
    key_differs = pc.not_equal(k_key.take(k_pos), d_key.take(d_pos)).to_numpy(zero_copy_only=False)
    hash_differs = known_members["fhash"].to_numpy(dtype=np.int64)[k_pos] != desired_members["fhash"].to_numpy()[d_pos]
    differs = key_differs | hash_differs
    changed = k_pos[differs]
    changed_fields = helper.submit(fields_at, changed)
    desired_side = _full_rows(contacts, desired_members, d_pos[differs])
    new = _full_rows(contacts, desired_members, _positions_not_in(len(desired_members), d_pos))
    known_side = _with_known_fields(known_members.iloc[changed], changed_fields).add_suffix("_k")
    same = pd.concat([known_side, desired_side], axis=1)

    gone = _with_known_fields(known_members.iloc[unpaired], gone_fields)
    gone["_kpos"] = pd.array(unpaired, dtype="Int64")  # the record's position in the known state
    gone = gone.rename(columns={c: f"{c}_k" for c in gone.columns if c not in ("grp", "key", "_kpos")})
    # Nullable integers keep the 64-bit digests exact through the outer merge (float64 would round them).
    gone = gone.assign(fhash_k=gone["fhash_k"].astype("Int64"))
    new = new.assign(fhash=new["fhash"].astype("Int64"))
    # A stale state may hold two numbers for one key in a group: pair one, delete the rest.
    twice = gone.duplicated(["grp", "key"])
    on_key = gone[~twice].merge(new, on=["grp", "key"], how="outer", indicator=True)
    moves = on_key[on_key["_merge"] == "both"]
    adds = on_key[on_key["_merge"] == "right_only"]
    dels = pd.concat([on_key[on_key["_merge"] == "left_only"], gone[twice]], ignore_index=True)
    return adds, same, moves, dels


def plan_changes(
    desired: DesiredState, known: KnownState, index: KnownIndex | None = None, mine: DesiredIndex | None = None
) -> Plan:
    """The operations that make the account match ``desired``, in the order they run:
    groups first, then adds, updates and deletes of contacts, then group deletes.

    ``index`` is :func:`index_known` of ``known`` and ``mine`` :func:`index_desired` of
    ``desired``, when the caller built them already. The planner uses a second core
    through one helper thread, which ends with the call.
    """
    index = index if index is not None else index_known(known)
    # Tens of thousands of operations and their fields, none in a cycle: the collector
    # would walk them again at each of its passes.
    with _helper_thread() as helper, paused_collector():
        mine = mine if mine is not None else index_desired(desired, helper)
        return _plan_with(helper, desired, known, index, mine)


def _plan_with(
    helper: ThreadPoolExecutor, desired: DesiredState, known: KnownState, index: KnownIndex, mine: DesiredIndex
) -> Plan:
    """:func:`plan_changes` with ``helper``, the second core's one thread."""
    mirror = desired.mode == "mirror"
    known_members = known.memberships
    desired_members = mine.members
    desired_groups = set(mine.groups)
    known_groups = set(known.groups)

    renames = (
        _renames(known_members, desired_members, known_groups - desired_groups, desired_groups - known_groups)
        if mirror
        else {}
    )
    ops = _group_ops(renames, sorted(desired_groups - known_groups - set(renames.values())))
    if renames:
        known_members = known_members.assign(grp=known_members["grp"].replace(renames))
    adds, same, moves, dels = _match(known_members, mine, desired.contacts, known.fields_at, index, renames, helper)
    ops += _add_ops(adds)
    ops += _updates(same, None)
    ops += _updates(moves, "phone number changed")
    deletes = _delete_ops(desired, index, renames, desired_members, dels) if mirror and len(dels) else _Deletes()
    ops += deletes.ops
    if mirror:
        gone_groups = sorted(known_groups - desired_groups - set(renames))
        ops += [Operation(OpKind.GROUP_DEL, "group gone from the export", (group,)) for group in gone_groups]

    ops.sort(key=lambda op: op.kind)
    return Plan(
        tuple(ops),
        known_contacts=index.contact_count,
        removed_contacts=deletes.removed,
        desired_contacts=len(desired.contacts),
        renames=tuple(renames.items()),
        vanished_contacts=deletes.vanished,
        group_losses=deletes.losses,
        explained_keys=deletes.explained,
    )


def _owner_changed(key: str, old_key: str) -> str:
    """Why a record whose number stays in its group is updated, when its CRM owner changed."""
    return "number now belongs to another CRM record" if key != old_key else ""


def _group_ops(renames: dict[str, str], new_groups: list[str]) -> list[Operation]:
    """Renames first (one call keeps the members), then the groups the export adds."""
    ops = [
        Operation(OpKind.GROUP_RENAME, "group renamed in the CRM", (old,), new_name=new) for old, new in renames.items()
    ]
    ops += [Operation(OpKind.GROUP_ADD, "new group in the export", (group,)) for group in new_groups]
    return ops


def _add_ops(adds: pd.DataFrame) -> list[Operation]:
    """One add per contact, its groups joined; a number shared by people in different
    groups is one add per person, each with its own fields."""
    if not len(adds):
        return []
    adds = adds.sort_values(["key", "grp"])
    groups_of: dict[object, tuple[str, ...]] = {}
    for contact, group in zip(adds["_c"].tolist(), _texts(adds["grp"]), strict=True):
        groups_of[contact] = (*groups_of.get(contact, ()), group)
    first = adds.drop_duplicates("_c")
    return [
        Operation(
            OpKind.CONTACT_ADD,
            "new in the export",
            groups_of[contact],
            number,
            key=key,
            fields=fields,
            fields_hash=int(digest),
        )
        for contact, number, key, fields, digest in zip(
            first["_c"].tolist(),
            _texts(first["numero"]),
            _texts(first["key"]),
            _field_list(first),
            first["fhash"].tolist(),
            strict=True,
        )
    ]


@dataclass(frozen=True)
class _Deletes:
    """The contact deletes of a plan and what the deletion guard weighs of them."""

    ops: list[Operation] = field(default_factory=list)
    removed: int = 0  # known contacts that leave every group
    vanished: int = 0  # of those, the ones the filter does not explain
    explained: frozenset[str] = frozenset()
    losses: tuple[GroupLoss, ...] = ()


def _delete_ops(
    desired: DesiredState,
    known: KnownIndex,
    renames: Mapping[str, str],
    desired_members: pd.DataFrame,
    dels: pd.DataFrame,
) -> _Deletes:
    """The known records to delete, group by group (or with one group-less call for a
    contact that leaves an exclusive account), never those of a rejected row."""
    dels = dels[~_is_in(dels["key"], desired.protected)].sort_values(["key", "grp"])
    leaving_count = dels["key"].value_counts()
    # Tonight's keys probed against the few leaving ones: no hash of every desired key.
    leaving = text_array(leaving_count.index.to_series())
    desired_keys = text_array(desired.contacts["key"])
    still_wanted = pc.fill_null(pc.is_in(desired_keys, value_set=leaving), False)
    wanted = set(desired_keys.filter(still_wanted).to_pylist())
    unwanted = leaving_count[[key not in wanted for key in leaving.to_pylist()]]
    # How many records each leaving key has in the state, through a record of it (_kpos).
    records = known.records_per_key[known.key_codes[dels["_kpos"].to_numpy(np.int64)]]
    known_count = dict(zip(dels["key"].tolist(), records.tolist(), strict=True))
    leaves = {k for k, n in unwanted.items() if n == known_count.get(k, -1)}
    # The desired records of the leaving keys, found through their contacts (_c): the
    # guard looks for a key that stays in a group among these few, not among all.
    of_leaving = still_wanted.to_numpy(zero_copy_only=False)[desired_members["_c"].to_numpy()]
    explained, vanished, losses = _losses(
        known, renames, desired_members[of_leaving], dels, leaves, desired.filtered_out
    )
    exclusive = desired.account == "exclusive"
    # A delete without a group removes the number everywhere: never while it is wanted elsewhere.
    wanted_numbers = set(desired_members["numero"].unique()) if exclusive else set()
    done_keys: set[object] = set()
    ops: list[Operation] = []
    columns = (dels["key"].tolist(), _texts(dels["grp"]), _texts(dels["numero_k"]), _field_list(dels, "_k"))
    for key, group, number, before in zip(*columns, strict=True):
        leaves_all = key in leaves
        gone = FILTERED_REASON if str(key) in explained else "gone from the export"
        if leaves_all and exclusive and number not in wanted_numbers:
            if key not in done_keys:
                done_keys.add(key)
                ops.append(Operation(OpKind.CONTACT_DEL, gone, (), number, key=str(key)))
            continue
        ops.append(
            Operation(
                OpKind.CONTACT_DEL,
                gone if leaves_all or str(key) in explained else "left this group",
                (group,),
                number,
                key=str(key),
                before=before,
            )
        )
    return _Deletes(ops, len(leaves), vanished, explained, losses)


def _is_in(values: pd.Series, wanted: Iterable[Any]) -> np.ndarray:
    """``values.astype(str).isin(wanted)``, for the text columns of a plan.

    pandas makes one Arrow scalar per wanted value (about 3 µs each: 0.3 s for the keys
    a filter drops from a million rows); Arrow takes them as one array. A set larger than
    ``values`` (those keys, against a night's deletes) is first cut to the values it
    holds: a probe per value, where an array of the whole set would cost 0.05 s; a
    :class:`KeySet` is probed through its array. As pandas does, only the text values of
    ``wanted`` can match.
    """
    texts = values.astype(str)
    if isinstance(wanted, KeySet):
        # Held in Arrow: the few values pick out the keys they meet (a hash of the values,
        # not of half a million keys), and those are the set.
        probes = pa.array(texts, pa.string(), from_pandas=True)
        value_set = wanted.array.filter(pc.fill_null(pc.is_in(wanted.array, value_set=probes), False))
    else:
        if isinstance(wanted, AbstractSet) and len(wanted) > len(texts):
            wanted = wanted & set(texts.tolist())
        value_set = pa.array([v for v in wanted if isinstance(v, str)], pa.string())
    found = pc.is_in(pa.array(texts, pa.string(), from_pandas=True), value_set=value_set)
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def _losses(
    known: KnownIndex,
    renames: Mapping[str, str],
    desired_members: pd.DataFrame,
    dels: pd.DataFrame,
    leaves: set[Any],
    filtered: frozenset[str],
) -> tuple[frozenset[str], int, tuple[GroupLoss, ...]]:
    """What the deletion guard weighs in ``dels`` (the known records to delete): the keys
    whose removal the filter explains, the contacts that vanished, and per group the
    members that vanished, of how many it knew. ``desired_members`` holds at least the
    desired records of the keys in ``dels``."""
    keys = dels["key"].astype(str)
    is_explained = _is_in(keys, filtered) if filtered else np.zeros(len(dels), dtype=bool)
    explained = frozenset(keys[is_explained])
    vanished = sum(1 for key in leaves if str(key) not in explained)
    lost = pd.DataFrame({"grp": dels["grp"].astype(str), "key": keys})[~is_explained].drop_duplicates()
    if len(lost):
        # A stale second number of a key that stays in the group is tidying, not a loss.
        staying = desired_members.loc[_is_in(desired_members["key"], lost["key"]), ["grp", "key"]].astype(str)
        lost = lost[~pd.MultiIndex.from_frame(lost).isin(pd.MultiIndex.from_frame(staying))]
    per_group = lost.groupby("grp")["key"].size()
    if not len(per_group):
        return explained, vanished, ()
    known_per_group = known.contacts_per_group(renames)
    return (
        explained,
        vanished,
        tuple(GroupLoss(str(g), int(n), int(known_per_group.get(str(g), n))) for g, n in per_group.items()),
    )


def check_guard(plan: Plan, options: PlanOptions) -> Guard:
    """The deletion guard's verdict on ``plan``: which deletes to hold, and why.

    Only what vanished counts: contacts gone from the export, members gone from a group.
    A removal the mapping's filter explains (an opt-out) never counts and is never held,
    save when the export holds no contact at all: then every delete waits. The rule for
    small lists is in docs/design.md, "Deletion guard".
    """
    reasons: list[str] = []
    empty = plan.desired_contacts == 0 and plan.known_contacts > 0 and not options.allow_empty
    if empty:
        reasons.append(f"the export holds no usable contact but the account holds {plan.known_contacts}")
    if plan.vanished_contacts and _over(plan.vanished_contacts, plan.known_contacts, options):
        reasons.append(
            f"{plan.vanished_contacts} of {plan.known_contacts} known contacts vanished from the export "
            f"({plan.vanished_contacts / max(plan.known_contacts, 1):.0%})"
        )
    for loss in plan.group_losses:
        if _over(loss.vanished, loss.known, options):
            share = loss.vanished / max(loss.known, 1)
            reasons.append(f"group {loss.group!r} lost {loss.vanished} of its {loss.known} members ({share:.0%})")
    if not reasons:
        return Guard()
    losing = {loss.group for loss in plan.group_losses}
    held = tuple(
        op
        for op in plan.operations
        if (op.kind is OpKind.CONTACT_DEL and (empty or op.key not in plan.explained_keys))
        or (op.kind is OpKind.GROUP_DEL and (empty or op.groups[0] in losing))
    )
    if not held:  # nothing to hold (mode: upsert never deletes): nothing to alert on
        return Guard()
    return Guard(tuple(reasons), held, _release(plan, empty, over=len(reasons) > empty))


def _over(vanished: int, known: int, options: PlanOptions) -> bool:
    """True when ``vanished`` of ``known`` is more than the options allow."""
    if options.max_delete_count is not None:
        return vanished > options.max_delete_count
    if options.max_delete is None:
        return False
    return vanished > options.min_vanished and vanished > options.max_delete * known


def _release(plan: Plan, empty: bool, over: bool) -> str:
    """How to release the held deletes: ``--allow-empty``, and the exact ``--max-delete``
    count that lets every vanished contact and member through."""
    figure = max([plan.vanished_contacts, *(loss.vanished for loss in plan.group_losses)])
    options = (["--allow-empty"] if empty else []) + ([f"--max-delete {figure}"] if over else [])
    return (
        "if the export is broken, fix it and run again (nothing was deleted meanwhile); "
        f"if these removals are right, release them with {' '.join(options)}"
    )


def parse_max_delete(text: str) -> PlanOptions:
    """``--max-delete``: a count (``500``), a share (``25%``) or ``none``."""
    text = text.strip().lower()
    if text == "none":
        return PlanOptions(max_delete=None)
    if text.endswith("%"):
        return PlanOptions(max_delete=float(text[:-1]) / 100)
    return PlanOptions(max_delete=None, max_delete_count=int(text))
