"""Ready mappings: one YAML file per system users export from, shipped in the package.

A ready mapping is named instead of a path (``-m hubspot``); :func:`resolve_mapping` turns
the name into the packaged file, a path that exists always winning. ``init`` recognises a
system from an export's header (:func:`recognise`) and writes its ready mapping with the
column names this file really has (:func:`adapt`): the English, French or older spelling
of each column, and without the columns the export left out (Google writes as many phone
columns as the contact with most numbers has; HubSpot, Salesforce, Odoo and Dolibarr
export the columns the user picked).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sms123_sync.errors import InputError, MappingError
from sms123_sync.i18n import lazy_gettext as _

if TYPE_CHECKING:  # the names and paths are read by --help; the mapping model loads on use
    from sms123_sync.mapping.model import Mapping
    from sms123_sync.sources.base import SourceTable

#: Where the ready mappings live: inside the package, so ``pip install .`` and the editable
#: install both carry them; the repository's top-level ``mappings/`` links to them.
READY_DIR = Path(__file__).resolve().parent.parent / "mappings"


@dataclass(frozen=True)
class ReadySystem:
    """A system with a ready mapping, and how its exports tell themselves apart."""

    name: str  # the file's stem and the name ``-m`` and ``--from`` take
    title: str
    summary: str  # one line for ``sms123-sync mappings``
    marks: tuple[str, ...]  # columns (as the ready file spells them) that together say "this system"
    # Other spellings of the export: variant → {text in the ready file → text in that export},
    # column names and date formats alike.
    variants: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return READY_DIR / f"{self.name}.yaml"

    def spellings(self) -> dict[str, dict[str, str]]:
        """Every spelling of the export, the ready file's own first (no renames)."""
        return {"": {}, **self.variants}


_OUTLOOK_FR = {
    "Mobile Phone": "Tél. mobile",
    "Home Phone": "Téléphone (domicile)",
    "Business Phone": "Téléphone (bureau)",
    "Other Phone": "Téléphone (autre)",
    "Primary Phone": "Téléphone principal",
    "Home Phone 2": "Téléphone 2 (domicile)",
    "Business Phone 2": "Téléphone 2 (bureau)",
    "Car Phone": "Téléphone (voiture)",
    "First Name": "Prénom",
    "Last Name": "Nom",
    "Company": "Société",
    "Birthday": "Anniversaire",
    "Categories": "Catégories",
    "%m/%d/%Y": "%d/%m/%Y",
}

SYSTEMS: tuple[ReadySystem, ...] = (
    ReadySystem(
        "google-contacts",
        "Google Contacts",
        "Google Contacts CSV: phones 1-3, labels as groups",
        ("Phone 1 - Value", "Labels"),
        {
            "older Google CSV": {
                "First Name": "Given Name",
                "Last Name": "Family Name",
                "Organization Name": "Organization 1 - Name",
                "Labels": "Group Membership",
            }
        },
    ),
    ReadySystem(
        "outlook",
        "Outlook",
        "Outlook / Outlook.com CSV (English, French): every phone, categories as groups",
        ("Mobile Phone", "Business Phone", "Categories"),
        {"French": _OUTLOOK_FR},
    ),
    ReadySystem(
        "hubspot",
        "HubSpot",
        "HubSpot contacts export (English, French): lifecycle stages, non-marketing left out",
        ("Record ID", "Lifecycle Stage"),
        {
            "French": {
                "Record ID": "ID de fiche d'informations",
                "Mobile Phone Number": "Numéro de téléphone mobile",
                "Phone Number": "Numéro de téléphone",
                "First Name": "Prénom",
                "Last Name": "Nom",
                "Company Name": "Nom de l'entreprise",
                "Lifecycle Stage": "Phase du cycle de vie",
                "Marketing contact status": "Statut du contact marketing",
            }
        },
    ),
    ReadySystem(
        "salesforce",
        "Salesforce",
        "Salesforce contacts report CSV (English, French): lead sources, Do Not Call left out",
        ("Contact ID", "Account Name"),
        {
            "French": {
                "Contact ID": "ID du contact",
                "Mobile": "Mobile",
                "Phone": "Téléphone",
                "Home Phone": "Téléphone domicile",
                "Other Phone": "Autre téléphone",
                "First Name": "Prénom",
                "Last Name": "Nom",
                "Account Name": "Nom du compte",
                "Birthdate": "Date de naissance",
                "Lead Source": "Origine de la piste",
                "Do Not Call": "Ne pas appeler",
                "%m/%d/%Y": "%d/%m/%Y",
            }
        },
    ),
    ReadySystem(
        "dolibarr",
        "Dolibarr",
        "Dolibarr contacts export (French, English): tags as groups, no-mailing left out",
        ("Tél. portable", "Tél. perso"),
        {
            "English": {
                "Tél. portable": "Mobile",
                "Tél. perso": "Pers. phone",
                "Tél. pro": "Bus. phone",
                "Prénom": "Firstname",
                "Nom": "Lastname",
                "Tiers": "Third party",
                "Date de naissance": "Birthday",
                "Tags/catégories": "Tags/categories",
                "Ne plus envoyer de mailing": "No mass mailing",
            }
        },
    ),
    ReadySystem(
        "odoo",
        "Odoo",
        "Odoo contacts XLSX (English, French): tags as groups, SMS blacklist left out",
        ("Phone Blacklisted",),
        {
            "French": {
                "Name": "Nom",
                "Phone": "Téléphone",
                "Company": "Société",
                "Tags": "Étiquettes",
                "Phone Blacklisted": "Téléphone sur liste noire",
            }
        },
    ),
    ReadySystem(
        "brevo",
        "Brevo",
        "Brevo contacts CSV: SMS attribute, lists as groups, SMS blacklist left out",
        ("SMS", "SMS_BLACKLISTED"),
        {"French account": {"FIRSTNAME": "PRENOM", "LASTNAME": "NOM"}},
    ),
    ReadySystem(
        "school-parents",
        "School parents' list",
        "Parents' association list: one contact per parent phone, a group per class, Autorisation SMS",
        ("Téléphone mère", "Téléphone père", "Autorisation SMS"),
    ),
)

