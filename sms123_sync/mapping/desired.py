"""From a table of cells and a mapping to the desired state of the account.

The desired state is columnar: one frame of contacts (one row per person, with its
number and fields) and one frame of memberships (key, group, contact): one per (group,
number) record, as the API keeps them. Rows that cannot be used become
:class:`~sms123_sync.mapping.problems.Problem` rejects; oddities that do not stop a row
(a bad date, a duplicate, a shared number, an over-long value) become warnings.

The contact key is the mapping's identity column when it has one (with ``contacts:``,
the identity then "/" and the person's phone column), else the number. People who share
a number each keep their fields in the groups where they are alone; where they meet,
one of them gives the record its fields (docs/design.md, "Shared numbers").
Pure: no file, no network.
"""

from __future__ import annotations

import contextvars
import queue
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sms123_sync.contact import FIELD_MAX_LENGTH, FIELD_NAMES
from sms123_sync.errors import InputError
from sms123_sync.mapping.keyset import KeySet
from sms123_sync.mapping.model import (
    FALSE_WORDS,
    TRUE_WORDS,
    Fields,
    FilterRule,
    FromColumn,
    FromTemplate,
    FromValue,
    GroupColumn,
    Mapping,
)
from sms123_sync.mapping.normalize import (
    CHOSEN,
    INVALID,
    NO_NOTE,
    REFUSED,
    TYPE_LABELS,
    PhoneChoices,
    choose_in_cell,
    clean_text_array,
    datea_array,
    distinct_codes,
    empty_dates,
    may_have_own_reason,
    normalize_group,
    normalize_text,
    phone_choices,
    plain_integers,
    plain_reason,
    read_phone_cell,
    text_array,
    why_invalid,
)
from sms123_sync.mapping.problems import Problem, ProblemCode, ProblemTable
from sms123_sync.memory import paused_collector
from sms123_sync.sources import SourceTable

GROUP_SEPARATOR = "--"
#: What people write in a second phone column to say "the same number as the first"
#: (compared without accents, case or dots): that person gets no contact of their own.
SAME_AS_BEFORE = frozenset(
    {"idem", "id", "meme", "meme numero", "meme no", "meme n", "meme tel", "meme telephone", "pareil", "same", "ditto"}
)


@dataclass(frozen=True)
class DesiredState:
    """What the account should hold, according to the export."""

    # key, numero, kind, row, fhash, nom … v3: one row per person. With an identity, one
    # per key; without, the key is the number, and rows sharing it in different groups
    # are one contact per group they give their fields to.
    contacts: pd.DataFrame
    # key, group, and ``contact``, the row in ``contacts`` that gives the record its fields:
    # one row per (group, number) record the account should hold. A frame without
    # ``contact`` (built by hand) takes the contact of each key.
    memberships: pd.DataFrame
    identity: bool = False
    # Keys and numbers of rejected rows: never deleted. From an export, a KeySet (held in
    # Arrow); any set of str will do.
    protected: AbstractSet[str] = field(default_factory=frozenset)
    mode: str = "mirror"
    account: str = "shared"
    # Keys of rows the mapping's filter drops (an opt-out, a withdrawn consent): still in the
    # export, so their removal is explained and never counts against the deletion guard.
    filtered_out: frozenset[str] = field(default_factory=frozenset)

    @property
    def groups(self) -> list[str]:
        return sorted(self.memberships["group"].astype(str).unique().tolist())


@dataclass(frozen=True)
class Stats:
    """Counts a user reads first."""

    rows_read: int
    filtered_out: int
    rejected: int
    merged_duplicates: int
    contacts: int
    groups: int
    memberships: int


@dataclass(frozen=True)
class DesiredResult:
    """What reading an export gave: the desired state, the rows rejected, the warnings, counts."""

    state: DesiredState
    rejects: Sequence[Problem]  # a ProblemTable from an export
    warnings: list[Problem]
    stats: Stats


def fields_hash(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit digest of each row's seven fields, for cheap change detection.

    Object columns are taken to hold text already (every caller fills gaps with ""):
    hashing them as they are gives the same digest as their ``str`` form, 0.4 s sooner
    at a million rows.
    """
    if not len(frame):
        return np.array([], dtype=np.int64)
    columns = frame[list(FIELD_NAMES)]
    if not all(pd.api.types.is_object_dtype(dtype) for dtype in columns.dtypes):
        columns = columns.astype(str)
    hashed = pd.util.hash_pandas_object(columns, index=False)
    return np.asarray(hashed.to_numpy(dtype=np.uint64).view(np.int64))


def _taken_rows(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """The rows of ``frame`` at ``positions``, numbered from 0."""
    return frame.take(positions).reset_index(drop=True)


def _usable_digests(values: pd.DataFrame, usable: np.ndarray) -> np.ndarray:
    """:func:`fields_hash` of the usable people's fields (a digest is a row's alone).

    Hashing costs about twice what taking the rows does: when many people are rejected
    (an export of rejects), only the usable ones are hashed; else every row is.
    """
    if not len(usable) or usable.mean() >= _HASH_ALL_FROM:
        digests: np.ndarray = fields_hash(values)[usable]
        return digests
    return fields_hash(values[usable])


# The share of usable people from which hashing every row beats taking the usable ones first.
_HASH_ALL_FROM = 0.8


def _cell(series: pd.Series, position: int | np.integer) -> str:
    """One cell as text, by position."""
    value = series.iloc[int(position)]
    return "" if value is None else str(value)


def filter_mask(frame: pd.DataFrame, rules: list[FilterRule]) -> np.ndarray:
    """True for rows every rule keeps. ``matches`` searches (use ^…$ to anchor)."""
    return apply_filter(frame, rules).keep


@dataclass(frozen=True)
class FilterOutcome:
    """What the filter did: the rows kept, how many rows each rule removed (of those the
    rules before it kept), and the positions of cells an ``is:`` rule read as neither yes
    nor no, with the rule's index."""

    keep: np.ndarray
    removed: list[int]
    unreadable: list[tuple[int, int]]


def apply_filter(frame: pd.DataFrame, rules: list[FilterRule]) -> FilterOutcome:
    """Runs the filter rules in order, counting what each removes."""
    keep = np.ones(len(frame), dtype=bool)
    removed: list[int] = []
    unreadable: list[tuple[int, int]] = []
    for index, rule in enumerate(rules):
        cells = frame[rule.column].fillna("").astype(str).str.strip()
        op = rule.operator
        if op == "equals":
            ok = cells == str(rule.equals)
        elif op == "not_equals":
            ok = cells != str(rule.not_equals)
        elif op == "in":
            ok = cells.isin([str(v) for v in rule.in_ or []])
        elif op == "not_in":
            ok = ~cells.isin([str(v) for v in rule.not_in or []])
        elif op == "empty":
            ok = (cells == "") == bool(rule.empty)
        elif op == "not_empty":
            ok = (cells != "") == bool(rule.not_empty)
        elif op == "is":
            ok, neither = _yes_or_no(cells, bool(rule.is_))
            unreadable.extend((int(i), index) for i in np.flatnonzero(neither & keep))
        else:
            # RE2 through Arrow, never pandas' fallback to Python's backtracking engine: the
            # mapping refuses what RE2 cannot run, so a pattern takes linear time per cell.
            found = pc.match_substring_regex(text_array(cells), str(rule.matches))
            ok = pd.Series(found.to_numpy(zero_copy_only=False), index=cells.index)
        holds = ok.fillna(False).to_numpy(dtype=bool)
        removed.append(int((keep & ~holds).sum()))
        keep &= holds
    return FilterOutcome(keep, removed, unreadable)


