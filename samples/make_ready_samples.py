"""Writes the sample exports of the ready mappings (samples/ready/), fictional people.

python samples/make_ready_samples.py

Each sample has its system's real column names (and, where the system translates them,
a French-interface twin), its file shape (encoding, separator, trailing separators, a
report footer, XLSX, a title row), and rows that exercise the mapping: a mobile in the
second or third phone column, a cell with a comment, a cell with two numbers, a person
with only landlines, an opt-out, several groups in one cell, a person in no group.
The tests build the "next night" export with the same code (:func:`next_night`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent / "ready"


@dataclass(frozen=True)
class Person:
    pid: int
    first: str
    last: str
    company: str
    birthday: date | None
    mobile: tuple[str, ...]  # several numbers: one cell holding them all
    home: str
    work: str
    groups: tuple[str, ...]
    opted_out: bool = False


PEOPLE: tuple[Person, ...] = (
    Person(
        1, "Alice", "Martin", "Boulangerie Martin", date(1985, 3, 14), ("06 12 34 56 01",), "", "", ("VIP", "Clients")
    ),
    Person(2, "Bruno", "Petit", "", date(1979, 11, 2), (), "01 45 67 89 02", "07 81 23 45 02", ("Clients",)),
    Person(
        3, "Chloé", "Durand", "Cabinet Durand", None, ("06 12 34 56 03 (perso)",), "", "01 45 67 89 03", ("Prospects",)
    ),
    Person(4, "David", "Leroy", "", date(1990, 6, 30), ("06 12 34 56 04",), "", "", ("Clients",), opted_out=True),
    Person(5, "Émilie", "Moreau", "", date(1988, 1, 20), ("06 12 34 56 05", "07 11 22 33 05"), "", "", ("VIP",)),
    Person(6, "Farid", "Benali", "Garage Benali", None, (), "01 45 67 89 06", "04 72 00 00 06", ("Clients",)),
    Person(7, "Gaëlle", "Roux", "", date(1975, 9, 9), ("+33 6 12 34 56 07",), "", "", ("Bénévoles", "Clients")),
    Person(8, "Hugo", "Simon", "", None, ("0612345608",), "", "", ()),
)


def next_night(people: tuple[Person, ...], has_opt_out: bool) -> tuple[Person, ...]:
    """The export a night later: Hugo (8) gone, Alice (1) opted out where the system
    records opt-outs, Chloé (3) with a new mobile."""
    changed = []
    for person in people:
        if person.pid == 8:
            continue
        if person.pid == 1 and has_opt_out:
            person = replace(person, opted_out=True)
        if person.pid == 3:
            person = replace(person, mobile=("06 12 34 56 33",))
        changed.append(person)
    return tuple(changed)


@dataclass(frozen=True)
class Sample:
    """One system's export shape. ``roles`` names the column of each part of a person;
    ``phones`` the phone columns in the order mobile, then the others."""

    file: str
    system: str
    header: tuple[str, ...]
    roles: dict[str, str]
    phones: tuple[str, ...]
    group_separator: str = ";"
    one_group: bool = False  # the system keeps one value (lifecycle stage, lead source)
    group_prefix: str = ""
    extra_groups: tuple[str, ...] = ()
    phone_separator: str = " / "
    flag: tuple[object, object] = ("Oui", "Non")  # the opt-out column: (opted out, not)
    date_format: str = "%d/%m/%Y"
    no_date: str = ""
    encoding: str = "utf-8"
    delimiter: str = ","
    trailing: bool = False
    footer: tuple[str, ...] = ()
    international: bool = False  # numbers written 336…, as Brevo stores them
    fixed: dict[str, str] = field(default_factory=dict)  # constant cells (a country, a status)

    @property
    def has_opt_out(self) -> bool:
        return "opt_out" in self.roles


GOOGLE = (
    "First Name,Middle Name,Last Name,Phonetic First Name,Phonetic Middle Name,Phonetic Last Name,Name Prefix,"
    "Name Suffix,Nickname,File As,Organization Name,Organization Title,Organization Department,Birthday,Notes,"
    "Photo,Labels,E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,"
    "Phone 2 - Value,Phone 3 - Label,Phone 3 - Value"
)
OUTLOOK_EN = (
    "Title,First Name,Middle Name,Last Name,Suffix,Company,Department,Job Title,Business Street,Business City,"
    "Business Postal Code,Business Country/Region,Home Street,Home City,Home Postal Code,Home Country/Region,"
    "Business Fax,Business Phone,Business Phone 2,Callback,Car Phone,Company Main Phone,Home Fax,Home Phone,"
    "Home Phone 2,ISDN,Mobile Phone,Other Fax,Other Phone,Pager,Primary Phone,Radio Phone,TTY/TDD Phone,Telex,"
    "Anniversary,Birthday,Categories,E-mail Address,E-mail Display Name,Notes"
)
OUTLOOK_FR = (
    "Titre,Prénom,Deuxième prénom,Nom,Suffixe,Société,Service,Fonction,Rue (bureau),Ville (bureau),"
    "Code postal (bureau),Pays/Région (bureau),Rue (domicile),Ville (domicile),Code postal (domicile),"
    "Pays/Région (domicile),Télécopie (bureau),Téléphone (bureau),Téléphone 2 (bureau),Rappel,"
    "Téléphone (voiture),Téléphone société,Télécopie (domicile),Téléphone (domicile),Téléphone 2 (domicile),"
    "RNIS,Tél. mobile,Télécopie (autre),Téléphone (autre),Récepteur de radiomessagerie,Téléphone principal,"
    "Radiotéléphone,Téléphone TDD/TTY,Télex,Anniversaire de mariage,Anniversaire,Catégories,"
    "Adresse de messagerie,Nom complet de l'adresse de messagerie,Notes"
)
HUBSPOT_EN = (
    "Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number,Company Name,Lifecycle Stage,"
    "Lead Status,Contact owner,Marketing contact status,Create Date"
)
HUBSPOT_FR = (
    "ID de fiche d'informations,Prénom,Nom,E-mail,Numéro de téléphone,Numéro de téléphone mobile,"
    "Nom de l'entreprise,Phase du cycle de vie,Statut du lead,Propriétaire du contact,"
    "Statut du contact marketing,Date de création"
)
SALESFORCE_EN = (
    "Contact ID,First Name,Last Name,Title,Account Name,Mobile,Phone,Email,Birthdate,Lead Source,Do Not Call,"
    "Email Opt Out,Mailing City"
)
SALESFORCE_FR = (
    "ID du contact,Prénom,Nom,Titre,Nom du compte,Mobile,Téléphone,E-mail,Date de naissance,Origine de la piste,"
    "Ne pas appeler,Retrait e-mail,Ville (adresse postale)"
)
DOLIBARR_FR = (
    "Id,Civilité,Nom,Prénom,Poste/fonction,Tiers,Adresse,Code postal,Ville,Tél. pro,Tél. perso,Tél. portable,"
    "Email,Date de naissance,Tags/catégories,Ne plus envoyer de mailing"
)
DOLIBARR_EN = (
    "Id,Title,Lastname,Firstname,Job position,Third party,Address,Zip,Town,Bus. phone,Pers. phone,Mobile,"
    "Email,Birthday,Tags/categories,No mass mailing"
)
ODOO_EN = "ID,Name,Company,Email,Phone,Mobile,Tags,Phone Blacklisted,City"
ODOO_FR = "ID,Nom,Société,Courriel,Téléphone,Mobile,Étiquettes,Téléphone sur liste noire,Ville"
BREVO = (
    "CONTACT ID,EMAIL,NOM,PRENOM,SMS,WHATSAPP,LANDLINE_NUMBER,LISTS,SMS_BLACKLISTED,EMAIL_BLACKLISTED,"
    "ADDED_TIME,MODIFIED_TIME"
)


def _roles(names: str) -> dict[str, str]:
    keys = ("id", "first", "last", "full", "company", "birthday", "groups", "opt_out")
    return {k: v for k, v in zip(keys, names.split("|"), strict=True) if v}


SF_FOOTER_EN = (
    "",
    '"Contacts SMS"',
    '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."',
    '"Confidential Information - Do Not Distribute"',
    '"Generated By:  Camille Roux  26/11/2026 09:41"',
    '"Exemple SARL"',
)
SF_FOOTER_FR = (
    "",
    '"Contacts SMS"',
    '"Copyright (c) 2000-2026 salesforce.com, inc. Tous droits réservés."',
    '"Informations confidentielles - Ne pas diffuser"',
    '"Généré par :  Camille Roux  26/11/2026 09:41"',
    '"Exemple SARL"',
)

SAMPLES: dict[str, Sample] = {
    s.file: s
    for s in (
        Sample(
            "google-contacts.csv",
            "google-contacts",
            tuple(GOOGLE.split(",")),
            _roles("|First Name|Last Name||Organization Name|Birthday|Labels|"),
            ("Phone 1 - Value", "Phone 2 - Value", "Phone 3 - Value"),
            group_separator=" ::: ",
            extra_groups=("* myContacts",),
            phone_separator=" ::: ",
            date_format="%Y-%m-%d",
            fixed={"Phone 1 - Label": "Mobile", "Phone 2 - Label": "Home", "Phone 3 - Label": "Work"},
        ),
        Sample(
            "outlook.csv",
            "outlook",
            tuple(OUTLOOK_EN.split(",")),
            _roles("|First Name|Last Name||Company|Birthday|Categories|"),
            ("Mobile Phone", "Home Phone", "Business Phone"),
            date_format="%-m/%-d/%Y",
            no_date="0/0/00",
        ),
        Sample(
            "outlook-fr.csv",
            "outlook",
            tuple(OUTLOOK_FR.split(",")),
            _roles("|Prénom|Nom||Société|Anniversaire|Catégories|"),
            ("Tél. mobile", "Téléphone (domicile)", "Téléphone (bureau)"),
            no_date="0/0/00",
            encoding="cp1252",
            delimiter=";",
        ),
        Sample(
            "hubspot.csv",
            "hubspot",
            tuple(HUBSPOT_EN.split(",")),
            _roles("Record ID|First Name|Last Name||Company Name||Lifecycle Stage|Marketing contact status"),
            ("Mobile Phone Number", "Phone Number"),
            one_group=True,
            flag=("Non-marketing contact", "Marketing contact"),
        ),
        Sample(
            "hubspot-fr.csv",
            "hubspot",
            tuple(HUBSPOT_FR.split(",")),
            _roles(
                "ID de fiche d'informations|Prénom|Nom||Nom de l'entreprise||Phase du cycle de vie|"
                "Statut du contact marketing"
            ),
            ("Numéro de téléphone mobile", "Numéro de téléphone"),
            one_group=True,
            flag=("Contact non marketing", "Contact marketing"),
        ),
        Sample(
            "salesforce.csv",
            "salesforce",
            tuple(SALESFORCE_EN.split(",")),
            _roles("Contact ID|First Name|Last Name||Account Name|Birthdate|Lead Source|Do Not Call"),
            ("Mobile", "Phone"),
            one_group=True,
            flag=("1", "0"),
            date_format="%-m/%-d/%Y",
            footer=SF_FOOTER_EN,
        ),
        Sample(
            "salesforce-fr.csv",
            "salesforce",
            tuple(SALESFORCE_FR.split(",")),
            _roles("ID du contact|Prénom|Nom||Nom du compte|Date de naissance|Origine de la piste|Ne pas appeler"),
            ("Mobile", "Téléphone"),
            one_group=True,
            flag=("1", "0"),
            footer=SF_FOOTER_FR,
        ),
        Sample(
            "dolibarr.csv",
            "dolibarr",
            tuple(DOLIBARR_FR.split(",")),
            _roles("Id|Prénom|Nom||Tiers|Date de naissance|Tags/catégories|Ne plus envoyer de mailing"),
            ("Tél. portable", "Tél. perso", "Tél. pro"),
            group_separator=",",
            encoding="cp1252",
            delimiter=";",
            trailing=True,
        ),
        Sample(
            "dolibarr-en.csv",
            "dolibarr",
            tuple(DOLIBARR_EN.split(",")),
            _roles("Id|Firstname|Lastname||Third party|Birthday|Tags/categories|No mass mailing"),
            ("Mobile", "Pers. phone", "Bus. phone"),
            group_separator=",",
            flag=("Yes", "No"),
            delimiter=";",
            trailing=True,
        ),
        Sample(
            "odoo.xlsx",
            "odoo",
            tuple(ODOO_EN.split(",")),
            _roles("ID|||Name|Company||Tags|Phone Blacklisted"),
            ("Mobile", "Phone"),
            group_separator=",",
            group_prefix="Segments / ",
            flag=(True, False),
        ),
        Sample(
            "odoo-fr.xlsx",
            "odoo",
            tuple(ODOO_FR.split(",")),
            _roles("ID|||Nom|Société||Étiquettes|Téléphone sur liste noire"),
            ("Mobile", "Téléphone"),
            group_separator=",",
            group_prefix="Segments / ",
            flag=(True, False),
        ),
        Sample(
            "brevo.csv",
            "brevo",
            tuple(BREVO.split(",")),
            _roles("CONTACT ID|PRENOM|NOM||||LISTS|SMS_BLACKLISTED"),
            ("SMS", "WHATSAPP", "LANDLINE_NUMBER"),
            group_separator=",",
            flag=("true", "false"),
            delimiter=";",
            international=True,
        ),
    )
}


def _international(number: str) -> str:
    digits = "".join(c for c in number if c.isdigit())
    return "33" + digits[1:] if digits.startswith("0") else digits


def _rows(sample: Sample, people: tuple[Person, ...]) -> list[list[object]]:
    rows: list[list[object]] = []
    for person in people:
        cells: dict[str, object] = dict(sample.fixed)
        roles = sample.roles
        values: dict[str, object] = {
            "id": f"{sample.system[:3].upper()}-{1000 + person.pid}",
            "first": person.first,
            "last": person.last,
            "full": f"{person.first} {person.last}",
            "company": person.company,
            "birthday": person.birthday.strftime(sample.date_format) if person.birthday else sample.no_date,
            "opt_out": sample.flag[0] if person.opted_out else sample.flag[1],
        }
        groups = [sample.group_prefix + g for g in person.groups]
        groups = groups[:1] if sample.one_group else [*groups, *sample.extra_groups]
        values["groups"] = sample.group_separator.join(groups)
        for role, column in roles.items():
            cells[column] = values[role]
        own = [*person.mobile, person.home, person.work]
        if sample.international:  # as Brevo stores them: 33612345601
            own = [_international(n) if n else n for n in own]
        mobiles = own[: len(person.mobile)]
        home, work = own[len(person.mobile) :]
        phones = [sample.phone_separator.join(mobiles), home, work]
        if len(sample.phones) == 2:  # the second column holds the other number
            phones = [phones[0], work or home]
        for column, number in zip(sample.phones, phones, strict=False):
            cells[column] = number
        rows.append([cells.get(column, "") for column in sample.header])
    return rows


def write_sample(sample: Sample, people: tuple[Person, ...], path: Path) -> Path:
    """Writes ``people`` as ``sample``'s system exports them."""
    rows = _rows(sample, people)
    if path.suffix == ".xlsx":
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "Sheet1"
        sheet.append(list(sample.header))
        for row in rows:
            sheet.append(row)
        book.save(path)
        return path
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sample.delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    lines: list[list[object]] = [list(sample.header), *rows]
    for line in lines:
        writer.writerow([*line, ""] if sample.trailing else line)
    text = buffer.getvalue() + "".join(footer + "\r\n" for footer in sample.footer)
    path.write_bytes(text.encode(sample.encoding))
    return path