BY_NAME = {system.name: system for system in SYSTEMS}


def with_ready_hint(error: MappingError, mapping_path: Path | str, source: Path | str) -> MappingError:
    """``error`` (columns the export lacks), with the way out when the mapping is a ready
    one: ``init`` writes it with this export's column names and without what it lacks."""
    path = Path(mapping_path).resolve()
    if path.parent != READY_DIR or path.stem not in BY_NAME:
        return error
    hint = _(
        "this is the ready mapping {name}, written for the export with all its columns: "
        "run `sms123-sync init {source}` to write it with this export's column names"
    ).format(name=repr(path.stem), source=source)
    return MappingError(error.path, [*error.texts, hint])


def ready_names() -> list[str]:
    return [system.name for system in SYSTEMS]


def resolve_mapping(value: Path | str) -> Path:
    """The mapping file ``-m`` names: a path that exists, else a ready mapping's name
    (``hubspot`` or ``hubspot.yaml``), else the path as given (reading it says it is missing)."""
    path = Path(value)
    if path.exists():
        return path
    stem = path.name.removesuffix(".yaml").removesuffix(".yml")
    if path.parent == Path() and stem in BY_NAME:
        return BY_NAME[stem].path
    return path


@dataclass(frozen=True)
class Recognised:
    """A system found in an export's header, in one of its spellings."""

    system: ReadySystem
    variant: str  # "" for the ready file's own spelling
    renames: dict[str, str]

    @property
    def label(self) -> str:
        return f"{self.system.title} ({self.variant})" if self.variant else self.system.title


def recognise(columns: list[str]) -> Recognised | None:
    """The system whose marks are all in ``columns``, in the spelling that finds the most
    of its mapping's columns; None when no system's marks are all there."""
    present = set(columns)
    best: tuple[int, Recognised] | None = None
    for system in SYSTEMS:
        used = list(_ready_mapping(system).columns_used())
        for variant, renames in system.spellings().items():
            if not all(renames.get(mark, mark) in present for mark in system.marks):
                continue
            score = sum(renames.get(column, column) in present for column in used)
            if best is None or score > best[0]:
                best = (score, Recognised(system, variant, renames))
    return best[1] if best else None


def spelling_of(system: ReadySystem, columns: list[str]) -> Recognised:
    """The spelling of ``system`` (``--from``) that finds the most columns of the export."""
    present = set(columns)
    used = list(_ready_mapping(system).columns_used())
    scored = [
        (sum(renames.get(c, c) in present for c in used), Recognised(system, variant, renames))
        for variant, renames in system.spellings().items()
    ]
    return max(scored, key=lambda pair: pair[0])[1]


def _ready_mapping(system: ReadySystem) -> Mapping:
    from sms123_sync.mapping.model import parse_mapping

    return parse_mapping(system.path.read_text(encoding="utf-8"), str(system.path))


