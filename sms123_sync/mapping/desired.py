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
from sms123_sync.mapping.model import FilterRule, FromColumn, FromTemplate, FromValue, Mapping
from sms123_sync.mapping.normalize import (
    CHOSEN,
    INVALID,
    NO_NOTE,
    REFUSED,
    TYPE_LABELS,
    choose_in_cell,
    clean_text_array,
    datea_column,
    normalize_group,
    normalize_text,
    phone_choices,
    read_phone_cell,
    text_array,
    why_invalid,
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
    keep = np.ones(len(frame), dtype=bool)
    for rule in rules:
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
        else:
            # RE2 through Arrow, never pandas' fallback to Python's backtracking engine: the
            # mapping refuses what RE2 cannot run, so a pattern takes linear time per cell.
            found = pc.match_substring_regex(text_array(cells), str(rule.matches))
            ok = pd.Series(found.to_numpy(zero_copy_only=False), index=cells.index)
        keep &= ok.fillna(False).to_numpy(dtype=bool)
    return keep


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


def _split_groups(cell: str, mapping: Mapping) -> tuple[tuple[str, ...], str | None]:
    """The groups a cell names, after rename and ``always``; or the offending name."""
    spec = mapping.groups
    names: list[str] = []
    if spec.column is not None and cell:
        parts = re.split(re.escape(spec.separator), cell) if spec.separator else [cell]
        names = [normalize_group(p) for p in parts]
    names = [spec.rename.get(n, n) for n in names if n] + list(spec.always)
    for name in names:
        if GROUP_SEPARATOR in name:
            return (), name
    return tuple(dict.fromkeys(normalize_group(n) for n in names if n)), None


@dataclass(frozen=True)
class _Phones:
    """Each row's number, chosen among the phone columns, and the problems met doing so."""

    digits: pd.Series  # the chosen number, or None
    kinds: pd.Series
    refused: pd.Series  # a rejected row's number of a refused type (kept out of deletions), or None
    bad: np.ndarray
    rejects: list[Problem]
    warnings: list[Problem]


def _choose_phones(sub: pd.DataFrame, mapping: Mapping, rows: np.ndarray) -> _Phones:
    """The first number of an accepted type, in column order then in the order a cell lists
    them; a row with none is a reject that says why (``landline``, ``invalid-phone``,
    ``missing-value``). Column work is vectorised; Python runs per problem row only."""
    columns = mapping.fields.phone_columns
    region, types = mapping.phone.region, mapping.phone.accepted
    raw = [text_array(sub[column]) for column in columns]
    found = [phone_choices(values, region, types) for values in raw]
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
    cell: list[str | None] = [None] * len(missing)
    first: list[str | None] = [None] * len(missing)
    kind: list[str | None] = [None] * len(missing)
    for j in np.unique(at):
        where = np.flatnonzero(at == j)
        taken = pa.array(missing[where])
        for out, array in ((cell, raw[j]), (first, found[j].first), (kind, found[j].first_kinds)):
            for slot, value in zip(where.tolist(), array.take(taken).to_pylist(), strict=True):
                out[slot] = value
    refused = np.full(n, None, dtype=object)
    refused[missing[refused_rows]] = np.array(first, dtype=object)[refused_rows]

    rejects: list[Problem] = []
    warnings: list[Problem] = []
    wanted = ", ".join(sorted(types))
    # Python lists: indexing NumPy arrays element by element costs more than the Problems.
    row_numbers, at_list = rows[missing].tolist(), at.tolist()
    is_refused, is_invalid = refused_rows.tolist(), invalid_rows.tolist()
    for k, row in enumerate(row_numbers):
        column, value = columns[at_list[k]], cell[k] or ""
        if is_refused[k]:
            label = TYPE_LABELS.get(kind[k] or "", kind[k] or "")
            message = (
                f"{first[k]} is {label}, which cannot receive SMS (the mapping accepts: {wanted}); put the person's "
                f"mobile in the CRM, or add {kind[k]} to phone.types for voice campaigns"
            )
            rejects.append(Problem(ProblemCode.LANDLINE, row, column, value, message))
        elif is_invalid[k]:
            rejects.append(Problem(ProblemCode.INVALID_PHONE, row, column, value, why_invalid(value, region)))
        else:
            message = "the phone number is empty" if len(columns) == 1 else "every phone column is empty"
            rejects.append(Problem(ProblemCode.MISSING_VALUE, row, column, "", message))
    notes = np.zeros(n, dtype=np.int8)
    for j, f in enumerate(found):
        notes[source == j] = f.note[source == j]
    for i in np.flatnonzero(has & (notes != NO_NOTE)):
        warnings.append(
            _cell_warning(columns[int(source[i])], raw[int(source[i])][int(i)].as_py(), int(rows[i]), mapping)
        )
    return _Phones(digits.to_pandas(), kinds.to_pandas(), pd.Series(refused, dtype=object), ~has, rejects, warnings)


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
    """Turns the export into the desired state, rejects and warnings."""
    frame = table.frame.reset_index(drop=True)
    rows_read = len(frame)
    keep = filter_mask(frame, mapping.filter)
    sub = _kept_rows(frame, list(mapping.columns_used()), keep)
    rows = np.flatnonzero(keep) + 2
    rejects: list[Problem] = []
    warnings: list[Problem] = []
    bad = np.zeros(len(sub), dtype=bool)

    phone_col = mapping.fields.phone_column
    phones = _choose_phones(sub, mapping, rows)
    digits, kinds = phones.digits, phones.kinds
    rejects.extend(phones.rejects)
    warnings.extend(phones.warnings)
    bad |= phones.bad

    if mapping.identity:
        identity = clean_text_array(text_array(sub[mapping.identity])).to_pandas()
        for i in np.flatnonzero((identity == "").to_numpy() & ~bad):
            message = "the identity is empty; the row cannot be matched to a contact"
            rejects.append(Problem(ProblemCode.MISSING_VALUE, int(rows[i]), mapping.identity, "", message))
            bad[i] = True
        keys = identity
    else:
        keys = digits

    group_col = mapping.groups.column
    cells = sub[group_col].fillna("").astype(str) if group_col else pd.Series("", index=sub.index)
    codes, uniques = pd.factorize(cells, sort=False)
    parsed = [_split_groups(str(u), mapping) for u in uniques]
    # Judge each distinct cell once; visit only the rows whose cell is unusable.
    unusable = np.array([offending is not None or not groups for groups, offending in parsed], dtype=bool)
    for i in np.flatnonzero(unusable[codes] & ~bad):
        groups, offending = parsed[codes[i]]
        if offending is not None:
            message = f"the group name {offending!r} contains '--', which the API uses between groups; rename it"
            rejects.append(
                Problem(ProblemCode.GROUP_SEPARATOR, int(rows[i]), group_col or "groups", offending, message)
            )
            bad[i] = True
        elif not groups:
            message = "the row names no group (and the mapping has no 'always' group)"
            rejects.append(Problem(ProblemCode.NO_GROUP, int(rows[i]), group_col or "groups", _cell(cells, i), message))
            bad[i] = True

    values, raw_dates, lengths = _field_values(sub, mapping)
    for column, raw in raw_dates.items():
        unreadable = (values["datea"] == "") & raw.fillna("").astype(str).str.strip().ne("")
        for i in np.flatnonzero(unreadable.to_numpy() & ~bad):
            message = "unreadable date: the contact is kept without a birth date"
            warnings.append(Problem(ProblemCode.BAD_DATE, int(rows[i]), column, str(_cell(raw, i)), message))
    for name, limit in FIELD_MAX_LENGTH.items():
        too_long = lengths[name] > limit if name in lengths else np.zeros(len(sub), dtype=bool)
        for i in np.flatnonzero(too_long & ~bad):
            message = f"{len(_cell(values[name], i))} characters; the API may cut {name} at {limit}"
            warnings.append(Problem(ProblemCode.TOO_LONG, int(rows[i]), name, _cell(values[name], i), message))

    protected = set(keys[bad & keys.notna().to_numpy()].astype(str)) | set(digits[bad & digits.notna().to_numpy()])
    # A refused number (a landline the first release synced) is not deleted from the account
    # either: a rejected row never deletes, and the user decides what to do with those contacts.
    protected |= set(phones.refused[bad & phones.refused.notna().to_numpy()])
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
