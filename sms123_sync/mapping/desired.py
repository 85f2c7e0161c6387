"""From a table of cells and a mapping to the desired state of the account.

The desired state is columnar: one frame of contacts (one row per contact key, with
its number and fields) and one frame of memberships (key, group). Rows that cannot be
used become :class:`~sms123_sync.mapping.problems.Problem` rejects; oddities that do not stop
a row (a bad date, a duplicate, an over-long value) become warnings.

The contact key is the mapping's identity column when it has one, else the number.
Pure: no file, no network.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sms123_sync.contact import FIELD_MAX_LENGTH, FIELD_NAMES
from sms123_sync.errors import InputError
from sms123_sync.mapping.model import (
    FALSE_WORDS,
    TRUE_WORDS,
    FilterRule,
    FromColumn,
    FromTemplate,
    FromValue,
    GroupColumn,
    Mapping,
)
from sms123_sync.mapping.normalize import (
    clean_text_array,
    datea_column,
    empty_dates,
    normalize_group,
    normalize_phones,
    normalize_text,
    text_array,
)
from sms123_sync.mapping.problems import Problem, ProblemCode
from sms123_sync.sources import SourceTable

GROUP_SEPARATOR = "--"


@dataclass(frozen=True)
class DesiredState:
    """What the account should hold, according to the export."""

    contacts: pd.DataFrame  # key, numero, kind, row, fhash, nom … v3 — one row per key
    memberships: pd.DataFrame  # key, group — one row per (key, group)
    identity: bool = False
    protected: frozenset[str] = field(default_factory=frozenset)  # keys of rejected rows: never deleted
    mode: str = "mirror"
    account: str = "shared"

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
    state: DesiredState
    rejects: list[Problem]
    warnings: list[Problem]
    stats: Stats


def fields_hash(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit digest of each row's seven fields, for cheap change detection.

    Object columns are taken to hold text already (every caller fills gaps with ""):
    hashing them as they are gives the same digest as their ``str`` form, 0.4 s sooner
    at a million rows.
    """
    columns = frame[list(FIELD_NAMES)]
    if not all(pd.api.types.is_object_dtype(dtype) for dtype in columns.dtypes):
        columns = columns.astype(str)
    hashed = pd.util.hash_pandas_object(columns, index=False)
    return np.asarray(hashed.to_numpy(dtype=np.uint64).view(np.int64))


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


def _template(frame: pd.DataFrame, template: str) -> pa.Array | str:
    """A field built from a template over columns: an Arrow array, or a constant."""
    parts: list[pa.Array | str] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal and parts and isinstance(parts[-1], str):
            parts[-1] += literal  # "{{" splits the text in two literals: one constant
        elif literal:
            parts.append(literal)
        if name:
            parts.append(clean_text_array(text_array(frame[name])))
    if not parts:
        return ""
    if len(parts) == 1 and isinstance(parts[0], str):
        return normalize_text(parts[0])
    joined = pc.binary_join_element_wise(*parts, "") if len(parts) > 1 else parts[0]
    return joined if isinstance(joined, str) else clean_text_array(joined)


def _field_values(
    frame: pd.DataFrame, mapping: Mapping
) -> tuple[pd.DataFrame, dict[str, pd.Series], dict[str, np.ndarray]]:
    """The seven fields per row, the raw cells of ``datea`` for warnings, and each
    text field's length in characters.

    The fields stay Arrow strings end to end: a million Python string objects per
    column cost more time to build than all the cleaning, and three times the memory.
    """
    values: dict[str, pa.Array] = {}
    raw_dates: dict[str, pd.Series] = {}
    lengths: dict[str, np.ndarray] = {}
    for name in FIELD_NAMES:
        src = mapping.fields.sources().get(name)
        text: pa.Array | str
        if src is None:
            text = ""
        elif isinstance(src, FromValue):
            text = src.value
        elif isinstance(src, FromTemplate):
            text = _template(frame, src.template)
        else:
            column = src if isinstance(src, str) else src.column
            fmt = src.format if isinstance(src, FromColumn) else None
            if name == "datea":
                raw_dates[column] = frame[column]
                dates = datea_column(frame[column], fmt).fillna("")
                values[name] = pa.array(dates.to_numpy(dtype=object), pa.string())
                continue
            text = clean_text_array(text_array(frame[column]))
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