def _yes_or_no(cells: pd.Series, wanted: bool) -> tuple[pd.Series, np.ndarray]:
    """Whether each cell says ``wanted`` (TRUE/FALSE, Oui/Non, Yes/No, Vrai/Faux, 1/0, x or
    empty), and which cells say neither: those never hold, and are warned about."""
    folded = cells.str.casefold()
    yes = folded.isin(TRUE_WORDS)
    no = folded.isin(FALSE_WORDS)
    return (yes if wanted else no), ~(yes | no).to_numpy(dtype=bool)


def _filter_warnings(
    frame: pd.DataFrame, rules: list[FilterRule], outcome: FilterOutcome, table: SourceTable
) -> list[Problem]:
    """A warning per cell an ``is:`` rule could not read, and one when no row is left."""
    warnings = []
    for position, index in outcome.unreadable:
        rule = rules[index]
        value = _cell(frame[rule.column], position)
        message = (
            f"filter[{index}] reads this column as yes or no, and {value!r} is neither "
            "(yes: TRUE, Oui, Yes, Vrai, 1, x; no: FALSE, Non, No, Faux, 0, empty): the row is left out"
        )
        warnings.append(Problem(ProblemCode.NOT_A_BOOLEAN, table.row_number(position), rule.column, value, message))
    if rules and len(frame) and not outcome.keep.any():
        counts = "; ".join(
            f"filter[{i}] ({rule.column} {_rule_text(rule)}) removed {count}"
            for i, (rule, count) in enumerate(zip(rules, outcome.removed, strict=True))
        )
        message = f"the filter keeps none of the {len(frame)} rows: {counts}; check the rules against the file"
        culprit = next(i for i, count in enumerate(outcome.removed) if count)
        warnings.append(
            Problem(ProblemCode.FILTER_KEEPS_NOTHING, max(table.first_row - 1, 1), rules[culprit].column, "", message)
        )
    return warnings


def _rule_text(rule: FilterRule) -> str:
    """A rule as the user wrote it: ``is: true``, ``equals: 'Oui'``."""
    op = rule.operator
    value = getattr(rule, {"in": "in_", "is": "is_"}.get(op, op))
    shown = str(value).lower() if isinstance(value, bool) else repr(value)
    return f"{op}: {shown}"


def _kept_rows(frame: pd.DataFrame, columns: list[str], keep: np.ndarray) -> pd.DataFrame:
    """The rows the filter keeps, of the columns the mapping reads.

    Text columns (every CSV column) are filtered in Arrow, in half the time pandas takes;
    Excel columns can mix types (dates, numbers) and stay with pandas.
    """
    chosen = frame[columns]
    if keep.all():
        return chosen.reset_index(drop=True)
    dtypes = set(chosen.dtypes)
    text = dtypes.pop() if len(dtypes) == 1 else None
    if isinstance(text, pd.StringDtype) and text.storage == "pyarrow":
        table = pa.Table.from_pandas(chosen, preserve_index=False).filter(pa.array(keep))
        kept: pd.DataFrame = table.to_pandas(types_mapper=lambda _: text)
        return kept
    return chosen[keep].reset_index(drop=True)


def _field_columns(people: list[Fields]) -> set[str]:
    """The columns the people's seven fields read (columns, dates, templates)."""
    return {column for person in people for column in person.field_columns()}


def _judged_columns(mapping: Mapping) -> set[str]:
    """The columns the main thread judges: phones and groups (the identity is cleaned
    on the second core)."""
    columns = {column for person in mapping.people for column in person.phone_columns}
    return columns | {source.column for source in mapping.groups.sources()}


def _kept_identity(
    frame: pd.DataFrame, mapping: Mapping, keep: np.ndarray
) -> tuple[pd.Series | None, np.ndarray | None]:
    """The identity of each kept row, cleaned, and its code (:func:`_codes`); (None, None)
    without an identity."""
    if not mapping.identity:
        return None, None
    column = mapping.identity
    identity: pd.Series = clean_text_array(text_array(_kept_rows(frame, [column], keep)[column])).to_pandas()
    return identity, _codes(identity)


def _kept_fields(
    frame: pd.DataFrame, mapping: Mapping, keep: np.ndarray
) -> list[tuple[pd.DataFrame, dict[str, pd.Series], dict[str, np.ndarray]]]:
    """:func:`_field_values` of each person, on the rows the filter keeps."""
    sub = _kept_rows(frame, sorted(_field_columns(mapping.people)), keep)
    return [_field_values(sub, person) for person in mapping.people]


def _template(frame: pd.DataFrame, template: str, cleaned: dict[str, pa.Array] | None = None) -> pa.Array | str:
    """A field built from a template over columns: an Arrow array, or a constant.
    ``cleaned`` holds the columns the other fields cleaned already, and takes these."""
    cleaned = {} if cleaned is None else cleaned
    parts: list[pa.Array | str] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal and parts and isinstance(parts[-1], str):
            parts[-1] += literal  # "{{" splits the text in two literals: one constant
        elif literal:
            parts.append(literal)
        if name:
            if name not in cleaned:
                cleaned[name] = clean_text_array(text_array(frame[name]))
            parts.append(cleaned[name])
    if not parts:
        return ""
    if len(parts) == 1 and isinstance(parts[0], str):
        return normalize_text(parts[0])
    joined = pc.binary_join_element_wise(*parts, "") if len(parts) > 1 else parts[0]
    if isinstance(joined, str):
        return joined
    # The columns are clean (trimmed, single spaces, no controls): when the text between
    # them is clean too, only a row with an empty column can need cleaning ("{CP} {Ville}"
    # without a postal code starts with a space).
    skeleton = "".join(part if isinstance(part, str) else "x" for part in parts)
    if normalize_text(skeleton) != skeleton:
        return clean_text_array(joined)
    empty = np.zeros(len(joined), dtype=bool)
    for part in parts:
        if not isinstance(part, str):
            empty |= np.asarray(pc.equal(pc.utf8_length(part), 0).fill_null(True))
    if not empty.any():
        return joined
    return pc.replace_with_mask(joined, pa.array(empty), clean_text_array(joined.filter(pa.array(empty))))


