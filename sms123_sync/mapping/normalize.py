"""Normalising values from a CRM export: phone numbers, text, dates, group names.

Phone numbers become international digits without ``+`` (``33612345678``). Two paths
give the same answer: a vectorised fast path (pyarrow regular expressions built from
libphonenumber's own metadata for the default region) decides the common national and
international spellings in one pass over the column; whatever it cannot decide goes
through libphonenumber itself, once per distinct value. Overseas French
numbers written nationally (``0692…``) are tried against the overseas regions, so
they become ``262692…`` rather than an invalid ``33692…``; a number written with its
country code (``+33 692…``, ``0033…``, ``33…``) is taken at its word and never moved to
another country.

A cell is more than a number: people add comments (``06 … (perso)``, ``poste 214``),
labels (``Tél:``) and second numbers (``06 … / 07 …``, Google's `` ::: ``).
:func:`read_phone_cell` finds every number in a cell, in the order written;
:func:`phone_choices` picks, per cell, the first number of a type the mapping accepts.

Known ambiguity: a nine-digit string is both a cell that lost its leading zero
(``612345678``) and, for Saint-Pierre-et-Miquelon (+508, six-digit national
numbers), a complete international number. The lost-zero reading wins; write those
numbers with ``+508``.

Every function here is pure: no file, no network.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from sms123_sync.mapping.phone import _FRENCH_FAMILY, _TYPE_DESCS, _explicit_country, _overseas, _overseas_plans, _parse

# The scalar path lives in phone.py (no pandas there, for ``send --to``); its public
# names stay importable from here.
from sms123_sync.mapping.phone import FIXED_LINE as FIXED_LINE
from sms123_sync.mapping.phone import FRENCH_OVERSEAS as FRENCH_OVERSEAS
from sms123_sync.mapping.phone import MOBILE as MOBILE
from sms123_sync.mapping.phone import PHONE_TYPES as PHONE_TYPES
from sms123_sync.mapping.phone import Phone as Phone
from sms123_sync.mapping.phone import normalize_phone as normalize_phone

_REGION_NAMES = {
    "FR": "France",
    "RE": "La Réunion",
    "YT": "Mayotte",
    "GP": "Guadeloupe",
    "MQ": "Martinique",
    "GF": "French Guiana",
    "PM": "Saint-Pierre-et-Miquelon",
    "BL": "Saint-Barthélemy",
    "MF": "Saint-Martin",
}

_SEPARATORS = r"[\s.\-/()\x{00a0}]"
_TRUNK_MARK = r"\(0\)"  # "+33 (0)6 …": the national prefix shown in brackets
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_PY_CONTROL = re.compile(_CONTROL)
# Python's \s is Unicode-aware, RE2's is ASCII-only: this class is Python's whitespace
# (the C0 characters in it are removed as controls first) for the Arrow passes.
_SPACE = r"[\s\pZ\x{85}]"
_OTHER_SPACE = r"[\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
# Invisible format characters a CRM cell picks up from pasted text: byte-order mark,
# zero-width space, word joiner, direction marks, embeddings, overrides and isolates.
# Unseen, they make two names that look the same ("G0" and "\ufeffG0") differ. Zero-width
# (non-)joiners are kept in text, where some scripts and emoji need them.
_FORMAT = r"[\x{200b}\x{200e}\x{200f}\x{2060}\x{feff}\x{61c}\x{202a}-\x{202e}\x{2066}-\x{2069}]"
_PY_FORMAT = re.compile("[\u200b\u200e\u200f\u2060\ufeff\u061c\u202a-\u202e\u2066-\u2069]")
# Group names drop the joiners too: a name is an identifier, not prose.
_PY_JOINERS = re.compile("[\u200c\u200d]")
_NEEDS_CLEANING = rf"[\x00-\x1f\x7f]|{_OTHER_SPACE}|{_FORMAT}|  |^ | $"
_PY_SPACES = re.compile(r"\s+")

#: What a reject says a refused number is.
TYPE_LABELS: dict[str, str] = {
    MOBILE: "a mobile",
    FIXED_LINE: "a fixed line",
    "voip": "a VoIP line",
    "toll_free": "a toll-free number",
    "premium_rate": "a premium-rate number",
    "shared_cost": "a shared-cost number",
    "personal_number": "a personal (forwarding) number",
    "pager": "a pager",
    "uan": "a company (UAN) number",
    "voicemail": "a voicemail access number",
    "unknown": "a number of unknown type",
}


_PY_NON_DIGITS = re.compile(r"\D")


@lru_cache(maxsize=32)
def _country_code(region: str) -> str:
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return str(meta.country_code) if meta is not None else ""


@lru_cache(maxsize=65536)
def why_invalid(raw: str, region: str) -> str:
    """What a reject says about a cell that holds no valid number: the user's next step."""
    digits = _PY_NON_DIGITS.sub("", raw)
    code = _country_code(region)
    # Most rejects show no country code at all: skip parsing them a second time.
    written_code = "+" in raw or digits.startswith("00") or (code and digits.startswith(code))
    number = _parse(raw, region) if written_code else None
    if number is not None and _explicit_country(number):
        where = phonenumbers.region_code_for_country_code(number.country_code or 0)
        where = _REGION_NAMES.get(where, where)
        overseas = _overseas(number, region)
        if overseas is not None:
            home = phonenumbers.region_code_for_number(overseas) or ""
            home = _REGION_NAMES.get(home, home)
            return (
                f"written with the country code +{number.country_code} ({where}), where it is not a valid number; "
                f"if it is a {home} number, write it +{overseas.country_code} {overseas.national_number} or "
                f"0{overseas.national_number} (numbers are never moved to another country silently)"
            )
        return (
            f"written with the country code +{number.country_code}, but not a valid number in that country "
            "(nor anywhere else); fix the number in the CRM"
        )
    return plain_reason(region)


