"""One phone number, read exactly: libphonenumber and the overseas French regions.

The scalar path of :mod:`sms123_sync.mapping.normalize`, in a module of its own so that
``send --to`` can check a number without loading pandas and pyarrow (the column path
there imports this one: both read a number the same way by construction).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

#: Regions a French number written nationally may belong to, beyond metropolitan France.
FRENCH_OVERSEAS = ("RE", "YT", "GP", "MQ", "GF", "PM", "BL", "MF")
_FRENCH_FAMILY = frozenset({"FR", *FRENCH_OVERSEAS})
_PY_SEPARATORS = re.compile(r"[\s.\-/()\u00a0]")
_EXCEL_FLOAT = re.compile(r"^(\d+)\.0+$")

MOBILE = "mobile"
FIXED_LINE = "fixed_line"

#: libphonenumber's number types under the names a mapping uses (``phone: {types: …}``).
#: FIXED_LINE_OR_MOBILE (regions whose plans do not tell them apart) counts as a mobile.
PHONE_TYPES: dict[int, str] = {
    PhoneNumberType.MOBILE: MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: MOBILE,
    PhoneNumberType.FIXED_LINE: FIXED_LINE,
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}


@dataclass(frozen=True, slots=True)
class Phone:
    """A normalised number: international digits and its line type."""

    digits: str
    kind: str  # a value of PHONE_TYPES


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
    number = _parse(raw, region)
    if number is None:
        return None
    if not phonenumbers.is_valid_number(number):
        # Only a number written nationally may belong to an overseas region: "+33 6 90 …"
        # says France, and moving it to Guadeloupe would text whoever holds that number there.
        overseas = None if _explicit_country(number) else _overseas(number, region)
        if overseas is None:
            return None
        number = overseas
    kind = PHONE_TYPES.get(phonenumbers.number_type(number), "unknown")
    return Phone(f"{number.country_code}{number.national_number}", kind)


def _parse(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    text = _prepare(raw, region)
    if not text:
        return None
    try:
        return phonenumbers.parse(text, region, keep_raw_input=True)
    except phonenumbers.NumberParseException:
        return None


def _explicit_country(number: phonenumbers.PhoneNumber) -> bool:
    """Whether the text carried a country code (+33, 0033, 33…) rather than the region's."""
    return number.country_code_source != phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY


def _overseas(number: phonenumbers.PhoneNumber, region: str) -> phonenumbers.PhoneNumber | None:
    """A French-looking number re-read in the overseas regions, when one accepts it."""
    if region not in _FRENCH_FAMILY or number.country_code != 33 or len(str(number.national_number)) != 9:
        return None  # only numbers written like a French one (0 + 9 digits) are re-read
    nsn = str(number.national_number)
    national = "0" + nsn
    for overseas, plan in _overseas_plans():
        if plan.fullmatch(nsn) is None and plan.fullmatch(national) is None:
            continue  # no region of that country code holds such a number: spare the parse
        candidate = phonenumbers.parse(national, overseas)
        if phonenumbers.is_valid_number(candidate):
            return candidate
    return None


def _overseas_exactly(number: phonenumbers.PhoneNumber, region: str) -> phonenumbers.PhoneNumber | None:
    """:func:`_overseas` without its shortcut: every region parsed (the tests compare the two)."""
    if region not in _FRENCH_FAMILY or number.country_code != 33 or len(str(number.national_number)) != 9:
        return None
    national = "0" + str(number.national_number)
    for overseas in FRENCH_OVERSEAS:
        candidate = phonenumbers.parse(national, overseas)
        if phonenumbers.is_valid_number(candidate):
            return candidate
    return None


# The number descriptions libphonenumber checks when it calls a number valid: one of them
# must match (a number that fits only the general description is of no type, invalid).
_TYPE_DESCS = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)


@lru_cache(maxsize=1)
def _overseas_plans() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Per overseas region, the national numbers any region of its country code may hold.

    Most rejects are French-looking numbers in no plan at all: parsing each under eight
    regions cost about 150 µs a row. The number parsed there keeps its digits (the "0" is
    stripped, or kept when what is left fits no plan), and a valid number matches one of
    its region's number types; the candidate's region may be any one sharing the country
    code (590: GP, BL, MF), so each region's filter is those regions' types together. The
    filter only skips parses that cannot succeed: what passes is parsed and checked as before.
    """
    plans = []
    for overseas in FRENCH_OVERSEAS:
        code = phonenumbers.country_code_for_region(overseas)
        patterns = []
        for sharer in phonenumbers.region_codes_for_country_code(code):
            meta = phonenumbers.PhoneMetadata.metadata_for_region(sharer)
            for name in _TYPE_DESCS:
                desc = getattr(meta, name, None) if meta is not None else None
                if desc is not None and desc.national_number_pattern:
                    patterns.append(f"(?:{desc.national_number_pattern})")
        plans.append((overseas, re.compile("|".join(patterns) or "(?!)")))
    return tuple(plans)