def build_desired(table: SourceTable, mapping: Mapping) -> DesiredResult:
    """Turns the export into the desired state, rejects and warnings."""
    frame = table.frame.reset_index(drop=True)
    rows_read = len(frame)
    outcome = apply_filter(frame, mapping.filter)
    keep = outcome.keep
    sub = _kept_rows(frame, list(mapping.columns_used()), keep)
    rows = table.row_numbers(np.flatnonzero(keep))
    rejects: list[Problem] = []
    warnings: list[Problem] = [*_left_out_warnings(table), *_filter_warnings(frame, mapping.filter, outcome, table)]
    bad = np.zeros(len(sub), dtype=bool)

    phone_col = mapping.fields.phone_column
    raw_phone = text_array(sub[phone_col])
    digits_arr, kinds_arr = normalize_phones(raw_phone, mapping.phone.region)
    digits = digits_arr.to_pandas()
    kinds = kinds_arr.to_pandas()
    for i in np.flatnonzero(digits.isna().to_numpy()):
        value = raw_phone[int(i)].as_py()
        if value.strip():
            message = f"not a valid phone number for region {mapping.phone.region}; fix the number in the CRM"
            rejects.append(Problem(ProblemCode.INVALID_PHONE, int(rows[i]), phone_col, value, message))
        else:
            rejects.append(Problem(ProblemCode.MISSING_VALUE, int(rows[i]), phone_col, "", "the phone number is empty"))
        bad[i] = True

    if mapping.identity:
        identity = clean_text_array(text_array(sub[mapping.identity])).to_pandas()
        for i in np.flatnonzero((identity == "").to_numpy() & ~bad):
            message = "the identity is empty; the row cannot be matched to a contact"
            rejects.append(Problem(ProblemCode.MISSING_VALUE, int(rows[i]), mapping.identity, "", message))
            bad[i] = True
        keys = identity
    else:
        keys = digits

    row_groups = _row_groups(sub, mapping)
    codes, parsed, cells, group_col = row_groups.codes, row_groups.parsed, row_groups.cells, row_groups.column
    # Judge each distinct cell once; visit only the rows whose cell is unusable.
    unusable = np.array([offending is not None or not groups for groups, offending in parsed], dtype=bool)
    for i in np.flatnonzero(unusable[codes] & ~bad):
        groups, offending = parsed[codes[i]]
        if offending is not None:
            message = f"the group name {offending!r} contains '--', which the API uses between groups; rename it"
            rejects.append(Problem(ProblemCode.GROUP_SEPARATOR, int(rows[i]), group_col, offending, message))
            bad[i] = True
        elif not groups:
            message = "the row names no group (and the mapping has no 'always' group)"
            rejects.append(Problem(ProblemCode.NO_GROUP, int(rows[i]), group_col, _cell(cells, i), message))
            bad[i] = True

    values, raw_dates, lengths = _field_values(sub, mapping)
    for column, raw in raw_dates.items():
        undated = np.flatnonzero((values["datea"] == "").to_numpy() & ~bad)
        # Only the cells that gave no date are looked at again: most rows have one.
        for i in undated[~empty_dates(raw.iloc[undated])]:
            message = "unreadable date: the contact is kept without a birth date"
            warnings.append(Problem(ProblemCode.BAD_DATE, int(rows[i]), column, str(_cell(raw, i)), message))
    for name, limit in FIELD_MAX_LENGTH.items():
        too_long = lengths[name] > limit if name in lengths else np.zeros(len(sub), dtype=bool)
        for i in np.flatnonzero(too_long & ~bad):
            message = f"{len(_cell(values[name], i))} characters; the API may cut {name} at {limit}"
            warnings.append(Problem(ProblemCode.TOO_LONG, int(rows[i]), name, _cell(values[name], i), message))

    protected = set(keys[bad & keys.notna().to_numpy()].astype(str)) | set(digits[bad & digits.notna().to_numpy()])
    protected.discard("")

    good = ~bad
    contacts = pd.DataFrame(
        {"key": keys, "numero": digits, "kind": kinds, "row": rows, "pos": np.arange(len(sub))}
    ).join(values)[good]
    merged = 0
    key_dups = contacts["key"].duplicated(keep="last")
    if key_dups.any():
        merged += int(key_dups.sum())
        warnings.extend(_duplicate_warnings(contacts, "key", mapping, phone_col))
    # Every row of a key counts for its memberships; its fields come from the last row.
    member_pos = contacts["pos"].to_numpy()
    member_key = contacts["key"].to_numpy(dtype=object)
    contacts = contacts[~key_dups]
    dropped: set[object] = set()  # keys whose every row was rejected after the memberships were taken
    if mapping.identity:
        taken = contacts["numero"].duplicated(keep="first")
        if taken.any():
            later = contacts[taken]
            first = contacts[~taken & contacts["numero"].isin(later["numero"])]
            owners = dict(zip(first["numero"], zip(first["key"], first["row"], strict=True), strict=True))
            for key, number, row in zip(later["key"], later["numero"], later["row"], strict=True):
                owner_key, owner_row = owners[number]
                message = f"the number is already used by identity {owner_key!r} (row {owner_row})"
                rejects.append(Problem(ProblemCode.NUMBER_TAKEN, int(row), phone_col, number, message))
                protected.add(str(key))
                dropped.add(key)
            contacts = contacts[~taken]
    memberships = _memberships(member_pos, member_key, codes, parsed, dropped)
    contacts = contacts.drop(columns=["pos"]).reset_index(drop=True)
    contacts["fhash"] = fields_hash(contacts) if len(contacts) else np.array([], dtype=np.int64)

    rejects.sort(key=lambda p: p.row)
    warnings.sort(key=lambda p: p.row)
    state = DesiredState(
        contacts, memberships, bool(mapping.identity), frozenset(protected), mapping.mode, mapping.account
    )
    stats = Stats(
        rows_read=rows_read,
        filtered_out=int(rows_read - keep.sum()),
        rejected=len({p.row for p in rejects}),
        merged_duplicates=merged,
        contacts=len(contacts),
        groups=int(memberships["group"].nunique()),
        memberships=len(memberships),
    )
    return DesiredResult(state, rejects, warnings, stats)


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