@lru_cache(maxsize=32)
def plain_reason(region: str) -> str:
    """What :func:`why_invalid` says of a cell written without a country code."""
    family = " or the French overseas regions" if region in _FRENCH_FAMILY else ""
    return f"not a valid phone number for region {region}{family}; fix the number in the CRM"


def may_have_own_reason(values: pa.Array, region: str) -> np.ndarray:
    """False where :func:`why_invalid` surely says :func:`plain_reason` (no country code
    written): half a million rejects need not each be read again in Python. True may still
    get the plain reason. Python's digits include other scripts' and RE2's do not, but the
    first two of Python's are ASCII only when RE2's first two are the same: no cell is
    missed."""
    code = _country_code(region)
    # "The digits start with 00 (or the code)" as one search: the first digits, with
    # anything but digits between them. A rewrite of every cell cost three times as much.
    gap = "[^0-9]*"
    starts = [f"0{gap}0", *([gap.join(code)] if code else [])]
    maybe = pc.match_substring_regex(values, rf"\+|^{gap}(?:{'|'.join(starts)})")
    return np.asarray(pc.fill_null(maybe, True).to_numpy(zero_copy_only=False), dtype=bool)


def _string_bytes(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string array's cell bounds (n + 1 offsets into its own bytes, from 0) and those
    bytes: what the byte-level column passes below read instead of a regex per cell."""
    n = len(array)
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32, count=n + 1, offset=array.offset * 4).astype(np.int64)
    start, end = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(data_buffer, dtype=np.uint8)[start:end] if data_buffer is not None else np.empty(0, np.uint8)
    return offsets - start, data


@dataclass(frozen=True, slots=True)
class _FastPath:
    """Vectorised patterns for one region, derived from libphonenumber's metadata."""

    country_code: str
    mobile: str
    landline: str
    prefixes: tuple[str, ...]  # what may come before the national number, tried in order
    length: int  # the national number's one length

    def national_numbers(self, cleaned: pa.Array) -> pa.Array:
        """The national number of each cleaned cell (an optional prefix, then ``length``
        digits not starting with 0), or null, by byte arithmetic.

        A regex took 0.1 s a million cells, this a third of it. A cell's length says
        which prefix it may start with (each gives one length); the cell must be ASCII
        digits after an optional "+", and the number is its last ``length`` bytes, not
        starting with 0. ``tests/test_reject_paths.py`` compares it with that regex.
        """
        n, size = len(cleaned), self.length
        if cleaned.type != pa.string():
            cleaned = cleaned.cast(pa.string())
        if n == 0:
            return pa.array([], pa.string())
        offsets, data = _string_bytes(cleaned)
        starts, lengths = offsets[:-1], np.diff(offsets)
        decimal = np.asarray(pc.fill_null(pc.ascii_is_decimal(cleaned), False))
        found = np.zeros(n, dtype=bool)
        for prefix in self.prefixes:
            digits = prefix.removeprefix("+")  # _fast_path allows no other character
            plus = len(prefix) - len(digits)
            at = np.flatnonzero((lengths == len(prefix) + size) & ~found)
            if plus:  # a "+", then digits only
                at = at[data[starts[at]] == 0x2B]
                rest = data[(starts[at] + 1)[:, None] + np.arange(len(digits) + size)]
                at = at[((rest >= 0x30) & (rest <= 0x39)).all(axis=1)]
            else:
                at = at[decimal[at]]
            for k, byte in enumerate(digits.encode()):
                at = at[data[starts[at] + plus + k] == byte]
            found[at] = True
        if cleaned.null_count:
            found &= np.asarray(cleaned.is_valid())
        at = np.flatnonzero(found)
        tails = data[(offsets[at + 1] - size)[:, None] + np.arange(size)]
        lead = tails[:, 0] != 0x30  # a national number starts at 1-9
        found[at[~lead]] = False
        kept = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(found * np.int32(size), dtype=np.int32, out=kept[1:])
        validity = pa.array(found).buffers()[1]
        numbers = pa.py_buffer(tails[lead].tobytes())
        return pa.StringArray.from_buffers(n, pa.py_buffer(kept), numbers, validity, n - int(lead.sum()))


@lru_cache(maxsize=32)
def _fast_path(region: str) -> _FastPath | None:
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.general_desc is None or meta.mobile is None or meta.fixed_line is None:
        return None
    if (
        not meta.national_prefix
        or not meta.national_prefix.isdecimal()
        or len(set(meta.general_desc.possible_length)) != 1
    ):
        return None  # regions with several number lengths go the exact way only
    if region not in _FRENCH_FAMILY and len(phonenumbers.region_codes_for_country_code(meta.country_code or 0)) > 1:
        # libphonenumber calls a number valid when any region of its country code takes it
        # ("05 20 …" under EH is a Moroccan fixed line): the region's own patterns would
        # misjudge those. The French overseas regions that share a code are handled by
        # the overseas plans, which hold every sharer's types.
        return None
    cc = str(meta.country_code)
    (length,) = set(meta.general_desc.possible_length)
    return _FastPath(
        cc,
        f"^(?:{meta.mobile.national_number_pattern})$",
        f"^(?:{meta.fixed_line.national_number_pattern})$",
        (f"+{cc}", f"00{cc}", cc, meta.national_prefix, ""),
        length,
    )


@dataclass(frozen=True, slots=True)
class _InvalidPath:
    """Patterns that prove a clean cell holds no valid number, as the exact path would find.

    Half a file of rejects must cost about what valid numbers cost: each one parsed by
    libphonenumber cost some 30 µs. Two shapes are settled in Arrow, only in cells of
    digits and separators without a mark that could part two numbers, and not written as
    an Excel float (``0612345678.0``):

    - ``wrong_length``: the national prefix, then a number of the wrong length (``06 12 34
      56 7``). libphonenumber strips the prefix and finds no number of that length, and
      the overseas regions are tried for nine digits only.
    - ``known``: a number the fast path took apart (``07 01 …``) that fits no number type
      of the region, nor, for France, any of an overseas region (with or without its
      "0"): anything it does fit goes the exact way, as before.

    A third shape is settled in any cell, clean or not: too few characters that could be a
    number's digits (``tel 1234``, ``poste 214``, ``n/a``). See :func:`_too_few_digits`.
    """

    wrong_length: str
    known: str
    overseas: str | None
    length: int  # the region's one national length


@lru_cache(maxsize=32)
def _invalid_path(region: str) -> _InvalidPath | None:
    fast = _fast_path(region)
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if fast is None or meta is None or meta.general_desc is None:
        return None
    # The reasoning above holds where "0" is the national prefix, read as it is written,
    # and no international prefix starts like a national number.
    if meta.national_prefix != "0" or (meta.national_prefix_for_parsing or "0") != "0":
        return None
    if meta.national_prefix_transform_rule or not meta.international_prefix:
        return None
    if any(re.match(meta.international_prefix, f"0{d}12345678") for d in range(1, 10)):
        return None
    (length,) = set(meta.general_desc.possible_length)
    descs = [getattr(meta, name, None) for name in _TYPE_DESCS]
    if any(d is not None and d.possible_length and set(d.possible_length) != {length} for d in descs):
        return None  # a type of another length: the wrong-length rule would not hold
    known = "|".join(f"(?:{d.national_number_pattern})" for d in descs if d is not None and d.national_number_pattern)
    overseas = None
    if region in _FRENCH_FAMILY:
        overseas = "|".join(f"(?:{plan.pattern})" for _, plan in _overseas_plans())
    path = _InvalidPath(
        rf"^0[1-9](?:\d{{0,{length - 2}}}|\d{{{length},}})$",
        f"^(?:{known or '(?!)'})$",
        overseas and f"^(?:{overseas})$",
        length,
    )
    try:  # RE2 must take libphonenumber's patterns; if one day it does not, use the exact path
        probe = pa.array(["612345678"])
        for pattern in (path.wrong_length, path.known, path.overseas):
            if pattern is not None:
                pc.match_substring_regex(probe, pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return path


# A mark that can part two numbers in a clean cell (read_phone_cell splits there).
_BREAK_MARK = r"[/\-\n\r\t]"
# A cell libphonenumber's caller reads as an Excel float: digits, ".", zeros, once stripped.
_EXCEL_CELL = r"^[\t\n\f\r \x{a0}]*\d+\.0+[\t\n\f\r \x{a0}]*$"
# Either, in one pass over a column: a cell the rules for clean cells do not judge.
_NOT_PLAIN = f"{_BREAK_MARK}|{_EXCEL_CELL}"


# The bytes of _SEPARATORS that are ASCII (RE2's \s is [\t\n\f\r ]); the no-break space
# is the UTF-8 pair C2 A0, found as a pair.
_SEPARATOR_BYTES = np.zeros(256, dtype=bool)
_SEPARATOR_BYTES[list(b"\t\n\f\r .-/()")] = True


def strip_separators(values: pa.Array) -> pa.Array:
    """``values`` without the trunk mark ``(0)`` and the separators, as the RE2 passes
    ``_TRUNK_MARK`` then ``_SEPARATORS`` would leave them, in one pass over the bytes.

    A phone column is mostly separators to drop; two regex rewrites of a million cells
    took 0.25 s, this takes a fifth of it. Only whole ASCII bytes and whole C2 A0 pairs
    go, so the result is valid UTF-8. ``tests/test_reject_paths.py`` compares the two.
    """
    if values.type != pa.string():  # the buffers below are those of 32-bit offsets
        values = values.cast(pa.string())
    n = len(values)
    if n == 0:
        return values
    bounds, data = _string_bytes(values)
    drop = _SEPARATOR_BYTES[data]
    if len(data) > 1:
        nbsp = (data[:-1] == 0xC2) & (data[1:] == 0xA0)
        drop[:-1] |= nbsp
        drop[1:] |= nbsp
    if len(data) > 2:
        # The 0 of "(0)": its brackets go as separators; it goes when all three are one cell's.
        zero = np.flatnonzero((data[1:-1] == 0x30) & (data[:-2] == 0x28) & (data[2:] == 0x29)) + 1
        if len(zero):
            cell = np.searchsorted(bounds, zero, side="right") - 1
            zero = zero[(zero - 1 >= bounds[cell]) & (zero + 1 < bounds[cell + 1])]
            drop[zero] = True
    # Each new offset is the old one less the bytes dropped before it: a search among the
    # dropped positions, not a running sum over every byte (an int64 per byte, 120 MB for
    # a million cells, whose first touch cost 0.2 s).
    kept = (bounds - np.searchsorted(np.flatnonzero(drop), bounds)).astype(np.int32)
    validity = pc.is_valid(values).buffers()[1] if values.null_count else None
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(kept.tobytes()), pa.py_buffer(data[~drop].tobytes()), validity, values.null_count
    )


def _surely_invalid(values: pa.Array, region: str, cleaned: pa.Array | None = None) -> np.ndarray:
    """True for the cells :class:`_InvalidPath` proves invalid; False when unsure.
    ``cleaned``: :func:`strip_separators` of ``values``, when the caller has it."""
    path = _invalid_path(region)
    fast = _fast_path(region)
    if path is None or fast is None or len(values) == 0:
        return np.zeros(len(values), dtype=bool)
    cleaned = strip_separators(values) if cleaned is None else cleaned
    plain = pc.invert(pc.match_substring_regex(values, _NOT_PLAIN))
    wrong_length = pc.match_substring_regex(cleaned, path.wrong_length)
    nsn = fast.national_numbers(cleaned)
    fits = pc.match_substring_regex(nsn, path.known)
    if path.overseas is not None:
        with_zero = pc.binary_join_element_wise("0", nsn, "")
        fits = pc.or_(
            fits,
            pc.or_(pc.match_substring_regex(nsn, path.overseas), pc.match_substring_regex(with_zero, path.overseas)),
        )
    in_no_plan = pc.and_(pc.is_valid(nsn), pc.invert(pc.fill_null(fits, True)))
    sure = pc.and_(plain, pc.or_(pc.fill_null(wrong_length, False), in_no_plan))
    if path.length >= _FEWEST_DIGITS:
        sure = pc.or_(pc.fill_null(sure, False), _too_few_digits(values))
    return np.asarray(pc.fill_null(sure, False).to_numpy(zero_copy_only=False), dtype=bool)


# What libphonenumber can read as a digit: decimal digits of any script and other digits
# (superscripts have a digit value), and letters, which it reads as keypad digits
# (ı and ſ become I and S once upper-cased). A number starts at a digit or a plus.
_DIGIT_CHARS = r"\p{Nd}\p{No}A-Za-zıſ"
_DIGIT_LIKE = f"[{_DIGIT_CHARS}]"
_NOT_DIGIT_LIKE = f"[^{_DIGIT_CHARS}]+"
_NOT_NUMBER_CHARS = r"[^0-9 .\-/()+]"
_BEFORE_NUMBER = r"^[^+＋\p{Nd}\p{No}]*"


def _too_few_digits(values: pa.Array) -> pa.Array:
    """True for a cell with something written but fewer than :data:`_FEWEST_DIGITS`
    characters that could become a number's digits from where a number may start on.

    No valid number is that short, written with its country code or in a region whose
    numbers are that long or longer; and :func:`read_phone_cell` tries no shorter run. So
    the exact path says "invalid" of such a cell (``tel 1234``, ``n/a``), after parsing it
    whole with libphonenumber, some 25 µs. Letters before the first digit are not read as
    digits by libphonenumber; letters after are counted, since it may read them as a keypad.
    """
    # Cells of ASCII digits and separators only are left to the rules above: "07 01 …" is
    # most of a phone column, and dropping its spaces one by one costs more than it saves.
    texts = np.flatnonzero(np.asarray(pc.fill_null(pc.match_substring_regex(values, _NOT_NUMBER_CHARS), False)))
    found = np.zeros(len(values), dtype=bool)
    if not len(texts):
        return pa.array(found)
    values = values.take(pa.array(texts))
    written = pc.match_substring_regex(values, _DIGIT_LIKE)
    rest = pc.replace_substring_regex(values, _BEFORE_NUMBER, "")
    # Counted as the length of what is left once the rest is dropped: counting the matches
    # of a pattern costs ten times as much in Arrow.
    digit_like = pc.replace_substring_regex(rest, _NOT_DIGIT_LIKE, "")
    few = pc.less(pc.utf8_length(digit_like), _FEWEST_DIGITS)
    found[texts] = np.asarray(pc.fill_null(pc.and_(written, few), False))
    return pa.array(found)


def normalize_phones(values: pa.Array | pa.ChunkedArray, region: str = "FR") -> tuple[pa.Array, pa.Array]:
    """Normalises a column of raw numbers: (digits or null, kind or null) per row.

    The fast path decides the common spellings on the whole column in Arrow; what it
    cannot decide goes to libphonenumber, each distinct value once.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    if len(values) == 0:
        return pa.array([], pa.string()), pa.array([], pa.string())
    fast = _fast_path(region)
    if fast is None:
        return _normalize_exactly(values, region)
    digits, kinds, decided, _ = _fast_decide(values, fast)
    undecided = pc.invert(decided)
    if pc.any(undecided).as_py():
        rest_digits, rest_kinds = _normalize_exactly(values.filter(undecided), region)
        digits = pc.replace_with_mask(digits, undecided, rest_digits)
        kinds = pc.replace_with_mask(kinds, undecided, rest_kinds)
    return digits, kinds


def _fast_decide(values: pa.Array, fast: _FastPath) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """(digits, kind, decided) per value, for the spellings the region's patterns settle,
    and the values without separators (:func:`strip_separators`) for the next check."""
    cleaned = strip_separators(values)
    nsn = fast.national_numbers(cleaned)
    matched = nsn.is_valid()
    mobile = pc.fill_null(pc.and_(matched, pc.match_substring_regex(nsn, fast.mobile)), False)
    landline = pc.fill_null(pc.and_(matched, pc.match_substring_regex(nsn, fast.landline)), False)
    # An Excel float ("0612345678.0") loses its ".0" on the exact path, not its last digit.
    # Only a cell with ".0" can be one: the regex runs on those alone.
    excel = pc.fill_null(pc.match_substring(values, ".0"), False)
    if pc.any(excel).as_py():
        dotted = pc.indices_nonzero(excel)
        found = pc.fill_null(pc.match_substring_regex(values.take(dotted), _EXCEL_CELL), False)
        excel = pc.replace_with_mask(excel, excel, found)
    decided = pc.and_(pc.or_(mobile, landline), pc.invert(excel))
    mobile, landline = pc.and_(mobile, decided), pc.and_(landline, decided)
    none = pa.scalar(None, pa.string())
    digits = pc.if_else(decided, pc.binary_join_element_wise(fast.country_code, nsn, ""), none)
    kinds = pc.if_else(mobile, MOBILE, pc.if_else(landline, FIXED_LINE, none))
    return digits, kinds, decided, cleaned


def _normalize_exactly(values: pa.Array, region: str) -> tuple[pa.Array, pa.Array]:
    """libphonenumber on each distinct value once, spread back over the rows."""
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_pylist()
    phones = [normalize_phone(value, region) if isinstance(value, str) else None for value in distinct]
    digits = pa.array([p.digits if p else None for p in phones], pa.string())
    kinds = pa.array([p.kind if p else None for p in phones], pa.string())
    return pc.take(digits, encoded.indices), pc.take(kinds, encoded.indices)


# A cell that holds nothing but one number's characters: the first wave's cells, read
# exactly as before and without a warning.
_CLEAN_CELL = re.compile(r"[\d\s.\-/()+\u00a0]*|\d+\.0+")
# What can part two numbers in a cell of number characters only ("06 … / 07 …").
_CLEAN_BREAK = re.compile(r"[/\-\n\r\t]")
# Between two numbers of one cell: Google's multi-value mark, list punctuation, "ou"/"or".
_NUMBER_BREAK = re.compile(r":::|[;,|\n\r\t]|\s[/-]\s|\s(?:ou|or|et|and)\s", re.IGNORECASE)
# A run of a number's characters: digits with the separators people put between them.
_NUMBER_RUN = re.compile(r"\+?\d[\d\s.\-/()\u00a0]*\d")
# No valid number, country code included, has fewer digits (Niue's are +683 and four).
_FEWEST_DIGITS = 6


@dataclass(frozen=True, slots=True)
class CellPhones:
    """Every valid number one cell holds, in the order written, and whether the cell
    held anything else (a comment, a label, a second number)."""

    numbers: tuple[Phone, ...]
    clean: bool


def read_phone_cell(raw: str, region: str = "FR") -> CellPhones:
    """The numbers in a cell as people type it.

    A cell of one number's characters is read as :func:`normalize_phone` reads it. Any
    other cell is cut at the marks between numbers, and each run of digits is tried
    (then its ``/``-separated parts): ``06 57 68 79 80 (perso)`` holds one number,
    ``06 … / 07 …`` two. What libphonenumber alone made of the cell comes first, so a
    cell the first release accepted keeps its number.
    """
    text = raw.strip()
    if not text:
        return CellPhones((), True)
    whole = normalize_phone(text, region)
    clean = _CLEAN_CELL.fullmatch(text) is not None
    if clean and whole is not None:
        return CellPhones((whole,), True)
    if clean and not _CLEAN_BREAK.search(text):
        return CellPhones((), True)  # one run of digits, already tried whole: invalid
    found = [whole] if whole is not None else []
    for piece in _NUMBER_BREAK.split(text):
        for run in _NUMBER_RUN.findall(piece):
            if sum(c.isdigit() for c in run) < _FEWEST_DIGITS:
                continue  # "poste 214", "ext. 204": no number is that short; spare libphonenumber
            phone = normalize_phone(run, region)
            parts = [phone] if phone else [normalize_phone(part, region) for part in run.split("/")]
            found.extend(p for p in parts if p is not None)
    unique = tuple({p.digits: p for p in found}.values())  # first spelling of each number, in order
    return CellPhones(unique, clean and not unique)


# A cell's verdict, given the accepted types: what the row does with it.
EMPTY, CHOSEN, REFUSED, INVALID = 0, 1, 2, 3
# Why a chosen cell deserves a warning.
NO_NOTE, NOTE_TEXT, NOTE_EXTRA = 0, 1, 2


@dataclass(frozen=True, slots=True)
class CellChoice:
    """One cell judged: the number a row would take from it, and why not when none."""

    status: int  # EMPTY, CHOSEN, REFUSED (valid numbers, none of an accepted type), INVALID
    chosen: Phone | None  # the first number of an accepted type
    first: Phone | None  # the first valid number of any type (a refused cell's reason)
    note: int  # NO_NOTE, NOTE_TEXT (comment or label dropped), NOTE_EXTRA (another accepted number)


@lru_cache(maxsize=65536)
def choose_in_cell(raw: str, region: str, types: frozenset[str]) -> CellChoice:
    """The scalar rule :func:`phone_choices` applies to the cells its fast path leaves."""
    cell = read_phone_cell(raw, region)
    accepted = [p for p in cell.numbers if p.kind in types]
    first = cell.numbers[0] if cell.numbers else None
    if not accepted:
        status = REFUSED if cell.numbers else (EMPTY if not raw.strip() else INVALID)
        return CellChoice(status, None, first, NO_NOTE)
    note = NOTE_EXTRA if len(accepted) > 1 else (NO_NOTE if cell.clean else NOTE_TEXT)
    return CellChoice(CHOSEN, accepted[0], first, note)


@dataclass(frozen=True)
class PhoneChoices:
    """:func:`choose_in_cell` over a column: Arrow arrays for the numbers, NumPy for verdicts."""

    digits: pa.Array  # the chosen number, or null
    kinds: pa.Array
    first: pa.Array  # the first valid number of any type, or null
    first_kinds: pa.Array
    status: np.ndarray  # int8, one of EMPTY, CHOSEN, REFUSED, INVALID
    note: np.ndarray  # int8, one of NO_NOTE, NOTE_TEXT, NOTE_EXTRA

    @classmethod
    def joined(cls, parts: Sequence[PhoneChoices]) -> PhoneChoices:
        """The choices of consecutive slices of a column, as one column's."""
        return cls(
            digits=pa.concat_arrays([part.digits for part in parts]),
            kinds=pa.concat_arrays([part.kinds for part in parts]),
            first=pa.concat_arrays([part.first for part in parts]),
            first_kinds=pa.concat_arrays([part.first_kinds for part in parts]),
            status=np.concatenate([part.status for part in parts]),
            note=np.concatenate([part.note for part in parts]),
        )


def phone_choices(values: pa.Array | pa.ChunkedArray, region: str, types: frozenset[str]) -> PhoneChoices:
    """The number each cell of a column gives, among the accepted ``types``.

    The fast path settles clean mobiles and fixed lines in Arrow; every other cell
    (empty, messy, invalid, overseas, another type) goes through :func:`choose_in_cell`,
    each distinct value once.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    n = len(values)
    none = pa.nulls(n, pa.string())
    status = np.full(n, EMPTY, dtype=np.int8)
    note = np.full(n, NO_NOTE, dtype=np.int8)
    fast = _fast_path(region)
    if fast is not None and n:
        first, first_kinds, decided, cleaned = _fast_decide(values, fast)
        ok = pc.fill_null(pc.is_in(first_kinds, pa.array(sorted(types), pa.string())), False)
        digits = pc.if_else(ok, first, none)
        kinds = pc.if_else(ok, first_kinds, none)
        decided_np = decided.to_numpy(zero_copy_only=False)
        status[decided_np] = np.where(ok.to_numpy(zero_copy_only=False)[decided_np], CHOSEN, REFUSED)
    else:
        digits = kinds = first = first_kinds = none
        decided_np = np.zeros(n, dtype=bool)
        cleaned = None
    rest = np.flatnonzero(~decided_np)
    if len(rest):
        taken = pa.array(rest)
        invalid = _surely_invalid(values.take(taken), region, None if cleaned is None else cleaned.take(taken))
        status[rest[invalid]] = INVALID
        decided_np[rest[invalid]] = True
        rest = rest[~invalid]
    if len(rest):
        encoded = pc.dictionary_encode(values.take(pa.array(rest)))
        choices = [
            choose_in_cell(v, region, types) if isinstance(v, str) else choose_in_cell("", region, types)
            for v in encoded.dictionary.to_pylist()
        ]
        indices = encoded.indices

        def spread(get: Callable[[CellChoice], str | None]) -> pa.Array:
            return pc.take(pa.array([get(c) for c in choices], pa.string()), indices)

        mask = pa.array(~decided_np)
        digits = pc.replace_with_mask(digits, mask, spread(lambda c: c.chosen.digits if c.chosen else None))
        kinds = pc.replace_with_mask(kinds, mask, spread(lambda c: c.chosen.kind if c.chosen else None))
        first = pc.replace_with_mask(first, mask, spread(lambda c: c.first.digits if c.first else None))
        first_kinds = pc.replace_with_mask(first_kinds, mask, spread(lambda c: c.first.kind if c.first else None))
        codes = indices.to_numpy(zero_copy_only=False)
        status[rest] = np.array([c.status for c in choices], dtype=np.int8)[codes]
        note[rest] = np.array([c.note for c in choices], dtype=np.int8)[codes]
    return PhoneChoices(digits, kinds, first, first_kinds, status, note)


def normalize_text(value: object) -> str:
    """Trims, collapses inner whitespace and drops control and invisible format characters."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = _PY_FORMAT.sub("", _PY_CONTROL.sub("", str(value)))
    return _PY_SPACES.sub(" ", text).strip()


def text_array(values: pd.Series) -> pa.Array:
    """A column as an Arrow string array, gaps as "": no copy of an Arrow-backed column."""
    array = pa.array(values, type=pa.string(), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return pc.fill_null(array, "") if array.null_count else array


def is_plain_number(numbers: pa.Array) -> bool:
    """True when every value is 1 to 18 ASCII digits without a leading zero (is_decimal is
    false for ""): each is then one int64, and no two values clash."""
    if len(numbers) == 0:
        return True
    return bool(
        pc.all(pc.ascii_is_decimal(numbers)).as_py()
        and not pc.any(pc.starts_with(numbers, "0")).as_py()
        and pc.max(pc.utf8_length(numbers)).as_py() <= 18
    )


def plain_integers(numbers: pa.Array) -> np.ndarray | None:
    """The numbers as int64 when every one is plain (:func:`is_plain_number`), else None:
    then each number is its own code, and joins run on integers."""
    if not is_plain_number(numbers):
        return None
    integers: np.ndarray = pc.cast(numbers, pa.int64()).to_numpy()
    return integers


def distinct_codes(codes: np.ndarray) -> np.ndarray:
    """The distinct values of non-negative integer codes, sorted: a count per value when
    they are dense, else a sort. Never ``np.unique``: on NumPy 2.4 it takes a hundred times
    longer on a million of them (1.2 s where a sort takes 0.01 s)."""
    if not len(codes):
        return np.empty(0, dtype=np.int64)
    if int(codes.max()) < 8 * len(codes) + 1024:
        present: np.ndarray = np.flatnonzero(np.bincount(codes))
        return present
    ordered = np.sort(codes)
    distinct: np.ndarray = ordered[np.r_[True, ordered[1:] != ordered[:-1]]]
    return distinct


def clean_text_array(array: pa.Array) -> pa.Array:
    """:func:`normalize_text` over an Arrow string array (RE2).

    Most CRM cells are clean: the rows that may need cleaning are found from the bytes
    (:func:`_rows_to_check`), RE2 judges those only, and only the rows it finds are
    rewritten. One regex pass over a clean column cost 0.04 s a million cells.
    """
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type != pa.string():
        array = array.cast(pa.string())
    rows = _rows_to_check(array)
    if not len(rows):
        return array
    suspects = array.take(pa.array(rows))
    found = np.asarray(pc.fill_null(pc.match_substring_regex(suspects, _NEEDS_CLEANING), False))
    if not found.any():
        return array
    dirty = suspects.filter(pa.array(found))
    dirty = pc.replace_substring_regex(dirty, f"{_CONTROL}|{_FORMAT}", "")
    dirty = pc.replace_substring_regex(dirty, _SPACE + "+", " ")
    dirty = pc.utf8_trim_whitespace(dirty)
    mask = np.zeros(len(array), dtype=bool)
    mask[rows[found]] = True
    return pc.replace_with_mask(array, pa.array(mask), dirty)


# The bytes that begin what _NEEDS_CLEANING finds, besides spaces: controls, and the lead
# bytes of the UTF-8 forms of the other spaces and format characters (C2: U+0085 and
# U+00A0; D8: U+061C; E1: U+1680; E2: U+2000-U+206F; E3: U+3000; EF: U+FEFF).
_SUSPECT_BYTES = np.zeros(256, dtype=bool)
_SUSPECT_BYTES[[*range(0x20), 0x7F, 0xC2, 0xD8, 0xE1, 0xE2, 0xE3, 0xEF]] = True


def _rows_to_check(array: pa.StringArray) -> np.ndarray:
    """The rows that may hold what :data:`_NEEDS_CLEANING` finds: a suspect byte, two
    spaces in a row, or a space first or last. A superset (an accented capital's C2, a
    typographic apostrophe's E2): RE2 has the last word on those rows."""
    n = len(array)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    bounds, data = _string_bytes(array)
    if not len(data):
        return np.empty(0, dtype=np.int64)
    space = data == 0x20
    marked = _SUSPECT_BYTES[data]
    marked[1:] |= space[1:] & space[:-1]  # two spaces: the second one marks (a row's own pair)
    at = np.flatnonzero(marked)
    rows = np.searchsorted(bounds, at, side="right") - 1
    filled = np.flatnonzero(bounds[1:] > bounds[:-1])
    edges = filled[space[bounds[filled]] | space[bounds[filled + 1] - 1]]
    # A pair that straddles two rows marks the second row: checked for nothing, harmless.
    return distinct_codes(np.concatenate([rows, edges]))


_DATEA = "%d%m%y"


def to_datea(value: object, fmt: str | None) -> str | None:
    """A birth date as the API's ``jjmmaa``; None when it cannot be read.

    Real dates (from Excel) are taken as they are; text is read with ``fmt`` when
    given, then as ISO ``YYYY-MM-DD``.
    """
    if isinstance(value, datetime | date):
        return value.strftime(_DATEA)
    text = normalize_text(value)
    if not text:
        return None
    for candidate in (fmt, "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"):
        if candidate is None:
            continue
        try:
            return datetime.strptime(text, candidate).strftime(_DATEA)
        except ValueError:
            continue
    return None


def datea_column(values: pd.Series, fmt: str | None) -> pd.Series:
    """:func:`to_datea` over a column (None where no date); each distinct cell is parsed once."""
    dates = datea_array(values, fmt).to_pylist()
    return pd.Series(dates, index=values.index, dtype=object)


def datea_array(values: pd.Series, fmt: str | None) -> pa.Array:
    """:func:`to_datea` over a column as Arrow strings, null where no date.

    A text column (every CSV column) is split into distinct cells by Arrow, without a
    Python string per row; Excel columns can hold dates and go through pandas.
    """
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        encoded = pc.dictionary_encode(text_array(values))
        uniques: list[object] = encoded.dictionary.to_pylist()
        codes = encoded.indices
    else:
        factorized, distinct = pd.factorize(values.to_numpy(dtype=object, na_value=""))
        uniques, codes = list(distinct), pa.array(factorized, pa.int64())
    return pa.array(_dateas_of(uniques, fmt), pa.string()).take(codes)


def _dateas_of(uniques: list[object], fmt: str | None) -> list[str | None]:
    """The ``jjmmaa`` of each distinct cell, or None."""
    text = pd.Series(uniques, dtype=object).astype(str).str.strip()
    text = text.mask(text.str.fullmatch(_DATE_PLACEHOLDER), "")
    out = pd.Series(None, index=text.index, dtype=object)
    pending = text != ""
    for candidate in (fmt, "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"):
        if candidate is None or not pending.any():
            continue
        parsed = pd.to_datetime(text[pending], format=candidate, errors="coerce")
        ok = parsed.notna()
        out.loc[ok[ok].index] = parsed[ok].dt.strftime(_DATEA)
        pending.loc[ok[ok].index] = False
    return [value if isinstance(value, str) else None for value in out.tolist()]


#: What systems write for "no date": 0/0/00, 00/00/0000, 0000-00-00 (with a zero time or not).
_DATE_PLACEHOLDER = r"0+([/.-]0+)*(\s+0+(:0+)*)?"


def empty_dates(values: pd.Series) -> np.ndarray:
    """True for date cells that hold no date: empty, or a placeholder such as 00/00/0000
    (read as empty, without a warning per row)."""
    text = values.fillna("").astype(str).str.strip()
    return (text.eq("") | text.str.fullmatch(_DATE_PLACEHOLDER)).to_numpy(dtype=bool)


def normalize_group(name: str) -> str:
    """A group name as the tool sends it: trimmed, inner whitespace collapsed, no invisible
    characters (a BOM or zero-width space would otherwise make a second, look-alike group)."""
    return normalize_text(_PY_JOINERS.sub("", name))