SCHOOL_HEADER = (
    "Nom de l'enfant",
    "Prénom de l'enfant",
    "Classe",
    "Nom du responsable",
    "Téléphone mère",
    "Téléphone père",
    "Email",
    "Autorisation SMS",
    "Remarques",
)
# Léa and Hugo are siblings in two classes; Zoé's father says "idem"; Jules's family has
# not given its consent; Noé's mother gave a landline.
SCHOOL: tuple[tuple[object, ...], ...] = (
    ("MARTIN", "Léa", "CM1", "Famille Martin", "06 12 34 56 71", "06 12 34 56 72", "", "Oui", ""),
    ("MARTIN", "Hugo", "CE2", "Famille Martin", "06 12 34 56 71", "06.12.34.56.72", "", "Oui", "frère de Léa"),
    ("DURAND", "Zoé", "CM1", "Mme Durand", "07 81 23 45 67", "idem", "", "Oui", ""),
    ("PETIT", "Jules", "CE2", "M. et Mme Petit", "+33 6 98 76 54 32", "", "", "Non", ""),
    ("LEROY", "Emma", "CM2", "M. Leroy", "", "06 11 11 11 11", "", "Oui", "garde alternée"),
    ("SIMON", "Noé", "CM2", "Famille Simon", "01 45 67 89 10", "06 22 33 44 55", "", "Oui", ""),
)


def school_next_night(rows: tuple[tuple[object, ...], ...]) -> tuple[tuple[object, ...], ...]:
    """A week later: Emma left the school, Zoé's family withdrew its consent, Noé's
    father has a new mobile."""
    changed: list[tuple[object, ...]] = []
    for row in rows:
        if row[1] == "Emma":
            continue
        if row[1] == "Zoé":
            changed.append((*row[:7], "Non", row[8]))
        elif row[1] == "Noé":
            changed.append((*row[:5], "06 22 33 44 56", *row[6:]))
        else:
            changed.append(row)
    return tuple(changed)


def write_school(rows: tuple[tuple[object, ...], ...], path: Path) -> Path:
    """The association's workbook: a title row, a blank row, then the list."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Parents"
    sheet.append(["Liste des parents 2026-2027 - APE école Jules Ferry"])
    sheet.append([])
    sheet.append(list(SCHOOL_HEADER))
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, sample in SAMPLES.items():
        write_sample(sample, PEOPLE, HERE / name)
    write_school(SCHOOL, HERE / "school-parents.xlsx")
    print(f"wrote {len(SAMPLES) + 1} samples to {HERE}")


if __name__ == "__main__":
    main()
