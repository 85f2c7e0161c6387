"""Normalising values from a CRM export: phone numbers, text, dates, group names.

Phone numbers become international digits without ``+`` (``33612345678``). Two paths
give the same answer: a vectorised fast path (pyarrow regular expressions built from
libphonenumber's own metadata for the default region) decides the common national and
international spellings in one pass over the column; whatever it cannot decide goes
through libphonenumber itself, once per distinct value. Overseas French
numbers written nationally (``0692…``) are tried against the overseas regions, so
they become ``262692…`` rather than an invalid ``33692…``.

Known ambiguity: a nine-digit string is both a cell that lost its leading zero
(``612345678``) and, for Saint-Pierre-et-Miquelon (+508, six-digit national
numbers), a complete international number. The lost-zero reading wins; write those
numbers with ``+508``.

Every function here is pure: no file, no network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import PhoneNumberType

#: Regions a French number written nationally may belong to, beyond metropolitan France.
FRENCH_OVERSEAS = ("RE", "YT", "GP", "MQ", "GF", "PM", "BL", "MF")
_FRENCH_FAMILY = frozenset({"FR", *FRENCH_OVERSEAS})

_SEPARATORS = r"[\s.\-/()\x{00a0}]"
_TRUNK_MARK = r"\(0\)"  # "+33 (0)6 …": the national prefix shown in brackets
_PY_SEPARATORS = re.compile(r"[\s.\-/()\u00a0]")
_EXCEL_FLOAT = re.compile(r"^(\d+)\.0+$")
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

MOBILE = "mobile"
LANDLINE = "landline"
OTHER = "other"

_TYPE_NAMES = {
    PhoneNumberType.MOBILE: MOBILE,
    PhoneNumberType.FIXED_LINE: LANDLINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: MOBILE,
}


@dataclass(frozen=True, slots=True)
class Phone:
    """A normalised number: international digits and its line type."""

    digits: str
    kind: str  # mobile | landline | other


def _prepare(raw: str, region: str) -> str:
    """Rewrites the CRM spellings libphonenumber does not take as they are."""
    text = raw.strip()
    excel = _EXCEL_FLOAT.match(text)
    if excel:
        text = excel.group(1)
    text = _PY_SEPARATORS.sub("", text.replace("(0)", ""))
    if text.startswith("00"):
        return "+" + text[2:]
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if text.isdigit() and meta is not None and meta.general_desc is not None:
        cc = str(meta.country_code)
        lengths = meta.general_desc.possible_length
        prefix = meta.national_prefix or ""
        if text.startswith(cc) and len(text) - len(cc) in lengths:
            return "+" + text
        if prefix and not text.startswith(prefix) and len(text) in lengths:
            return prefix + text  # a cell that lost its leading zero
        if not text.startswith(prefix or "0") and len(text) > max(lengths):
            return "+" + text  # international digits written without "+"
    return text


@lru_cache(maxsize=65536)
def normalize_phone(raw: str, region: str = "FR") -> Phone | None:
    """The number in ``raw`` as international digits, or None when it is not valid.

    The slow, exact path: libphonenumber, with the overseas French regions tried for
    numbers that are not valid in metropolitan France.
    """
    text = _prepare(raw, region)
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        overseas = _overseas(number, region)
        if overseas is None:
            return None
        number = overseas
    kind = _TYPE_NAMES.get(phonenumbers.number_type(number), OTHER)
    return Phone(f"{number.country_code}{number.national_number}", kind)


def _overseas(number: phonenumbers.PhoneNumber, region: str) -> phonenumbers.PhoneNumber | None:
    """A French-looking number re-read in the overseas regions, when one accepts it."""
    if region not in _FRENCH_FAMILY or number.country_code != 33 or len(str(number.national_number)) != 9:
        return None  # only numbers written like a French one (0 + 9 digits) are re-read
    national = "0" + str(number.national_number)
    for overseas in FRENCH_OVERSEAS:
        candidate = phonenumbers.parse(national, overseas)
        if phonenumbers.is_valid_number(candidate):
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class _FastPath:
    """Vectorised patterns for one region, derived from libphonenumber's metadata."""

    country_code: str
    extract: str
    mobile: str
    landline: str