def _field_values(
    frame: pd.DataFrame, person: Fields
) -> tuple[pd.DataFrame, dict[str, pd.Series], dict[str, np.ndarray]]:
    """The seven fields per row, the raw cells of ``datea`` for warnings, and each
    text field's length in characters.

    The fields stay Arrow strings end to end: a million Python string objects per
    column cost more time to build than all the cleaning, and three times the memory.
    """
    values: dict[str, pa.Array] = {}
    raw_dates: dict[str, pd.Series] = {}
    lengths: dict[str, np.ndarray] = {}
    cleaned: dict[str, pa.Array] = {}  # each column cleaned once, for fields and templates
    for name in FIELD_NAMES:
        src = person.sources().get(name)
        text: pa.Array | str
        if src is None:
            text = ""
        elif isinstance(src, FromValue):
            text = src.value
        elif isinstance(src, FromTemplate):
            text = _template(frame, src.template, cleaned)
        else:
            column = src if isinstance(src, str) else src.column
            fmt = src.format if isinstance(src, FromColumn) else None
            if name == "datea":
                raw_dates[column] = frame[column]
                values[name] = pc.fill_null(datea_array(frame[column], fmt), "")
                continue
            if column not in cleaned:
                cleaned[column] = clean_text_array(text_array(frame[column]))
            text = cleaned[column]
        if isinstance(text, str):
            values[name] = pa.array([text], pa.string()).take(pa.array(np.zeros(len(frame), dtype=np.int64)))
            lengths[name] = np.full(len(frame), len(text))
        else:
            values[name] = text
            lengths[name] = pc.utf8_length(text).to_numpy(zero_copy_only=False)
    table: pd.DataFrame = pa.table(values).to_pandas()
    return table.set_axis(frame.index), raw_dates, lengths


def _cell_groups(cell: str, source: GroupColumn) -> list[str]:
    """The group names one cell holds: split on the column's separator, each value cut to
    the level the mapping keeps (``Bénévoles / Cuisine`` → ``Cuisine`` for ``last``)."""
    if not cell:
        return []
    values = re.split(re.escape(source.separator), cell) if source.separator else [cell]
    if source.level_separator and source.level != "full":
        levels = [[part for part in value.split(source.level_separator) if part.strip()] for value in values]
        values = [parts[0 if source.level == "first" else -1] for parts in levels if parts]
    return [normalize_group(v) for v in values]


def _finish_groups(names: list[str], mapping: Mapping) -> tuple[tuple[str, ...], str | None]:
    """``names`` without the dropped ones, renamed, with ``always``; or the offending name."""
    spec = mapping.groups
    dropped = {normalize_group(d).casefold() for d in spec.drop}
    names = [spec.rename.get(n, n) for n in names if n and n.casefold() not in dropped] + list(spec.always)
    for name in names:
        if GROUP_SEPARATOR in name:
            return (), name
    return tuple(dict.fromkeys(normalize_group(n) for n in names if n)), None


@dataclass(frozen=True)
class _RowGroups:
    """The groups of every row: ``codes[i]`` indexes ``parsed`` (each distinct combination
    of group cells is judged once); ``cells`` and ``column`` are for messages."""

    codes: np.ndarray
    parsed: list[tuple[tuple[str, ...], str | None]]
    cells: pd.Series
    column: str


def _row_groups(sub: pd.DataFrame, mapping: Mapping) -> _RowGroups:
    sources = mapping.groups.sources()
    if not sources:
        return _RowGroups(
            np.zeros(len(sub), dtype=np.intp), [_finish_groups([], mapping)], pd.Series("", index=sub.index), "groups"
        )
    columns = [sub[s.column].fillna("").astype(str) for s in sources]
    factorized = [pd.factorize(c, sort=False) for c in columns]
    names = [
        [_cell_groups(str(u), source) for u in uniques]
        for (_, uniques), source in zip(factorized, sources, strict=True)
    ]
    if len(sources) == 1:
        codes = factorized[0][0]
        parsed = [_finish_groups(n, mapping) for n in names[0]]
        return _RowGroups(codes, parsed, columns[0], sources[0].column)
    # Several columns: each distinct combination of their cells is one code.
    stacked = np.column_stack([c for c, _ in factorized])
    combos, codes = np.unique(stacked, axis=0, return_inverse=True)
    parsed = [_finish_groups([g for j, k in enumerate(combo) for g in names[j][k]], mapping) for combo in combos]
    cells = pd.Series([" | ".join(parts) for parts in zip(*columns, strict=True)], index=sub.index, dtype=object)
    return _RowGroups(codes.reshape(-1), parsed, cells, ", ".join(s.column for s in sources))


@dataclass(frozen=True)
class _Phones:
    """One person's number per kept row, chosen among their phone columns, and the
    problems met doing so."""

    digits: pd.Series  # the chosen number, or None
    kinds: pd.Series
    refused: pd.Series  # a rejected row's number of a refused type (kept out of deletions), or None
    bad: np.ndarray  # rejected: a reject names the cell
    absent: np.ndarray  # no contact of this person in this row, and no reject (several people only)
    rejects: Callable[[], ProblemTable]  # builds the rejects table (pure: any thread may run it)
    warnings: list[Problem]


# Rows of a phone column judged at a time when a second core may share the column.
_PHONE_SLICE = 1 << 16


def _column_choices(
    values: pa.Array, region: str, types: frozenset[str], helper: ThreadPoolExecutor | None
) -> PhoneChoices:
    """:func:`phone_choices` of a column, judged slice by slice; the ``helper`` thread takes
    slices too once it is free.

    It is free only after the fields: on an ordinary export the main thread has judged
    every slice by then, and the helper finds none left. In an export of rejects the
    phones take twice as long and it judges the last ones. A cell's verdict is its own,
    so the column is the same whoever judges which slice.
    """
    if helper is None or len(values) < 2 * _PHONE_SLICE:
        return phone_choices(values, region, types)
    starts = range(0, len(values), _PHONE_SLICE)
    results: list[Future[PhoneChoices]] = [Future() for _ in starts]
    pending: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(starts)):
        pending.put(i)

    def judge() -> None:
        while True:
            try:
                i = pending.get_nowait()
            except queue.Empty:
                return
            try:
                results[i].set_result(phone_choices(values.slice(starts[i], _PHONE_SLICE), region, types))
            except Exception as exc:  # re-raised below, on the main thread (Ctrl-C stops it at once)
                results[i].set_exception(exc)

    helper.submit(judge)
    judge()
    return PhoneChoices.joined([result.result() for result in results])  # waits only for slices the helper holds


