"""Return codes of the 123-SMS API, one table per endpoint.

This module is the only place a numeric code is written down. Behaviour asks a
code's :class:`Category`, never the number: ``info.category is Category.ALREADY_DONE``
rather than ``code == 506``.

French texts are those of the API document (16/12/2024); English texts are ours.
Entries marked ``documented=False`` are answers the document does not list for that
endpoint but which a careful client must still classify (the sandbox gives them,
and the live API's behaviour there is unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sms123_sync.endpoints import Endpoint as Endpoint  # re-exported: callers name it with its codes


class Category(StrEnum):
    """What a code means for the caller, whatever its number."""

    DONE = "done"  # the request was carried out
    ALREADY_DONE = "already-done"  # the account already was as asked
    NOT_FOUND = "not-found"  # what the request names is not there
    CONFLICT = "conflict"  # the account holds something that blocks the request
    RETRY = "retry"  # transient: the same request may succeed later
    BAD_INPUT = "bad-input"  # this request can never succeed as written
    AUTH = "auth"  # credentials or IP refused: stop everything
    ACCOUNT = "account"  # the account itself cannot do it (credit, options)


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """One return code of one endpoint."""

    code: str
    key: str  # stable name of the meaning, e.g. "contact_exists"
    fr: str
    en: str
    category: Category
    documented: bool = True

    @property
    def ok(self) -> bool:
        """True when the account ends up as the request asked."""
        return self.category in (Category.DONE, Category.ALREADY_DONE)


_Row = tuple[str, str, str, str, Category] | tuple[str, str, str, str, Category, bool]


def _table(*rows: _Row) -> dict[str, CodeInfo]:
    return {row[0]: CodeInfo(*row) for row in rows}


_MALFORMED = (
    "-1",
    "malformed",
    "Erreur : le format des données transmises est incorrect",
    "malformed request",
    Category.BAD_INPUT,
)
_TECHNICAL = ("-2", "technical", "Erreur technique", "technical error on the server side", Category.RETRY)
_EMPTY_EMAIL = ("501", "empty_user", "Erreur : le paramètre « email » est vide", "user/email is empty", Category.AUTH)
_EMPTY_PASS = ("502", "empty_key", "Erreur : le paramètre « pass » est vide", "API key/pass is empty", Category.AUTH)
_BAD_CREDS = (
    "505",
    "bad_credentials",
    "Erreur : identifiant et/ou mot de passe non valides",
    "invalid credentials",
    Category.AUTH,
)
_NO_GROUP = (
    "517",
    "no_group",
    "Erreur : le groupe n'existe pas",
    "no such group",
    Category.NOT_FOUND,
    False,
)

SEND = _table(
    _MALFORMED,
    _TECHNICAL,
    ("80", "sent", "Succès : le message a été envoyé", "message sent", Category.DONE),
    (
        "81",
        "scheduled",
        "Succès : le message est enregistré pour un envoi en différé",
        "message scheduled",
        Category.DONE,
    ),
    (
        "82",
        "bad_credentials",
        "Erreur : le login et/ou mot de passe n'est pas valide",
        "invalid credentials",
        Category.AUTH,
    ),
    ("83", "no_credit", "Erreur : vous devez créditer le compte", "no credit left on the account", Category.ACCOUNT),
    ("84", "bad_number", "Erreur : le numéro de GSM n'est pas valide", "invalid mobile number", Category.BAD_INPUT),
    (
        "85",
        "bad_diff",
        "Erreur : le format d'envoi en différé n'est pas valide",
        "invalid schedule (diff)",
        Category.BAD_INPUT,
    ),
    (
        "87",
        "empty_user",
        "Erreur : la valeur email est vide ou non valide",
        "user/email is empty or invalid",
        Category.AUTH,
    ),
    ("88", "empty_key", "Erreur : la valeur pass est vide", "API key/pass is empty", Category.AUTH),
    ("89", "empty_number", "Erreur : la valeur numero est vide", "number is empty", Category.BAD_INPUT),
    ("90", "empty_message", "Erreur : la valeur message est vide", "message is empty", Category.BAD_INPUT),
    (
        "91",
        "duplicate_24h",
        "Erreur : le message a déjà été envoyé à ce numéro dans les 24 dernières heures",
        "same message already sent to this number in the last 24 hours",
        Category.ALREADY_DONE,
    ),
    ("92", "test_ok", "Succès : le test d'envoi est positif", "test send accepted (nothing sent)", Category.DONE),
    (
        "93",
        "domtom_off",
        "Erreur : pour effectuer l'envoi de SMS vers les DOM TOM, vous devez activer l'option dans l'espace client",
        "sending to overseas departments needs the DOM-TOM option on the account",
        Category.ACCOUNT,
    ),
    ("94", "cancelled", "Succès : votre envoi en différé est supprimé", "scheduled send cancelled", Category.DONE),
    (
        "95",
        "cancel_failed",
        "Erreur : votre envoi en différé n'a pas pu être supprimé",
        "scheduled send could not be cancelled",
        Category.BAD_INPUT,
    ),
    ("96", "ip_refused", "Erreur : votre adresse IP n'est pas valide", "client IP address refused", Category.AUTH),
    ("97", "bad_sender", "Erreur : le SENDER ID n'est pas valide", "invalid sender id", Category.BAD_INPUT),
    (
        "101",
        "blocked",
        "Info : le numéro de mobile est bloqué et/ou blacklisté",
        "number blocked or blacklisted",
        Category.BAD_INPUT,
    ),
    (
        "102",
        "sender_needs_stop",
        "Erreur : le changement de SENDER ID vous oblige à rajouter « stop SMS au 36177 » à la fin de votre message",
        "a custom sender id requires the message to end with « STOP SMS au 36177 »",
        Category.BAD_INPUT,
    ),
)

BALANCE = _table(
    _MALFORMED,
    _TECHNICAL,
    ("-3", "bad_url", "Erreur : l'url est incorrecte", "wrong URL", Category.BAD_INPUT),
    ("E501", "empty_user", "Erreur : le paramètre « user » est vide", "user is empty", Category.AUTH),
    ("E502", "empty_key", "Erreur : le paramètre « cleAPI » est vide", "API key is empty", Category.AUTH),
    ("E505", "bad_credentials", "Erreur : user et/ou cleAPI non valides", "invalid credentials", Category.AUTH),
)

GROUP_ADD = _table(
    _MALFORMED,
    _TECHNICAL,
    _EMPTY_EMAIL,
    _EMPTY_PASS,
    _BAD_CREDS,
    ("513", "group_exists", "Erreur : le groupe est déjà enregistré", "group already exists", Category.ALREADY_DONE),
    ("514", "group_done", "Succès : le groupe est enregistré", "group created", Category.DONE),
)

GROUP_UPD = _table(
    _MALFORMED,
    _TECHNICAL,
    _EMPTY_EMAIL,
    _EMPTY_PASS,
    _BAD_CREDS,
    (
        "513",
        "group_exists",
        "Erreur : le groupe est déjà enregistré",
        "the new group name is already taken",
        Category.CONFLICT,
    ),
    ("514", "group_done", "Succès : le groupe est modifié", "group renamed", Category.DONE),
    _NO_GROUP,
)

GROUP_DEL = _table(
    _MALFORMED,
    _TECHNICAL,
    _EMPTY_EMAIL,
    _EMPTY_PASS,
    _BAD_CREDS,
    (
        "515",
        "group_has_contacts",
        "Erreur : suppression du groupe impossible : des contacts y sont associés",
        "group still holds contacts",
        Category.CONFLICT,
    ),
    ("516", "group_deleted", "Succès : le groupe est supprimé", "group deleted", Category.DONE),
    (
        "517",
        "no_group",
        "Erreur : le groupe à supprimer n'existe pas",
        "group does not exist (already deleted)",
        Category.ALREADY_DONE,
    ),
)

CONTACT_ADD = _table(
    _MALFORMED,
    _TECHNICAL,
    _EMPTY_EMAIL,
    _EMPTY_PASS,
    _BAD_CREDS,
    (
        "506",
        "contact_exists",
        "Erreur : ce contact est déjà enregistré (au niveau du GSM) dans le groupe",
        "number already in the group (its fields are unknown)",
        Category.ALREADY_DONE,
    ),
    ("507", "contact_done", "Succès : le contact est enregistré", "contact added", Category.DONE),
    _NO_GROUP,
)

CONTACT_UPD = _table(
    _MALFORMED,
    _TECHNICAL,
    _EMPTY_EMAIL,
    _EMPTY_PASS,
    _BAD_CREDS,
    ("507", "contact_done", "Succès : le contact est modifié", "contact updated", Category.DONE),
    (
        "506",
        "contact_exists",
        "Erreur : ce contact est déjà enregistré (au niveau du GSM) dans le groupe",
        "the new number is already in the group",
        Category.CONFLICT,
        False,
    ),
    (
        "508",
        "no_contact",
        "Erreur : ce contact n'existe pas dans la liste de vos contacts",
        "no such contact",
        Category.NOT_FOUND,
        False,
    ),
    (
        "510",
        "not_in_group",
        "Erreur : ce contact n'existe pas dans le groupe indiqué",
        "contact not in that group",
        Category.NOT_FOUND,
        False,
    ),
    _NO_GROUP,
)

CONTACT_DEL = _table(
    _MALFORMED,
    _TECHNICAL,
    _EMPTY_EMAIL,
    _EMPTY_PASS,
    _BAD_CREDS,
    (
        "508",
        "no_contact",
        "Erreur : ce contact n'existe pas dans la liste de vos contacts",
        "no such contact (already deleted)",
        Category.ALREADY_DONE,
    ),
    ("509", "contact_deleted", "Succès : le contact est supprimé", "contact deleted", Category.DONE),
    (
        "510",
        "not_in_group",
        "Erreur : ce contact n'existe pas dans le groupe indiqué",
        "contact not in that group (already removed)",
        Category.ALREADY_DONE,
    ),
    (
        "517",
        "no_group",
        "Erreur : le groupe n'existe pas",
        "group does not exist (contact already gone)",
        Category.ALREADY_DONE,
        False,
    ),
)

TABLES: dict[Endpoint, dict[str, CodeInfo]] = {
    Endpoint.SEND: SEND,
    Endpoint.BALANCE: BALANCE,
    Endpoint.GROUP_ADD: GROUP_ADD,
    Endpoint.GROUP_UPD: GROUP_UPD,
    Endpoint.GROUP_DEL: GROUP_DEL,
    Endpoint.CONTACT_ADD: CONTACT_ADD,
    Endpoint.CONTACT_UPD: CONTACT_UPD,
    Endpoint.CONTACT_DEL: CONTACT_DEL,
}


def lookup(endpoint: Endpoint, code: str) -> CodeInfo:
    """The meaning of ``code`` on ``endpoint``; an unknown code is classed BAD_INPUT."""
    info = TABLES[endpoint].get(code)
    if info is not None:
        return info
    return CodeInfo(code, "unknown", "code inconnu", f"unknown return code {code!r}", Category.BAD_INPUT, False)


def code_of(endpoint: Endpoint, key: str) -> str:
    """The code ``endpoint`` answers for the meaning ``key`` (how the sandbox answers)."""
    for info in TABLES[endpoint].values():
        if info.key == key:
            return info.code
    raise KeyError(f"{endpoint.value} has no code for {key!r}")
