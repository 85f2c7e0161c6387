"""A mapping proposed from what an export holds, for ``sms123-sync init``.

Each guess reads the header and the cells: a phone column is one where most filled cells
are mobiles as libphonenumber reads them (or a phone-like name with some mobiles); names,
companies, birthdays, cities are found by their column names in French and English; an
identity is a column named like one whose cells are unique and never empty; a tags column
has few distinct values; an opt-in or opt-out column holds only yes/no values under a
name that says which. Every guess goes into the mapping as a comment with its evidence,
so the user can check it before the first sync.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from sms123_sync.errors import InputError
from sms123_sync.i18n import Text, english
from sms123_sync.i18n import lazy_gettext as _
from sms123_sync.mapping.model import FALSE_WORDS, TRUE_WORDS
from sms123_sync.mapping.normalize import CHOSEN, REFUSED, choose_in_cell
from sms123_sync.sources.base import SourceTable

#: Cells read per column: enough to judge a column, quick on a million-row export.
SAMPLE_ROWS = 2000
#: Share of filled cells that must be mobiles for a column to be a phone column by its
#: content alone; a column named like a phone needs fewer (a landline column with some
#: mobiles typed in it is still worth reading, after the mobile ones).
PHONE_SHARE = 0.5
NAMED_PHONE_SHARE = 0.1
_MOBILE = frozenset({"mobile"})

# Words in column names, accents and case aside; a name equal to one wins over one
# containing it.
_PHONE_WORDS = ("tel", "phone", "mobile", "portable", "gsm", "cell", "sms", "whatsapp", "numero", "telephone")
_MOBILE_WORDS = ("mobile", "portable", "gsm", "cell", "sms")
_FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "prenom": ("prenom", "first name", "firstname", "given name", "prenom du responsable", "first"),
    "nom": ("nom", "last name", "lastname", "surname", "family name", "nom de famille", "name", "nom du responsable"),
    "societe": ("societe", "entreprise", "company", "company name", "organisation", "organization", "account name"),
    "datea": ("date de naissance", "naissance", "birthday", "birthdate", "date of birth", "anniversaire"),
    "v1": ("ville", "city", "commune", "localite"),
}
# What a field's column is named like, said in the reader's language.
_FIELD_NOTES: dict[str, Text] = {
    "prenom": _("a first name"),
    "nom": _("a name"),
    "societe": _("a company"),
    "datea": _("a birth date"),
    "v1": _("the city, for {v1} in messages"),
}
_IDENTITY_WORDS = (
    "id",
    "identifiant",
    "record id",
    "contact id",
    "ref",
    "reference",
    "n°",
    "no",
    "numero client",
)
_GROUP_WORDS = (
    "groupe",
    "groupes",
    "group",
    "groups",
    "tags",
    "tag",
    "etiquettes",
    "labels",
    "categories",
    "categorie",
    "segments",
    "segment",
    "listes",
    "lists",
    "classe",
    "class",
    "lifecycle stage",
)
_OPT_OUT_WORDS = (
    *("blacklist", "blacklisted", "liste noire", "opt-out", "optout", "opt out", "desinscrit", "unsubscribed"),
    *("do not", "ne pas", "refus", "stop", "ne plus"),
)
_OPT_IN_WORDS = ("opt-in", "optin", "opt in", "autorisation", "consent", "accord", "accepte", "sms")
_SEPARATORS = (" ::: ", ";", ",", "|")


def _plain(text: str) -> str:
    """Lower case, no accents, single spaces: how column names are compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().replace("_", " ").split())


def _named(column: str, words: tuple[str, ...]) -> int:
    """2 when the column's name is one of ``words``, 1 when it holds one as a word, else 0."""
    name = _plain(column)
    if name in words:
        return 2
    return int(any(re.search(rf"(^|[^a-z]){re.escape(w)}([^a-z]|$)", name) for w in words))