def _choose_phones(
    sub: pd.DataFrame,
    person: Fields,
    mapping: Mapping,
    rows: np.ndarray,
    *,
    several: bool,
    helper: ThreadPoolExecutor | None = None,
) -> _Phones:
    """The first number of an accepted type, in column order then in the order a cell lists
    them; a row with none is a reject that says why (``landline``, ``invalid-phone``,
    ``missing-value``). Column work is vectorised; Python runs per problem row only.

    With several people per row, a person whose cells are empty or say "same as before"
    (``idem``) has no contact of their own and no reject: :func:`build_desired` rejects
    the row only when nobody in it has a number.
    """
    columns = person.phone_columns
    region, types = mapping.phone.region, mapping.phone.accepted
    raw = [text_array(sub[column]) for column in columns]
    found = [_column_choices(values, region, types, helper) for values in raw]
    n = len(sub)
    status = np.stack([f.status for f in found]) if n else np.zeros((len(columns), 0), dtype=np.int8)
    chosen = status == CHOSEN
    has = chosen.any(axis=0)
    source = chosen.argmax(axis=0)  # the preferred column that gave the number
    digits, kinds = found[-1].digits, found[-1].kinds
    for f in reversed(found[:-1]):
        ok = pa.array(f.status == CHOSEN)
        digits, kinds = pc.if_else(ok, f.digits, digits), pc.if_else(ok, f.kinds, kinds)
    # Each row without a number is reported at one column: its first refused number, else its
    # first invalid cell, else the first column (all empty). Cells are gathered per column
    # in one take, not one Arrow scalar per row.
    missing = np.flatnonzero(~has)
    refused_rows = (status[:, missing] == REFUSED).any(axis=0)
    invalid_rows = (status[:, missing] == INVALID).any(axis=0)
    at = np.where(
        refused_rows,
        (status[:, missing] == REFUSED).argmax(axis=0),
        np.where(invalid_rows, (status[:, missing] == INVALID).argmax(axis=0), 0),
    )
    # The cells of every such row (the reject shows them); numbers and types only for the
    # refused ones (their reject names them), a fifth of the rows in a file of rejects.
    values = np.full(len(missing), "", dtype=object)
    first = np.full(len(missing), None, dtype=object)
    kind = np.full(len(missing), None, dtype=object)
    for j in distinct_codes(at):
        where = np.flatnonzero(at == j)
        values[where] = raw[j].take(pa.array(missing[where])).to_numpy(zero_copy_only=False)
        where = where[refused_rows[where]]
        taken = pa.array(missing[where])
        first[where] = found[j].first.take(taken).to_numpy(zero_copy_only=False)
        kind[where] = found[j].first_kinds.take(taken).to_numpy(zero_copy_only=False)
    refused = np.full(n, None, dtype=object)
    refused[missing[refused_rows]] = first[refused_rows]

    absent = np.zeros(n, dtype=bool)
    bad = ~has
    if several:  # a person with nothing written, or "same as before", is absent, not rejected
        blank = np.array([not v.strip() or same_as_before(v) for v in values.tolist()], dtype=bool)
        leave = ~refused_rows & blank
        absent[missing[leave]], bad[missing[leave]] = True, False
    else:
        leave = np.zeros(len(missing), dtype=bool)
    judged = ~leave
    rejects = partial(
        _phone_rejects,
        columns,
        region,
        types,
        rows[missing][judged],
        at[judged],
        values[judged],
        first[judged],
        kind[judged],
        refused_rows[judged],
        invalid_rows[judged],
    )
    warnings: list[Problem] = []
    notes = np.zeros(n, dtype=np.int8)
    for j, f in enumerate(found):
        notes[source == j] = f.note[source == j]
    for i in np.flatnonzero(has & (notes != NO_NOTE)):
        warnings.append(
            _cell_warning(columns[int(source[i])], raw[int(source[i])][int(i)].as_py(), int(rows[i]), mapping)
        )
    refused_numbers = pd.Series(refused, dtype=object)
    return _Phones(digits.to_pandas(), kinds.to_pandas(), refused_numbers, bad, absent, rejects, warnings)


def _object_array(items: list[object]) -> np.ndarray:
    """An object array holding ``items`` themselves (``np.array`` would turn a str enum into str)."""
    array = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        array[i] = item
    return array


# A phone reject's code, by verdict: nothing written, invalid, a refused type.
_CODES_BY_VERDICT = _object_array([ProblemCode.MISSING_VALUE, ProblemCode.INVALID_PHONE, ProblemCode.LANDLINE])


def _phone_rejects(
    columns: list[str],
    region: str,
    types: frozenset[str],
    rows: np.ndarray,
    at: np.ndarray,
    values: np.ndarray,
    first: np.ndarray,
    kind: np.ndarray,
    refused: np.ndarray,
    invalid: np.ndarray,
) -> ProblemTable:
    """The rejects of rows without a usable number, built column by column: a landline
    (its type named), an invalid number (why, when it carries a country code), or
    nothing written. Python runs only for a number written with a country code."""
    m = len(rows)
    codes = _CODES_BY_VERDICT[np.where(refused, 2, np.where(invalid, 1, 0))]
    empty = "the phone number is empty" if len(columns) == 1 else "every phone column is empty"
    messages = np.full(m, empty, dtype=object)
    messages[invalid] = plain_reason(region)
    own = invalid & ~refused
    if own.any():
        own &= may_have_own_reason(pa.array(values, pa.string()), region)
        for k in np.flatnonzero(own).tolist():
            messages[k] = why_invalid(values[k], region)
    where = np.flatnonzero(refused)
    if len(where):  # "<number> is <type label>, …": joined in Arrow, a fifth of a file of rejects
        wanted = ", ".join(sorted(types))
        numbers = pc.fill_null(pa.array(first[where], pa.string()), "")
        kinds = pc.dictionary_encode(pc.fill_null(pa.array(kind[where], pa.string()), ""))
        names = kinds.dictionary.to_pylist()
        labels = pa.array([TYPE_LABELS.get(name, name) for name in names], pa.string()).take(kinds.indices)
        types_ = kinds.dictionary.take(kinds.indices)
        worded = pc.binary_join_element_wise(
            numbers,
            " is ",
            labels,
            f", which cannot receive SMS (the mapping accepts: {wanted}); put the person's mobile in the CRM, or add ",
            types_,
            " to phone.types for voice campaigns",
            "",
        )
        messages[where] = worded.to_numpy(zero_copy_only=False)
    written = np.where(refused | invalid, values, "")  # an empty reject shows no value
    names = np.array(columns, dtype=object)[at] if m else np.empty(0, dtype=object)
    return ProblemTable(codes.tolist(), rows.tolist(), names.tolist(), written.tolist(), messages.tolist())


def _cell_warning(column: str, value: str, row: int, mapping: Mapping) -> Problem:
    """The warning of a cell that gave a number but held more: other numbers, or text."""
    region, types = mapping.phone.region, mapping.phone.accepted
    choice = choose_in_cell(value, region, types)
    cell = read_phone_cell(value, region)
    kept = choice.chosen.digits if choice.chosen else ""
    others = [p for p in cell.numbers if p.digits != kept]
    extra = [p.digits for p in others if p.kind in types]
    if extra:
        message = (
            f"the cell holds {len(extra) + 1} numbers: {kept} is synced, {', '.join(extra)} not "
            "(one contact per row); give the other person a row of their own"
        )
        return Problem(ProblemCode.EXTRA_PHONE, row, column, value, message)
    ignored = "".join(f", {p.digits} ({TYPE_LABELS.get(p.kind, p.kind)})" for p in others)
    message = f"kept {kept} and ignored the rest of the cell{ignored}; tidy the cell in the CRM to silence this"
    return Problem(ProblemCode.PHONE_TEXT, row, column, value, message)


def build_desired(table: SourceTable, mapping: Mapping) -> DesiredResult:
    """Turns the export into the desired state, rejects and warnings (with Python's cyclic
    collector paused: :func:`sms123_sync.memory.paused_collector`)."""
    with paused_collector():
        return _build_desired(table, mapping)


def _build_desired(table: SourceTable, mapping: Mapping) -> DesiredResult:
    """Turns the export into the desired state, rejects and warnings.

    Each kept row makes one person per entry of ``mapping.people`` (one, unless the
    mapping lists ``contacts``). People are judged by their phone, rows by their identity
    and groups; then the people left become contacts, and those sharing a number are
    settled group by group.
    """
    frame = table.frame.reset_index(drop=True)
    outcome = apply_filter(frame, mapping.filter)
    # Work that needs nothing the phones decide runs on a second core meanwhile: the
    # identity and the fields, later the rejects' wording, the numbers' codes and the
    # digests (Arrow's kernels and pandas' hashing release the GIL). The two sides share
    # no state: the values are the same either way.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desired")
    try:
        return _build_with(pool, table, mapping, frame, outcome)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # an error: queued work is dropped