def _duplicate_warnings(contacts: pd.DataFrame, by: str, mapping: Mapping, phone_col: str) -> list[Problem]:
    last_row = contacts.groupby(by, sort=False)["row"].transform("last")
    dup = contacts[contacts["row"] != last_row]
    column = mapping.identity or phone_col
    value_col = "key"
    what = "identity" if mapping.identity else "number"
    return [
        Problem(
            ProblemCode.DUPLICATE,
            int(row),
            column,
            str(value),
            f"same {what} as row {int(lr)}: groups merged, fields of row {int(lr)} kept",
        )
        for row, value, lr in zip(dup["row"], dup[value_col], last_row[dup.index], strict=True)
    ]


def _memberships(
    positions: np.ndarray,
    keys: np.ndarray,
    codes: np.ndarray,
    parsed: list[tuple[tuple[str, ...], str | None]],
    dropped: set[object],
) -> pd.DataFrame:
    """(key, group) pairs for the given rows, without repeats and without the ``dropped``
    keys; integer work throughout."""
    key_codes, key_values = pd.factorize(keys)
    key_values = np.asarray(key_values, dtype=object)
    keep_key = np.ones(len(key_values), dtype=bool)
    if dropped:
        keep_key = ~pd.Series(key_values, dtype=object).isin(list(dropped)).to_numpy()
    group_names = sorted({g for groups, _ in parsed for g in groups})
    group_index = {g: i for i, g in enumerate(group_names)}
    row_codes = codes[positions]
    order = np.argsort(row_codes, kind="stable")
    counts = np.bincount(row_codes, minlength=len(parsed))
    bounds = np.concatenate([[0], np.cumsum(counts)])
    key_parts: list[np.ndarray] = []
    group_parts: list[np.ndarray] = []
    for code, (groups, _) in enumerate(parsed):
        members = key_codes[order[bounds[code] : bounds[code + 1]]]
        members = members[keep_key[members]]
        for group in groups:
            key_parts.append(members)
            group_parts.append(np.full(len(members), group_index[group], dtype=np.int32))
    if not key_parts:
        return pd.DataFrame({"key": pd.Series(dtype=object), "group": pd.Series(dtype=object)})
    # One int64 per pair, sorted, repeats dropped: ten times faster than np.unique on pairs.
    width = max(len(group_names), 1)
    pairs = np.sort(np.concatenate(key_parts).astype(np.int64) * width + np.concatenate(group_parts))
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = pairs[1:] != pairs[:-1]
    pairs = pairs[first]
    # Arrow columns: pandas would otherwise re-infer two million object strings.
    keys_arrow = pa.array(key_values, pa.string()).take(pa.array(pairs // width))
    groups_arrow = pa.array(group_names, pa.string()).take(pa.array(pairs % width))
    frame: pd.DataFrame = pa.table({"key": keys_arrow, "group": groups_arrow}).to_pandas()
    return frame