@dataclass
class Guess:
    """A mapping proposed for one export: its parts, and the evidence for each."""

    phones: list[tuple[str, Text]] = field(default_factory=list)  # (column, evidence)
    fields: dict[str, tuple[str, Text]] = field(default_factory=dict)  # field → (column, evidence)
    identity: tuple[str, Text] | None = None
    groups: list[tuple[str, str | None, Text]] = field(default_factory=list)  # (column, separator, evidence)
    filters: list[tuple[str, bool, Text]] = field(default_factory=list)  # (column, keep yes?, evidence)
    date_format: str | None = None  # how the birth date column's text reads, when not ISO
    # Phone columns that are each a person of their own (a mother's and a father's mobile),
    # with the evidence: one contact per column (``contacts:``) instead of one per row.
    people: tuple[list[str], Text] | None = None

    def describe(self) -> list[Text]:
        """One line per guess, for the terminal, in the reader's language (the mapping's own
        key names, ``phone``, ``identity``…, stay as the file writes them)."""
        line = _("{key}: {column} ({why})")
        lines = [line.format(key="phone", column=column, why=why) for column, why in self.phones]
        if self.people:
            lines.append(
                _("one contact per column {columns} ({why})").format(
                    columns=", ".join(self.people[0]), why=self.people[1]
                )
            )
        lines += [line.format(key=name, column=column, why=why) for name, (column, why) in self.fields.items()]
        if self.identity:
            lines.append(line.format(key="identity", column=self.identity[0], why=self.identity[1]))
        lines += [line.format(key="groups", column=column, why=why) for column, _sep, why in self.groups]
        for column, keep, why in self.filters:
            said = _("filter: {column} is yes ({why})") if keep else _("filter: {column} is no ({why})")
            lines.append(said.format(column=column, why=why))
        return lines