def _build_with(
    pool: ThreadPoolExecutor, table: SourceTable, mapping: Mapping, frame: pd.DataFrame, outcome: FilterOutcome
) -> DesiredResult:
    """:func:`_build_desired` with ``pool``, the second core's one thread."""
    rows_read = len(frame)
    keep = outcome.keep
    people = mapping.people
    # The columns only the worker reads (identity, fields): the main thread filters the rest.
    elsewhere = (_field_columns(people) | {mapping.identity or ""}) - _judged_columns(mapping)
    identity_job = pool.submit(contextvars.copy_context().run, _kept_identity, frame, mapping, keep)
    field_parts = pool.submit(contextvars.copy_context().run, _kept_fields, frame, mapping, keep)
    sub = _kept_rows(frame, [c for c in mapping.columns_used() if c not in elsewhere], keep)
    rows = table.row_numbers(np.flatnonzero(keep))
    warnings: list[Problem] = [*_left_out_warnings(table), *_filter_warnings(frame, mapping.filter, outcome, table)]
    verdicts, digits, kinds, refused, phone_warnings = _judge_phones(sub, people, mapping, rows, pool)
    # The phone rejects are worded on the second core, after the fields: half a million
    # of them in a file of rejects.
    phone_rejects = [pool.submit(make) for make in verdicts.tables]
    warnings.extend(phone_warnings)
    if len(people) > 1:
        warnings.extend(_same_number_in_row(digits, verdicts, people, rows))
        _reject_rows_without_phone(verdicts, people, rows)
    identity, identity_codes = identity_job.result()
    keys = _judge_identity(identity, mapping, people, rows, verdicts) if identity is not None else digits
    codes, parsed = _judge_groups(sub, mapping, rows, verdicts)
    # Every row is judged: what rejects leave behind is gathered on the second core too.
    rejects_job = pool.submit(_all_rejects, phone_rejects, list(verdicts.rejects))
    filtered_job = pool.submit(_filtered_keys, frame, mapping, ~keep)

    parts = field_parts.result()
    values = parts[0][0] if len(parts) == 1 else pd.concat([part[0] for part in parts], ignore_index=True)
    # Every verdict is in: the usable people's number codes and digests are made on the
    # second core now, while the persons and contacts are built here (0.1 s sooner at a
    # million rows than from the contacts); a contact takes its person's.
    usable = verdicts.usable()
    person_numbers = pool.submit(_codes, digits[usable])
    person_digests = pool.submit(_usable_digests, values, usable)
    for j, (person_values, raw_dates, lengths) in enumerate(parts):
        warnings.extend(_field_warnings(person_values, raw_dates, lengths, rows, verdicts.usable_of(j)))

    n, k = len(sub), len(people)
    persons = pd.DataFrame(
        {
            "key": keys,
            "numero": digits,
            "kind": kinds,
            "row": np.tile(rows, k),
            "pos": np.tile(np.arange(n), k),
            "entry": np.repeat(np.arange(k), n),
        },
        index=keys.index,
    )[usable]
    # One person a row: the keys are the identities, coded on the second core already.
    if identity_codes is not None and k == 1:
        persons["_key"] = identity_codes[usable]
    else:
        persons["_key"] = _codes(persons["key"])
    contacts, member_of, rank, merged_rows, chosen = _contacts_of(persons, bool(mapping.identity))
    # The contacts' fields are taken on the second core: the persons above are slim.
    contact_fields = pool.submit(_taken_rows, values, np.flatnonzero(usable)[chosen])
    used = None  # the contacts kept, when some are dropped
    if mapping.identity:
        warnings.extend(_duplicate_warnings(persons, mapping.identity))
    pairs = _membership_pairs(persons["pos"].to_numpy(), member_of, codes, parsed)
    pairs, shared = _settle_shared_numbers(pairs, contacts, rank, person_numbers.result()[chosen])
    if mapping.identity:
        warnings.extend(_shared_number_warnings(shared, contacts, people))
    else:
        warnings.extend(_same_number_warnings(shared, contacts, people))
        contacts, pairs, used = _drop_unused(contacts, pairs)
    merged = merged_rows + (0 if mapping.identity else len(set(shared["loser"].tolist())))
    memberships = _membership_frame(pairs, contacts)
    # Made here while the second core finishes the digests and fields: in an export of
    # rejects it is half a million keys, and the second core has more to do then.
    protected = _protected(keys, digits, refused, verdicts.bad)
    distinct_keys = len(contacts) if mapping.identity else len(distinct_codes(contacts["_key"].to_numpy()))
    fields = contact_fields.result()
    contacts = pd.concat(
        [
            contacts.drop(columns=["pos", "entry", "_key"]).reset_index(drop=True),
            fields if used is None else fields.take(used).reset_index(drop=True),
        ],
        axis=1,
    )
    digest = person_digests.result()[chosen]
    contacts["fhash"] = digest if used is None else digest[used]

    rejects, rejected_rows = rejects_job.result()
    warnings = sorted(dict.fromkeys(warnings), key=lambda p: p.row)  # a column shared by two people warns once
    state = DesiredState(
        contacts,
        memberships,
        bool(mapping.identity),
        protected,
        mapping.mode,
        mapping.account,
        filtered_job.result(),
    )
    stats = Stats(
        rows_read=rows_read,
        filtered_out=int(rows_read - keep.sum()),
        rejected=rejected_rows,
        merged_duplicates=merged,
        contacts=distinct_keys,
        groups=len(distinct_codes(pairs["group"].to_numpy())),  # names are distinct: so are their codes
        memberships=len(memberships),
    )
    return DesiredResult(state, rejects, warnings, stats)


def _all_rejects(phone_rejects: list[Future[ProblemTable]], later: list[Problem]) -> tuple[ProblemTable, int]:
    """Every reject in row order (the phones' first within a row), and how many rows."""
    rejects = ProblemTable.joined([*(job.result() for job in phone_rejects), later]).by_row()
    rows = np.fromiter(rejects.rows, dtype=np.int64, count=len(rejects))
    return rejects, int(np.count_nonzero(np.diff(rows)) + 1) if len(rows) else 0  # in row order


def _protected(keys: pd.Series, digits: pd.Series, refused: pd.Series, bad: np.ndarray) -> KeySet:
    """The keys and numbers of rejected people: a rejected row never deletes. A refused
    number (a landline the first release synced) is kept too: the user decides what to do
    with those contacts. Held in Arrow (:class:`KeySet`): half a million in an export of
    rejects, which ``validate`` never asks for one by one."""
    chosen = pa.array(bad)
    if pd.api.types.is_string_dtype(keys):
        own = text_array(keys).filter(chosen)
    else:  # a key column that is not text: each rejected key made text on its own
        own = pa.array(keys[bad & keys.notna().to_numpy()].astype(str).tolist(), pa.string())
    found = pa.concat_arrays([own, *(text_array(column).filter(chosen) for column in (digits, refused))])
    return KeySet(found.filter(pc.not_equal(found, "")))  # gaps are "" in text_array


