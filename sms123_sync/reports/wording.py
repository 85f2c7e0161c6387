"""The report document in words: what each change does, why, and what the whole run does.

Every function reads the language-neutral document (``document.py``) and returns text in
the current language (``i18n``); nothing here decides anything the document does not say.
"""

from __future__ import annotations

import re
from typing import Any

from sms123_sync.reports.i18n import DEFAULT_LANGUAGE, N_, _, current, ngettext, number, phone

# Kinds as a short label, for filters and columns.
KIND_LABELS: dict[str, str] = {
    "group_add": N_("New group"),
    "group_rename": N_("Group renamed"),
    "contact_add": N_("New contact"),
    "contact_upd": N_("Contact updated"),
    "contact_del": N_("Contact removed"),
    "group_del": N_("Group deleted"),
}

FIELD_LABELS: dict[str, str] = {
    "nom": N_("Last name"),
    "prenom": N_("First name"),
    "societe": N_("Company"),
    "datea": N_("Date"),
    "v1": N_("Variable 1"),
    "v2": N_("Variable 2"),
    "v3": N_("Variable 3"),
}

# The planner's reasons (sms123_sync/reconcile/plan.py) in words; an unknown one is shown as is.
REASONS: dict[str, str] = {
    "new group in the export": N_("new group in the export"),
    "group renamed in the CRM": N_("group renamed in the CRM"),
    "new in the export": N_("new in the export"),
    "fields changed": N_("details changed in the export"),
    "phone number changed": N_("phone number changed in the export"),
    "number now belongs to another CRM record": N_("this number now belongs to another person in the CRM"),
    "gone from the export": N_("no longer in the export"),
    "left this group": N_("no longer in this group in the export"),
    "filtered out by the mapping": N_("left out by the mapping's filter (for example an opt-out)"),
    "group gone from the export": N_("group no longer in the export"),
}

STATUSES: dict[str, str] = {
    "planned": N_("planned"),
    "applied": N_("done"),
    "already-done": N_("already done"),
    "conflict": N_("conflict"),
    "failed": N_("failed"),
    "skipped": N_("not done"),
    "held": N_("held"),
}

# What a rejected or warned cell means, and what to do about it, per problem code.
PROBLEMS: dict[str, tuple[str, str]] = {
    "invalid-phone": (N_("not a valid phone number"), N_("Correct the number in the CRM.")),
    "landline": (N_("a landline cannot receive SMS"), N_("Add a mobile number in the CRM.")),
    "phone-text": (N_("text around the number"), N_("Keep only the number in this cell.")),
    "extra-phone": (N_("more numbers than the row can use"), N_("Put the other numbers in their own rows.")),
    "missing-value": (N_("a required value is empty"), N_("Fill in this cell in the CRM.")),
    "group-separator": (N_("the group names are not split as expected"), N_("Check the group separator.")),
    "no-group": (N_("the row belongs to no group"), N_("Give the row a group in the CRM.")),
    "duplicate-row": (N_("the same person appears twice"), N_("Remove the duplicate in the CRM.")),
    "shared-number": (N_("several people share this number"), N_("Check who really uses this number.")),
    "bad-date": (N_("not a date"), N_("Write the date as day/month/year.")),
    "too-long": (N_("the value is too long for the account"), N_("Shorten it in the CRM.")),
    "not-yes-or-no": (N_("neither yes nor no"), N_("Write yes or no in this cell.")),
    "filter-keeps-nothing": (N_("the filter keeps no row"), N_("Check the filter in the mapping.")),
    "not-data": (N_("rows that are not contacts were left out"), N_("Nothing to do if these are notes or totals.")),
}

_OPTION = re.compile(r"--[a-z][a-z-]*(?: \d+)?")


def kind_label(kind: str) -> str:
    return _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def field_label(name: str) -> str:
    return _(FIELD_LABELS[name]) if name in FIELD_LABELS else name


def reason(text: str) -> str:
    return _(REASONS[text]) if text in REASONS else text


def status(op: dict[str, Any]) -> str:
    """What became of an operation, in words ("planned" when not applied yet)."""
    code = "held" if op.get("held") else ((op.get("outcome") or {}).get("status") or "planned")
    return _(STATUSES[code]) if code in STATUSES else code


def _groups(groups: list[str]) -> str:
    return ", ".join(groups)


def title(op: dict[str, Any]) -> str:
    """One line that says what the operation does: "Removed from group VIP"."""
    kind, groups = op["kind"], op["groups"]
    if kind == "group_add":
        return _("New group {group}").format(group=_groups(groups))
    if kind == "group_rename":
        return _("Group {old} renamed {new}").format(old=_groups(groups), new=op["new_name"] or "")
    if kind == "group_del":
        return _("Group {group} deleted").format(group=_groups(groups))
    if kind == "contact_add":
        return ngettext(
            "Contact added to group {groups}", "Contact added to {count} groups: {groups}", len(groups)
        ).format(count=number(len(groups)), groups=_groups(groups))
    if kind == "contact_upd":
        if op["old_number"] and op["old_number"] != op["number"]:
            return _("Number changed: {old} → {new}").format(old=phone(op["old_number"]), new=phone(op["number"]))
        return _("Details changed in {groups}").format(groups=_groups(groups))
    if kind == "contact_del":
        if not groups:
            return _("Deleted from every group")
        return _("Removed from group {groups}").format(groups=_groups(groups))
    return str(kind)