def adapt(found: Recognised, columns: list[str], source: str) -> tuple[str, list[str]]:
    """The ready mapping's text for this export, and the columns left out of it.

    Column names (and date formats) are renamed in the text, quoted as the ready files
    quote them, so the comments stay. Columns the export lacks are then removed from the
    mapping read back; the text is then written anew under the ready file's opening
    comments. Raises InputError when no phone column of the mapping is in the export.
    """
    from sms123_sync.mapping.model import parse_mapping

    text = found.system.path.read_text(encoding="utf-8")
    for old, new in found.renames.items():
        text = text.replace(json.dumps(old, ensure_ascii=False), json.dumps(new, ensure_ascii=False))
    mapping = parse_mapping(text, found.system.name)
    present = set(columns)
    missing = [column for column in mapping.columns_used() if column not in present]
    if not missing:
        return text, []
    data: dict[str, Any] = yaml.safe_load(text)
    _drop_columns(data, set(missing), found, source)
    opening = _opening(text)
    note = f"# sms123-sync init: {source} has no column {', '.join(map(repr, missing))}; left out of this mapping."
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
    adapted = "\n".join([*opening, note, body])
    parse_mapping(adapted, found.system.name)  # what init writes must load
    return adapted, missing


def _opening(text: str) -> list[str]:
    """The comment lines a ready file opens with."""
    lines = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            break
        lines.append(line)
    return lines


def _drop_columns(data: dict[str, Any], missing: set[str], found: Recognised, source: str) -> None:
    """Removes from the mapping's data every use of a column in ``missing``."""
    people = data.get("contacts") or [data["fields"]]
    kept_people = []
    for person in people:
        numero = person["numero"]
        if isinstance(numero, dict) and "columns" in numero:
            numero["columns"] = [c for c in numero["columns"] if c not in missing]
            if not numero["columns"]:
                continue
            if len(numero["columns"]) == 1:
                person["numero"] = numero["columns"][0]
        elif numero in missing:
            continue
        for name in [k for k, v in person.items() if k != "numero"]:
            value = person[name]
            column = value.get("column") if isinstance(value, dict) else value
            if column in missing:
                del person[name]
        kept_people.append(person)
    if not kept_people:
        raise InputError(
            _(
                "{source}: looks like a {system} export but has none of its phone columns "
                "({columns}); add a phone column to the export"
            ).format(source=source, system=found.label, columns=", ".join(sorted(missing)))
        )
    if "contacts" in data:
        data["contacts"] = kept_people
    if data.get("identity") in missing:
        del data["identity"]
    groups = data.get("groups", {})
    if groups.get("column") in missing:
        for key in ("column", "separator", "level_separator", "level"):
            groups.pop(key, None)
    if "columns" in groups:
        groups["columns"] = [
            c for c in groups["columns"] if (c.get("column") if isinstance(c, dict) else c) not in missing
        ]
        if not groups["columns"]:
            del groups["columns"]
    if "filter" in data:
        data["filter"] = [rule for rule in data["filter"] if rule["column"] not in missing]
        if not data["filter"]:
            del data["filter"]


def propose_mapping(source: str, table: SourceTable, system_name: str | None = None) -> tuple[str, list[str]]:
    """The mapping ``init`` writes for the export ``table`` and the lines saying why: the
    ready mapping of the system named or recognised, else one guessed from the columns."""
    from sms123_sync.mapping.infer import guess_mapping, write_guess

    columns = table.columns
    found = spelling_of(BY_NAME[system_name], columns) if system_name else recognise(columns)
    if found is None:
        guess = guess_mapping(table)
        lines = [str(_("no known system recognised from the header; proposed from the columns:"))]
        return write_guess(guess, source), lines + [f"  {line}" for line in guess.describe()]
    text, missing = adapt(found, columns, source)
    if system_name:
        said = _("{system} export (named with --from): the ready mapping {name}")
    else:
        said = _("{system} export (recognised from its header): the ready mapping {name}")
    lines = [str(said.format(system=found.label, name=repr(found.system.name)))]
    if missing:
        lines.append(
            "  "
            + str(_("left out the columns this export does not have: {columns}").format(columns=", ".join(missing)))
        )
    opening = (
        f"# Written by sms123-sync init for {source}: the ready mapping {found.system.name!r} with the\n"
        f"# column names of this {found.label} export.\n"
    )
    return opening + text, lines