def _filtered_keys(frame: pd.DataFrame, mapping: Mapping, dropped: np.ndarray) -> frozenset[str]:
    """The keys of the rows the filter drops, made as a kept row's keys are made (one per
    person of the row: the identity, ``identity/phone column`` for several, else the number)."""
    if not dropped.any():
        return frozenset()
    people = mapping.people
    keys: set[str] = set()
    if mapping.identity:
        # One column taken in Arrow: selecting the dropped rows of the whole frame cost more.
        column = text_array(frame[mapping.identity]).filter(pa.array(dropped))
        identities = [i for i in clean_text_array(column).to_pylist() if i]
        keys.update(identities if len(people) == 1 else (f"{i}/{p.phone_column}" for i in identities for p in people))
    else:
        dropped_rows = frame[list(mapping.columns_used())].loc[dropped].reset_index(drop=True)
        positions = np.zeros(len(dropped_rows), dtype=np.int64)  # only for messages, not kept here
        for person in people:
            chosen = _choose_phones(dropped_rows, person, mapping, positions, several=True)
            keys.update(str(k) for k in chosen.digits.dropna().tolist() if k)
    return frozenset(keys)


@dataclass
class _Verdicts:
    """What is known of each person of each kept row: person ``j`` of row ``i`` is at
    ``j * rows + i``. ``bad``: rejected, a reject names the cell; ``absent``: no contact
    and no reject (a row of several people where this one has no phone of their own)."""

    rows: int
    bad: np.ndarray
    absent: np.ndarray
    tables: list[Callable[[], ProblemTable]]  # build the phones' rejects, one table per person
    rejects: list[Problem] = field(default_factory=list)  # the rows rejected one by one after

    def usable(self) -> np.ndarray:
        result: np.ndarray = ~(self.bad | self.absent)
        return result

    def usable_of(self, entry: int) -> np.ndarray:
        return self.usable()[entry * self.rows : (entry + 1) * self.rows]

    def alive(self) -> np.ndarray:
        """Rows with a person still usable: a row is rejected once, like a row of one."""
        entries = len(self.bad) // self.rows if self.rows else 1
        return np.asarray(self.usable().reshape(entries, self.rows).any(axis=0), dtype=bool)

    def reject_row(self, i: int | np.integer, problem: Problem) -> None:
        self.rejects.append(problem)
        self.bad[int(i) :: self.rows] = True


def _judge_phones(
    sub: pd.DataFrame, people: list[Fields], mapping: Mapping, rows: np.ndarray, helper: ThreadPoolExecutor
) -> tuple[_Verdicts, pd.Series, pd.Series, pd.Series, list[Problem]]:
    """Every person's number (digits, kinds, a refused number), rejecting or leaving out
    the unusable ones, and the warnings of cells that held more than a number; ``helper``
    judges slices of the phone columns once it is free (:func:`_column_choices`)."""
    several = len(people) > 1
    phones = [_choose_phones(sub, person, mapping, rows, several=several, helper=helper) for person in people]
    verdicts = _Verdicts(
        len(sub),
        np.concatenate([p.bad for p in phones]),
        np.concatenate([p.absent for p in phones]),
        [p.rejects for p in phones],
    )
    warnings = [problem for p in phones for problem in p.warnings]
    if len(phones) == 1:
        return verdicts, phones[0].digits, phones[0].kinds, phones[0].refused, warnings
    digits = pd.concat([p.digits for p in phones], ignore_index=True)
    kinds = pd.concat([p.kinds for p in phones], ignore_index=True)
    refused = pd.concat([p.refused for p in phones], ignore_index=True)
    return verdicts, digits, kinds, refused, warnings


def _reject_rows_without_phone(verdicts: _Verdicts, people: list[Fields], rows: np.ndarray) -> None:
    """A row of several people where nobody has a number makes no contact: a reject."""
    nobody = verdicts.absent.reshape(len(people), verdicts.rows).all(axis=0)
    columns = ", ".join(repr(p.phone_column) for p in people)
    for i in np.flatnonzero(nobody):
        message = f"no phone number in any of the row's contact columns ({columns})"
        verdicts.reject_row(i, Problem(ProblemCode.MISSING_VALUE, int(rows[i]), people[0].phone_column, "", message))


def _judge_identity(
    identity: pd.Series, mapping: Mapping, people: list[Fields], rows: np.ndarray, verdicts: _Verdicts
) -> pd.Series:
    """Each person's key from the kept rows' cleaned ``identity``; a row without one is
    rejected.

    With several people per row, each needs an identity of their own: the row's, then
    "/" and the person's phone column (``1234/Téléphone mère``).
    """
    column = str(mapping.identity)
    for i in np.flatnonzero((identity == "").to_numpy() & verdicts.alive()):
        message = "the identity is empty; the row cannot be matched to a contact"
        verdicts.reject_row(i, Problem(ProblemCode.MISSING_VALUE, int(rows[i]), column, "", message))
    if len(people) == 1:
        return identity
    given = identity != ""
    keys: pd.Series = pd.concat(
        [identity.where(~given, identity + f"/{person.phone_column}") for person in people], ignore_index=True
    )
    return keys


def _judge_groups(
    sub: pd.DataFrame, mapping: Mapping, rows: np.ndarray, verdicts: _Verdicts
) -> tuple[np.ndarray, list[tuple[tuple[str, ...], str | None]]]:
    """Each row's code among the distinct group cells, and those cells' groups; a row
    whose cells name no group, or a group with ``--``, is rejected."""
    row_groups = _row_groups(sub, mapping)
    codes, parsed, cells, group_col = row_groups.codes, row_groups.parsed, row_groups.cells, row_groups.column
    # Judge each distinct cell once; visit only the rows whose cell is unusable.
    unusable = np.array([offending is not None or not groups for groups, offending in parsed], dtype=bool)
    for i in np.flatnonzero(unusable[codes] & verdicts.alive()):
        _, offending = parsed[codes[i]]
        if offending is not None:
            message = f"the group name {offending!r} contains '--', which the API uses between groups; rename it"
            problem = Problem(ProblemCode.GROUP_SEPARATOR, int(rows[i]), group_col, offending, message)
        else:
            message = "the row names no group (and the mapping has no 'always' group)"
            problem = Problem(ProblemCode.NO_GROUP, int(rows[i]), group_col, _cell(cells, i), message)
        verdicts.reject_row(i, problem)
    return codes, parsed


def same_as_before(cell: str) -> bool:
    """True for a cell that says "the same number as the contact before" (``idem``)."""
    folded = unicodedata.normalize("NFKD", cell).encode("ascii", "ignore").decode().lower()
    folded = " ".join(folded.replace(".", " ").split())
    return folded in SAME_AS_BEFORE or cell.strip() in ('"', "〃", "=")


def _same_number_in_row(
    digits: pd.Series, verdicts: _Verdicts, people: list[Fields], rows: np.ndarray
) -> list[Problem]:
    """Leaves out a person whose number an earlier person of the row has: one phone, one
    contact, with the earlier person's fields."""
    n = len(rows)
    number = digits.to_numpy(dtype=object)
    found: list[Problem] = []
    for j in range(1, len(people)):
        for before in range(j):
            usable = verdicts.usable_of(j) & verdicts.usable_of(before)
            same = usable & (number[j * n : (j + 1) * n] == number[before * n : (before + 1) * n])
            for i in np.flatnonzero(same):
                verdicts.absent[j * n + i] = True
                message = (
                    f"same number as {people[before].phone_column!r} in this row: one contact, "
                    f"with the fields of {people[before].phone_column!r}"
                )
                found.append(
                    Problem(ProblemCode.SHARED_NUMBER, int(rows[i]), people[j].phone_column, number[j * n + i], message)
                )
    return found


