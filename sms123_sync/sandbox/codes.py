"""What the sandbox answers: every code of every endpoint, read from the API document.

The sandbox keeps its own table rather than borrowing the client's, so that a wrong
entry on one side shows up as a disagreement in a test instead of being the same bug
on both sides. Texts are those of the document (16/12/2024). ``documented=False``
marks an answer the document does not list for that endpoint but the sandbox gives
anyway, where it had to choose (see :mod:`sms123_sync.sandbox.server`).

Meanings are named by a short key (``contact_exists``); the server asks for the code
of a meaning, so no number is written anywhere else in the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from sms123_sync.endpoints import Endpoint as Endpoint  # re-exported: callers name it with its codes


@dataclass(frozen=True, slots=True)
class Code:
    """One answer of one endpoint."""

    code: str
    key: str
    text: str
    documented: bool = True


def _codes(*entries: Code) -> dict[str, Code]:
    return {entry.code: entry for entry in entries}


# The five answers the document repeats on each group and contact URL.
_SHARED = (
    Code("-1", "malformed", "Erreur : le format des données transmises est incorrect"),
    Code("-2", "technical", "Erreur technique"),
    Code("501", "empty_user", "Erreur : le paramètre « email » est vide"),
    Code("502", "empty_key", "Erreur : le paramètre « pass » est vide"),
    Code("505", "bad_credentials", "Erreur : identifiant et/ou mot de passe non valides"),
)
# Not in the document for these URLs: the sandbox's answer for a group that is not there.
_UNKNOWN_GROUP = Code("517", "no_group", "Erreur : le groupe n'existe pas", documented=False)
_ALREADY_IN_GROUP = "Erreur : ce contact est déjà enregistré (au niveau du GSM) dans le groupe"
_NOT_IN_GROUP = "Erreur : ce contact n'existe pas dans le groupe indiqué"

CODES: dict[Endpoint, dict[str, Code]] = {
    Endpoint.SEND: _codes(
        _SHARED[0],
        _SHARED[1],
        Code("80", "sent", "Succès : le message a été envoyé"),
        Code("81", "scheduled", "Succès : le message est enregistré pour un envoi en différé"),
        Code("82", "bad_credentials", "Erreur : le login et/ou mot de passe n'est pas valide"),
        Code("83", "no_credit", "Erreur : vous devez créditer le compte"),
        Code("84", "bad_number", "Erreur : le numéro de GSM n'est pas valide"),
        Code("85", "bad_diff", "Erreur : le format d'envoi en différé n'est pas valide"),
        Code("87", "empty_user", "Erreur : la valeur email est vide ou non valide"),
        Code("88", "empty_key", "Erreur : la valeur pass est vide"),
        Code("89", "empty_number", "Erreur : la valeur numero est vide"),
        Code("90", "empty_message", "Erreur : la valeur message est vide"),
        Code("91", "duplicate_24h", "Erreur : le message a déjà été envoyé à ce numéro dans les 24 dernières heures"),
        Code("92", "test_ok", "Succès : le test d'envoi est positif"),
        Code(
            "93",
            "domtom_off",
            "Erreur : pour effectuer l'envoi de SMS vers les DOM TOM, vous devez activer l'option dans l'espace client",
        ),
        Code("94", "cancelled", "Succès : votre envoi en différé est supprimé"),
        Code("95", "cancel_failed", "Erreur : votre envoi en différé n'a pas pu être supprimé"),
        Code("96", "ip_refused", "Erreur : votre adresse IP n'est pas valide"),
        Code("97", "bad_sender", "Erreur : le SENDER ID n'est pas valide"),
        Code("101", "blocked", "Info : le numéro de mobile est bloqué et/ou blacklisté"),
        Code(
            "102",
            "sender_needs_stop",
            "Erreur : le changement de SENDER ID vous oblige à rajouter « stop SMS au 36177 »"
            " à la fin de votre message",
        ),
    ),
    Endpoint.BALANCE: _codes(
        _SHARED[0],
        _SHARED[1],
        Code("-3", "bad_url", "Erreur : l'url est incorrecte"),
        Code("E501", "empty_user", "Erreur : le paramètre « user » est vide"),
        Code("E502", "empty_key", "Erreur : le paramètre « cleAPI » est vide"),
        Code("E505", "bad_credentials", "Erreur : user et/ou cleAPI non valides"),
    ),
    Endpoint.GROUP_ADD: _codes(
        *_SHARED,
        Code("513", "group_exists", "Erreur : le groupe est déjà enregistré"),
        Code("514", "group_done", "Succès : le groupe est enregistré"),
    ),
    Endpoint.GROUP_UPD: _codes(
        *_SHARED,
        Code("513", "group_exists", "Erreur : le groupe est déjà enregistré"),
        Code("514", "group_done", "Succès : le groupe est modifié"),
        _UNKNOWN_GROUP,
    ),
    Endpoint.GROUP_DEL: _codes(
        *_SHARED,
        Code("515", "group_has_contacts", "Erreur : suppression du groupe impossible : des contacts y sont associés"),
        Code("516", "group_deleted", "Succès : le groupe est supprimé"),
        Code("517", "no_group", "Erreur : le groupe à supprimer n'existe pas"),
    ),
    Endpoint.CONTACT_ADD: _codes(
        *_SHARED,
        Code("506", "contact_exists", _ALREADY_IN_GROUP),
        Code("507", "contact_done", "Succès : le contact est enregistré"),
        _UNKNOWN_GROUP,
    ),
    Endpoint.CONTACT_UPD: _codes(
        *_SHARED,
        Code("507", "contact_done", "Succès : le contact est modifié"),
        Code("506", "contact_exists", _ALREADY_IN_GROUP, documented=False),
        Code("510", "not_in_group", _NOT_IN_GROUP, documented=False),
        _UNKNOWN_GROUP,
    ),
    Endpoint.CONTACT_DEL: _codes(
        *_SHARED,
        Code("508", "no_contact", "Erreur : ce contact n'existe pas dans la liste de vos contacts"),
        Code("509", "contact_deleted", "Succès : le contact est supprimé"),
        Code("510", "not_in_group", _NOT_IN_GROUP),
        _UNKNOWN_GROUP,
    ),
}


def code_of(endpoint: Endpoint, key: str) -> str:
    """The code ``endpoint`` answers for the meaning ``key``; KeyError when it has none."""
    for entry in CODES[endpoint].values():
        if entry.key == key:
            return entry.code
    raise KeyError(f"{endpoint.value} has no answer for {key!r}")


#: What any other path below ``/api/`` answers (the document lists it under ``solde/``).
BAD_URL = code_of(Endpoint.BALANCE, "bad_url")