def changes(op: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The fields that change, as (label, before, after), the number first."""
    found: list[tuple[str, str, str]] = []
    if op["old_number"] and op["number"] and op["old_number"] != op["number"]:
        found.append((_("Number"), phone(op["old_number"]), phone(op["number"])))
    if op["kind"] == "group_rename" and op["new_name"]:
        found.append((_("Name"), _groups(op["groups"]), op["new_name"]))
    for name in op["changed"]:
        found.append((field_label(name), str(op["before"][name]), str(op["after"][name])))
    return found


def changes_text(op: dict[str, Any]) -> str:
    return "; ".join(f"{label}: {old} → {new}" for label, old, new in changes(op))


def person(op: dict[str, Any]) -> str:
    fields = op["after"] or op["before"] or {}
    return " ".join(p for p in (fields.get("prenom", ""), fields.get("nom", "")) if p)


def release_options(document: dict[str, Any]) -> str:
    """The options that release the held deletes (``--max-delete 5``), as the guard said them."""
    release = str((document.get("guard") or {}).get("release") or "")
    return " ".join(_OPTION.findall(release))


def release_advice(document: dict[str, Any]) -> str:
    """How to release what the deletion guard holds, in words."""
    options = release_options(document)
    text = _("If the export is broken, fix it and run again.")
    if options:
        text += " " + _("If these removals are right, run again with {options}.").format(options=options)
    return text


def held_note(document: dict[str, Any]) -> str:
    """What a held operation's note says: nothing deleted, and how to release."""
    return _("Held by the deletion guard: nothing was deleted.") + " " + release_advice(document)


def note(op: dict[str, Any], document: dict[str, Any]) -> str:
    """The outcome's explanation: how to release a held delete, or the API's answer."""
    if op.get("held"):
        return held_note(document)
    outcome = op.get("outcome") or {}
    return str(outcome.get("meaning") or "")


def problem(p: dict[str, Any]) -> tuple[str, str]:
    """A reject or warning as (what is wrong, what to do); English keeps the precise message."""
    what, todo = PROBLEMS.get(p["code"], (p["message"], ""))
    return (p["message"] if current() == DEFAULT_LANGUAGE else _(what)), (_(todo) if todo else "")


def count_text(kind: str, n: int) -> str:
    """``n`` operations of ``kind`` (``contact_add``…) in words: "52 contacts added"."""
    texts = {
        "group_add": ngettext("{n} new group", "{n} new groups", n),
        "group_rename": ngettext("{n} group renamed", "{n} groups renamed", n),
        "contact_add": ngettext("{n} contact added", "{n} contacts added", n),
        "contact_upd": ngettext("{n} contact updated", "{n} contacts updated", n),
        "contact_del": ngettext("{n} removal from a group", "{n} removals from a group", n),
        "group_del": ngettext("{n} group deleted", "{n} groups deleted", n),
    }
    return texts.get(kind, f"{{n}} {kind}").format(n=number(n))


def _held_groups(document: dict[str, Any]) -> str:
    names = sorted({g for op in document["operations"] if op.get("held") for g in op["groups"]})
    return ", ".join(names) or _("every group")


def _removal_groups(document: dict[str, Any]) -> str:
    removals = ("contact_del", "group_del")
    names = sorted({g for op in document["operations"] if op["kind"] in removals for g in op["groups"]})
    return ", ".join(names) or _("every group")


def headline(document: dict[str, Any]) -> list[str]:
    """The first paragraph: what will happen (or happened), deletes said plainly."""
    counts: dict[str, int] = document["counts"]["operations"]
    guard = document.get("guard") or {}
    held = int(guard.get("held") or 0)
    done = document["run"].get("command") != "plan"
    if not counts:
        return [_("Nothing to change: the account already matches the export.")]
    order = [k for k in KIND_LABELS if counts.get(k)]
    parts = ", ".join(count_text(k, counts[k]) for k in order)
    sentences = [
        (_("What this run did: {parts}.") if done else _("What this run will do: {parts}.")).format(parts=parts)
    ]
    deletes = counts.get("contact_del", 0) + counts.get("group_del", 0)
    if not deletes:
        sentences.append(_("Nothing is deleted."))
    elif held:
        sentences.append(
            ngettext(
                "{n} deletion is held back by the deletion guard and is not made (groups: {groups}).",
                "{n} deletions are held back by the deletion guard and are not made (groups: {groups}).",
                held,
            ).format(n=number(held), groups=_held_groups(document))
            + " "
            + release_advice(document)
        )
    else:
        sentences.append(
            ngettext(
                "{n} removal (groups: {groups}): see the list below.",
                "{n} removals (groups: {groups}): see the list below.",
                deletes,
            ).format(n=number(deletes), groups=_removal_groups(document))
        )
    rejects = len(document["rejects"])
    if rejects:
        sentences.append(
            ngettext(
                "{n} row of the export was left aside; the table at the end says what to fix.",
                "{n} rows of the export were left aside; the table at the end says what to fix.",
                rejects,
            ).format(n=number(rejects))
        )
    return sentences