def _field_warnings(
    values: pd.DataFrame,
    raw_dates: dict[str, pd.Series],
    lengths: dict[str, np.ndarray],
    rows: np.ndarray,
    usable: np.ndarray,
) -> list[Problem]:
    """Unreadable dates and over-long fields of one person, on the rows that make a contact."""
    found: list[Problem] = []
    for column, raw in raw_dates.items():
        undated = np.flatnonzero((values["datea"] == "").to_numpy() & usable)
        # Only the cells that gave no date are looked at again: most rows have one.
        for i in undated[~empty_dates(raw.iloc[undated])]:
            message = "unreadable date: the contact is kept without a birth date"
            found.append(Problem(ProblemCode.BAD_DATE, int(rows[i]), column, str(_cell(raw, i)), message))
    for name, limit in FIELD_MAX_LENGTH.items():
        too_long = lengths[name] > limit if name in lengths else np.zeros(len(values), dtype=bool)
        for i in np.flatnonzero(too_long & usable):
            message = f"{len(_cell(values[name], i))} characters; the API may cut {name} at {limit}"
            found.append(Problem(ProblemCode.TOO_LONG, int(rows[i]), name, _cell(values[name], i), message))
    return found


def _codes(values: pd.Series) -> np.ndarray:
    """An integer per value, equal where the values are: the pipeline's joins on keys and
    numbers run on these, not on a million strings each time."""
    array = text_array(values)
    integers = plain_integers(array)
    if integers is not None:  # numbers: their int64 hash in half the time of the strings'
        codes: np.ndarray = pd.factorize(integers)[0]
    else:
        codes = pc.dictionary_encode(array).indices.to_numpy(zero_copy_only=False)
    return codes.astype(np.int64)


def _last_of_each(codes: np.ndarray) -> np.ndarray:
    """For each position, the position of the last value with the same code."""
    last = np.zeros(int(codes.max(initial=-1)) + 1, dtype=np.int64)
    # Later positions overwrite earlier ones only through maximum: assignment order is not guaranteed.
    np.maximum.at(last, codes, np.arange(len(codes), dtype=np.int64))
    result: np.ndarray = last[codes]
    return result


def _contacts_of(persons: pd.DataFrame, identity: bool) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, int, np.ndarray]:
    """The contacts, each person's contact, each contact's rank, the rows merged away, and
    the person each contact is (its position in ``persons``).

    With an identity, a contact is an identity: its rows' groups are united and its last
    row gives the fields. Without, every person is a contact of its own, keyed by number;
    :func:`_settle_shared_numbers` decides which one each group's record takes.
    The rank orders contacts that meet on one (group, number): the lowest rank gives the
    record its fields — the lowest identity (``_key_ranks``), or without one the last row.
    ``persons["_key"]`` holds the keys' codes (:func:`_codes`).
    """
    if not identity:
        contacts = persons.reset_index(drop=True)
        order = contacts["row"].to_numpy(dtype=np.int64) * (int(contacts["entry"].to_numpy().max(initial=0)) + 1)
        rank = -(order + contacts["entry"].to_numpy(dtype=np.int64))
        everyone = np.arange(len(contacts))
        return contacts, everyone, rank, 0, everyone
    codes = persons["_key"].to_numpy()
    last = _last_of_each(codes) == np.arange(len(codes))
    contacts = persons[last].reset_index(drop=True)
    contact_of_code = np.zeros(int(codes.max(initial=-1)) + 1, dtype=np.int64)
    contact_of_code[codes[last]] = np.arange(len(contacts))
    return contacts, contact_of_code[codes], np.empty(0, dtype=np.int64), int((~last).sum()), np.flatnonzero(last)


def _key_ranks(contacts: pd.DataFrame, among: np.ndarray) -> np.ndarray:
    """The rank of each contact of ``among`` by key in text order (keys are unique)."""
    ranks: np.ndarray = pd.factorize(contacts["key"].to_numpy(dtype=object)[among], sort=True)[0]
    return ranks.astype(np.int64)