def guess_mapping(table: SourceTable, region: str = "FR") -> Guess:
    """What each column of ``table`` seems to hold; InputError when none holds phones."""
    frame = table.frame.head(SAMPLE_ROWS)
    guess = Guess()
    taken: set[str] = set()
    phones: list[tuple[tuple[int, float], str, Text]] = []
    mobiles_of: dict[str, list[str | None]] = {}
    mobile_share: dict[str, float] = {}
    for column in table.columns:
        cells = _filled(frame[column])
        if not cells:
            continue
        choices = [choose_in_cell(cell, region, _MOBILE) for cell in cells]
        mobiles = sum(c.status == CHOSEN for c in choices)
        numbers = sum(c.status in (CHOSEN, REFUSED) for c in choices)
        share, phone_share = mobiles / len(cells), numbers / len(cells)
        named = _named(column, _PHONE_WORDS)
        if mobiles and (phone_share >= PHONE_SHARE or (named and share >= NAMED_PHONE_SHARE)):
            mobile_name = _named(column, _MOBILE_WORDS) > 0
            why = _("{phones} of its {n} filled cells are phone numbers, {mobiles} mobiles").format(
                phones=f"{phone_share:.0%}", n=len(cells), mobiles=f"{share:.0%}"
            )
            phones.append(((int(mobile_name), share), column, why))
            mobiles_of[column] = _row_mobiles(frame[column], region)
            mobile_share[column] = share
    if not phones:
        raise InputError(
            _(
                "{source}: no column holds phone numbers (none has {share} of its filled cells "
                "readable as phone numbers with a mobile among them, nor a phone-like name with some mobiles); "
                "the columns are: {columns}. Add the mobile numbers to the export, "
                "or write the mapping by hand (docs/mappings.md)"
            ).format(source=table.location, share=f"{PHONE_SHARE:.0%}", columns=", ".join(map(repr, table.columns)))
        )
    phones.sort(key=lambda item: item[0], reverse=True)  # mobile names first, then the most mobile
    guess.phones = [(column, why) for _, column, why in phones]
    taken.update(column for column, _ in guess.phones)
    guess.people = _people_columns([c for c, _ in guess.phones if mobile_share[c] >= PHONE_SHARE], mobiles_of)

    for name, words in _FIELD_WORDS.items():
        ranked = sorted(
            ((_named(c, words), -i, c) for i, c in enumerate(table.columns) if c not in taken),
            reverse=True,
        )
        if ranked and ranked[0][0] > 0:
            column = ranked[0][2]
            if not _filled(frame[column]):
                continue
            how = _("is named like {what}") if ranked[0][0] == 2 else _("has a name with a word for {what}")
            why = how.format(what=_FIELD_NOTES[name])
            if name == "datea":
                fmt = _date_format(_filled(frame[column]))
                if fmt:
                    why = _("{why}; dates read as {format}").format(why=why, format=fmt)
                guess.date_format = fmt
            guess.fields[name] = (column, why)
            taken.add(column)

    for column in table.columns:
        values = frame[column].astype(str).str.strip()
        if column in taken or not _named(column, _IDENTITY_WORDS):
            continue
        if len(values) and (values != "").all() and values.is_unique:
            if len(table.frame) > len(values):
                said = _("named like an id; every cell filled and different in the first {n} rows")
            else:
                said = _("named like an id; every cell filled and different")
            guess.identity = (column, said.format(n=len(values)))
            taken.add(column)
            break

    for column in table.columns:
        if column in taken:
            continue
        cells = _filled(frame[column])
        yes_no = bool(cells) and all(_plain(c) in TRUE_WORDS | FALSE_WORDS for c in cells)
        if yes_no and _named(column, _OPT_OUT_WORDS):
            guess.filters.append((column, False, _("yes/no cells under an opt-out name: rows with yes are left out")))
            taken.add(column)
        elif yes_no and _named(column, _OPT_IN_WORDS):
            guess.filters.append((column, True, _("yes/no cells under a consent name: only rows with yes are kept")))
            taken.add(column)

    for column in table.columns:
        if column in taken:
            continue
        cells = _filled(frame[column])
        if not cells or not _named(column, _GROUP_WORDS):
            continue
        separator = _separator(cells)
        distinct = Counter(v.strip() for c in cells for v in (c.split(separator) if separator else [c]))
        if len(distinct) > max(20, len(cells) // 2):
            continue  # as many values as rows: a note, not a group
        if separator:
            why = _("named like groups; {n} distinct values, split on {separator}")
        else:
            why = _("named like groups; {n} distinct values")
        why = why.format(n=len(distinct), separator=repr(separator))
        guess.groups.append((column, separator, why))
        taken.add(column)
    return guess


#: Share of the rows with mobiles in two columns where they differ, above which the
#: columns are two people (a school list's mother and father), not one person's numbers.
PEOPLE_SHARE = 0.8


def _row_mobiles(series: pd.Series, region: str) -> list[str | None]:
    """The mobile each row's cell gives, or None."""
    found: list[str | None] = []
    for cell in series.astype(str).tolist():
        choice = choose_in_cell(cell, region, _MOBILE) if cell.strip() else None
        found.append(choice.chosen.digits if choice is not None and choice.chosen is not None else None)
    return found


def _people_columns(columns: list[str], mobiles_of: dict[str, list[str | None]]) -> tuple[list[str], Text] | None:
    """The phone columns (each mostly mobiles) that are different people: where two of
    them hold mobiles in one row, they differ in at least PEOPLE_SHARE of such rows."""
    mostly = columns
    if len(mostly) < 2:
        return None
    both = differ = 0
    for row in zip(*(mobiles_of[c] for c in mostly), strict=True):
        numbers = [m for m in row if m is not None]
        if len(numbers) >= 2:
            both += 1
            differ += len(set(numbers)) == len(numbers)
    if both >= 2 and differ / both >= PEOPLE_SHARE:
        why = _("in {differ} of the {both} rows where several of them hold a mobile, the mobiles differ").format(
            differ=differ, both=both
        )
        return mostly, why
    return None


#: Text date formats tried on a birth date column, the most used in French exports first.
_DATE_FORMATS = ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y")


def _date_format(cells: list[str]) -> str | None:
    """The format that reads the most cells (None when ISO dates, or Excel dates, read best)."""
    best, best_count = None, sum(bool(re.fullmatch(r"\d{4}-\d\d-\d\d( .*)?", c)) for c in cells)
    for fmt in _DATE_FORMATS:
        count = 0
        for cell in cells:
            try:
                datetime.strptime(cell, fmt)
            except ValueError:
                continue
            count += 1
        if count > best_count:
            best, best_count = fmt, count
    return best


def _filled(series: pd.Series) -> list[str]:
    return [c for c in series.astype(str).str.strip().tolist() if c and c.lower() != "nan"]


def _separator(cells: list[str]) -> str | None:
    """The separator between several values in a cell, when at least 5 % of cells use it."""
    for separator in _SEPARATORS:
        if sum(separator in c for c in cells) >= max(1, len(cells) // 20):
            return separator
    return None


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def write_guess(guess: Guess, source: str, region: str = "FR") -> str:
    """The proposed mapping as YAML, every guess commented with its evidence."""
    lines = [
        f"# Proposed by sms123-sync init from {source}: check each guess, then",
        f"#   sms123-sync validate {source} -m THIS_FILE",
        "# Reference: docs/mappings.md.",
        f"phone: {{region: {region}}}",
    ]
    if guess.identity:
        lines += [
            f"# identity: {english(guess.identity[1])}; a changed number is then an update",
            f"identity: {_q(guess.identity[0])}",
        ]
    else:
        lines.append("# no identity column found: the number identifies the contact")
    for column, why in guess.phones:
        lines.append(f"# phone column {_q(column)}: {english(why)}")
    indent = "  "
    if guess.people:
        columns, why = guess.people
        lines.append(f"# one contact per phone column {', '.join(map(_q, columns))}: {english(why)} (different people)")
        lines.append("contacts:")
        lines.append("  - &person")
        lines.append(f"    numero: {_q(columns[0])}")
        indent = "    "
    else:
        lines.append("fields:")
        if len(guess.phones) == 1:
            lines.append(f"  numero: {_q(guess.phones[0][0])}")
        else:
            lines.append("  # the first mobile among them, in this order, is the contact's number")
            lines.append(f"  numero: {{columns: [{', '.join(_q(c) for c, _ in guess.phones)}]}}")
    for name, (column, why) in guess.fields.items():
        lines.append(f"{indent}# {name}: {_q(column)} {english(why)}")
        if name == "datea" and guess.date_format:
            lines.append(f"{indent}{name}: {{column: {_q(column)}, format: {_q(guess.date_format)}}}")
        else:
            lines.append(f"{indent}{name}: {_q(column)}")
    for column in guess.people[0][1:] if guess.people else []:
        lines.append("  - <<: *person")
        lines.append(f"    numero: {_q(column)}")
    lines.append("groups:")
    for i, (column, separator, why) in enumerate(guess.groups):
        lines.append(f"  # {_q(column)}: {english(why)}")
        if i == 0:
            lines.append("  columns:")
        entry = f"{{column: {_q(column)}, separator: {_q(separator)}}}" if separator else _q(column)
        lines.append(f"    - {entry}")
    if not guess.groups:
        lines.append("  # no column looks like groups (tags, labels, categories, classes…): everyone in one group")
    lines.append('  always: ["Tous les contacts"]')
    if guess.filters:
        lines.append("filter:")
        for column, keep, why in guess.filters:
            lines.append(f"  # {_q(column)}: {english(why)}")
            lines.append(f"  - {{column: {_q(column)}, is: {'true' if keep else 'false'}}}")
    else:
        lines.append("# no opt-in or opt-out column found: every row with a mobile is synced")
    lines.append("mode: mirror")
    return "\n".join(lines) + "\n"