@lru_cache(maxsize=32)
def _fast_path(region: str) -> _FastPath | None:
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.general_desc is None or meta.mobile is None or meta.fixed_line is None:
        return None
    if not meta.national_prefix or len(set(meta.general_desc.possible_length)) != 1:
        return None  # regions with several number lengths go the exact way only
    cc = str(meta.country_code)
    (length,) = set(meta.general_desc.possible_length)
    prefix = re.escape(meta.national_prefix)
    extract = rf"^(?:\+{cc}|00{cc}|{cc}|{prefix})?(?P<nsn>[1-9]\d{{{length - 1}}})$"
    return _FastPath(
        cc, extract, f"^(?:{meta.mobile.national_number_pattern})$", f"^(?:{meta.fixed_line.national_number_pattern})$"
    )


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
    digits, kinds, decided = _fast_decide(values, fast)
    undecided = pc.invert(decided)
    if pc.any(undecided).as_py():
        rest_digits, rest_kinds = _normalize_exactly(values.filter(undecided), region)
        digits = pc.replace_with_mask(digits, undecided, rest_digits)
        kinds = pc.replace_with_mask(kinds, undecided, rest_kinds)
    return digits, kinds


def _fast_decide(values: pa.Array, fast: _FastPath) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(digits, kind, decided) per value, for the spellings the region's patterns settle."""
    cleaned = pc.replace_substring_regex(values, _TRUNK_MARK, "")
    cleaned = pc.replace_substring_regex(cleaned, _SEPARATORS, "")
    parts = pc.extract_regex(cleaned, fast.extract)
    nsn = pc.struct_field(parts, [0])
    matched = parts.is_valid()
    mobile = pc.fill_null(pc.and_(matched, pc.match_substring_regex(nsn, fast.mobile)), False)
    landline = pc.fill_null(pc.and_(matched, pc.match_substring_regex(nsn, fast.landline)), False)
    decided = pc.or_(mobile, landline)
    none = pa.scalar(None, pa.string())
    digits = pc.if_else(decided, pc.binary_join_element_wise(fast.country_code, nsn, ""), none)
    kinds = pc.if_else(mobile, MOBILE, pc.if_else(landline, LANDLINE, none))
    return digits, kinds, decided


def _normalize_exactly(values: pa.Array, region: str) -> tuple[pa.Array, pa.Array]:
    """libphonenumber on each distinct value once, spread back over the rows."""
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_pylist()
    phones = [normalize_phone(value, region) if isinstance(value, str) else None for value in distinct]
    digits = pa.array([p.digits if p else None for p in phones], pa.string())
    kinds = pa.array([p.kind if p else None for p in phones], pa.string())
    return pc.take(digits, encoded.indices), pc.take(kinds, encoded.indices)


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


def clean_text_array(array: pa.Array) -> pa.Array:
    """:func:`normalize_text` over an Arrow string array (RE2)."""
    # Most CRM columns are clean: one search decides whether the three rewrites are needed.
    if pc.any(pc.match_substring_regex(array, _NEEDS_CLEANING)).as_py():
        array = pc.replace_substring_regex(array, f"{_CONTROL}|{_FORMAT}", "")
        array = pc.replace_substring_regex(array, _SPACE + "+", " ")
        array = pc.utf8_trim_whitespace(array)
    return array


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
    """:func:`to_datea` over a column; each distinct cell is parsed once."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object, na_value=""))
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
    result = out.to_numpy(dtype=object)[codes] if len(out) else np.full(len(values), None, dtype=object)
    return pd.Series(result, index=values.index, dtype=object)


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