def _membership_pairs(
    positions: np.ndarray,
    member_of: np.ndarray,
    codes: np.ndarray,
    parsed: list[tuple[tuple[str, ...], str | None]],
) -> pd.DataFrame:
    """(contact, group) pairs of the given people, without repeats; integer work throughout.

    ``positions`` are the people's rows in the kept table, ``member_of`` their contacts.
    """
    group_names = sorted({g for groups, _ in parsed for g in groups})
    group_index = {g: i for i, g in enumerate(group_names)}
    row_codes = codes[positions] if len(positions) else np.empty(0, dtype=np.int64)
    order = np.argsort(row_codes, kind="stable")
    counts = np.bincount(row_codes, minlength=len(parsed))
    bounds = np.concatenate([[0], np.cumsum(counts)])
    contact_parts: list[np.ndarray] = []
    group_parts: list[np.ndarray] = []
    for code, (groups, _) in enumerate(parsed):
        members = member_of[order[bounds[code] : bounds[code + 1]]]
        for group in groups:
            contact_parts.append(members)
            group_parts.append(np.full(len(members), group_index[group], dtype=np.int64))
    empty = pd.DataFrame({"contact": np.empty(0, np.int64), "group": np.empty(0, np.int64)})
    empty.attrs["groups"] = group_names
    if not contact_parts:
        return empty
    # One int64 per pair, sorted, repeats dropped: ten times faster than np.unique on pairs.
    width = max(len(group_names), 1)
    pairs = np.sort(np.concatenate(contact_parts).astype(np.int64) * width + np.concatenate(group_parts))
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = pairs[1:] != pairs[:-1]
    pairs = pairs[first]
    frame = pd.DataFrame({"contact": pairs // width, "group": pairs % width})
    frame.attrs["groups"] = group_names
    return frame


def _settle_shared_numbers(
    pairs: pd.DataFrame, contacts: pd.DataFrame, rank: np.ndarray, number: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One (group, number) record per number and group: the API holds no more.

    Where contacts sharing a number meet in a group, the one of lowest rank keeps the
    pair (``rank`` per contact; empty: by key, see ``_key_ranks``); the others lose it
    there and keep their pairs in the groups where they are alone. Returns the kept
    pairs and the lost ones (loser, winner, group). Only the records that several
    contacts claim are sorted: a night without shared numbers costs one hash pass.
    ``number`` holds the contacts' numbers as codes (:func:`_codes`).
    """
    contact = pairs["contact"].to_numpy()
    group = pairs["group"].to_numpy()
    width = int(group.max(initial=0)) + 1
    record = number[contact] * width + group
    claimed = np.flatnonzero(_repeated(record))
    if not len(claimed):
        return pairs, pd.DataFrame({"loser": [], "winner": [], "group": []}, dtype=np.int64)
    claimants = contact[claimed]
    if len(rank):
        claimant_rank = rank[claimants]
    else:
        unique, back = np.unique(claimants, return_inverse=True)
        claimant_rank = _key_ranks(contacts, unique)[back]
    order = claimed[np.lexsort((claimant_rank, record[claimed]))]
    ordered = record[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    winner_at = order[np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))]
    lost = order[~first]
    shared = pd.DataFrame({"loser": contact[lost], "winner": contact[winner_at[~first]], "group": group[lost]})
    keep = np.ones(len(pairs), dtype=bool)
    keep[lost] = False
    kept = pairs[keep].reset_index(drop=True)
    kept.attrs = pairs.attrs
    shared.attrs = pairs.attrs
    return kept, shared


def _repeated(values: np.ndarray) -> np.ndarray:
    """True where a value occurs more than once: a count per value when the values are
    dense codes (numbers × groups), a hash pass otherwise."""
    if len(values) and values.min() >= 0 and values.max() < 8 * len(values):
        result: np.ndarray = np.bincount(values)[values] > 1
        return result
    return np.asarray(pd.Series(values).duplicated(keep=False).to_numpy(), dtype=bool)


def _meetings(shared: pd.DataFrame) -> Iterator[tuple[int, int, str]]:
    """(loser, winner, the groups where they meet, quoted) for each pair of contacts that meet."""
    if not len(shared):
        return
    names = shared.attrs.get("groups", [])
    loser, winner, group = (shared[c].to_numpy(dtype=np.int64) for c in ("loser", "winner", "group"))
    order = np.lexsort((group, winner, loser))
    loser, winner, group = loser[order], winner[order], group[order]
    starts = np.flatnonzero(np.r_[True, (loser[1:] != loser[:-1]) | (winner[1:] != winner[:-1])])
    quoted = [repr(name) for name in names]
    for start, end in zip(starts.tolist(), [*starts[1:].tolist(), len(loser)], strict=True):
        yield int(loser[start]), int(winner[start]), ", ".join(quoted[g] for g in group[start:end].tolist())


def _cells_of(contacts: pd.DataFrame, column: str, meetings: list[tuple[int, int, str]]) -> dict[int, object]:
    """The cells of the contacts that meet, by position: a million keys are not all made
    Python strings for a few thousand warnings."""
    at = sorted({i for loser, winner, _ in meetings for i in (loser, winner)})
    return dict(zip(at, contacts[column].take(at).tolist(), strict=True))


def _shared_number_warnings(shared: pd.DataFrame, contacts: pd.DataFrame, people: list[Fields]) -> list[Problem]:
    """One warning per two identities that share a record: who gives it its fields, where."""
    meetings = list(_meetings(shared))
    keys, numbers = _cells_of(contacts, "key", meetings), _cells_of(contacts, "numero", meetings)
    rows, entries = contacts["row"].to_numpy(), contacts["entry"].to_numpy()
    found: list[Problem] = []
    for loser, winner, where in meetings:
        message = (
            f"number shared with identity {keys[winner]!r} (row {int(rows[winner])}); in {where} the one record "
            f"keeps the fields of {keys[winner]!r}, the lower identity"
        )
        column = people[int(entries[loser])].phone_column
        found.append(Problem(ProblemCode.SHARED_NUMBER, int(rows[loser]), column, str(numbers[loser]), message))
    return found


def _same_number_warnings(shared: pd.DataFrame, contacts: pd.DataFrame, people: list[Fields]) -> list[Problem]:
    """Without an identity, rows with one number are one contact where they meet in a group."""
    meetings = list(_meetings(shared))
    rows, numbers = contacts["row"].to_numpy(), _cells_of(contacts, "numero", meetings)
    entries = contacts["entry"].to_numpy()
    found: list[Problem] = []
    for loser, winner, where in meetings:
        message = f"same number as row {int(rows[winner])}: in {where}, fields of row {int(rows[winner])} kept"
        column = people[int(entries[loser])].phone_column
        found.append(Problem(ProblemCode.DUPLICATE, int(rows[loser]), column, str(numbers[loser]), message))
    return found


def _drop_unused(contacts: pd.DataFrame, pairs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray | None]:
    """Without an identity, a row whose every record another row took is no contact of its
    own. Returns the contacts and pairs left, and the positions kept (None: all)."""
    used = distinct_codes(pairs["contact"].to_numpy())
    if len(used) == len(contacts):
        return contacts, pairs, None
    renumber = np.full(len(contacts), -1, dtype=np.int64)
    renumber[used] = np.arange(len(used))
    kept = pairs.assign(contact=renumber[pairs["contact"].to_numpy()])
    kept.attrs = pairs.attrs
    return contacts.iloc[used].reset_index(drop=True), kept, used


def _membership_frame(pairs: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """The memberships as the planner reads them: key, group and the contact's row."""
    names = pairs.attrs.get("groups", [])
    contact = pairs["contact"].to_numpy(dtype=np.int64)
    # Arrow columns: pandas would otherwise re-infer two million object strings.
    keys = text_array(contacts["key"]).take(pa.array(contact, pa.int64()))
    groups = pa.array(names, pa.string()).take(pa.array(pairs["group"].to_numpy(dtype=np.int64), pa.int64()))
    frame: pd.DataFrame = pa.table({"key": keys, "group": groups, "contact": pa.array(contact)}).to_pandas()
    return frame


def _left_out_warnings(table: SourceTable) -> list[Problem]:
    """One warning naming the rows after the data that the reader left out (a footer)."""
    if not table.left_out:
        return []
    first = table.left_out[0]
    texts = "; ".join(repr(row.text) for row in table.left_out)
    message = (
        f"{len(table.left_out)} row(s) after the data, rows {first.row} to {table.left_out[-1].row}, are not "
        f"contacts (a report footer) and were left out: {texts}"
    )
    return [Problem(ProblemCode.LEFT_OUT_ROWS, first.row, "", first.text, message)]


def require_usable(result: DesiredResult, source: str) -> DesiredResult:
    """``result`` unless every row that passed the filter was rejected (InputError, exit 2).

    Planning from such an export would say "the account already matches" on a first
    run, or try to empty the groups on a later one, when the truth is that no row could
    be read: a wrong region, a wrong column, a broken export. An export with no data
    row at all, or one the filter empties, is left to the plan's empty-export guard.
    """
    if result.stats.contacts or not result.rejects:
        return result
    codes = Counter(p.code.value for p in result.rejects)
    top = ", ".join(f"{count} {code}" for code, count in codes.most_common(3))
    kept = result.stats.rows_read - result.stats.filtered_out
    scope = f"{kept} rows the filter keeps" if result.stats.filtered_out else f"{kept} data rows"
    raise InputError(
        f"{source}: nothing usable: all {scope} were rejected ({top}), so nothing was planned; "
        "list them with `sms123-sync validate` and its --rejects option, fix the export or the mapping"
    )


def _duplicate_warnings(persons: pd.DataFrame, identity_column: str) -> list[Problem]:
    """Rows of one identity: merged, the last row's fields kept; one warning per earlier row."""
    rows = persons["row"].to_numpy()
    last_row = rows[_last_of_each(persons["_key"].to_numpy())]
    dup = np.flatnonzero(rows != last_row)
    keys = persons["key"].take(dup).tolist()  # only the duplicates' keys become Python strings
    return [
        Problem(
            ProblemCode.DUPLICATE,
            int(rows[i]),
            identity_column,
            str(key),
            f"same identity as row {int(last_row[i])}: groups merged, fields of row {int(last_row[i])} kept",
        )
        for i, key in zip(dup.tolist(), keys, strict=True)
    ]
