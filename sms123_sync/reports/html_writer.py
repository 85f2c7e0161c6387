"""The HTML report: one self-contained page, in the reader's language, built from a Jinja2
template that escapes every value; it fetches nothing and reads on a phone and on paper."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from sms123_sync.files import open_private
from sms123_sync.reports import wording
from sms123_sync.reports.i18n import N_, _, current, ngettext, number, phone, when
from sms123_sync.reports.writers import register_writer

# Nothing may be fetched: the page is read offline, and a hostile cell must not phone home.
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
TEMPLATES = Path(__file__).with_name("templates")

# Kinds grouped as the page colours them.
FAMILIES: dict[str, str] = {
    "group_add": "add",
    "contact_add": "add",
    "group_rename": "update",
    "contact_upd": "update",
    "contact_del": "remove",
    "group_del": "remove",
}
FAMILY_LABELS = {"add": N_("added"), "update": N_("updated"), "remove": N_("removed")}
TITLES = {"plan": N_("What the sync will change"), "sync": N_("What the sync changed")}
EVERY_GROUP = "(every group)"  # document.py's key for operations without a group


@cache
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Looked up at render time, so each page speaks the language of its command.
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
        gettext=lambda m: _(m), ngettext=lambda s, p, n: ngettext(s, p, n), newstyle=False
    )
    return env


def _family_count(family: str, count: int) -> str:
    texts = {
        "add": ngettext("{n} added", "{n} added", count),
        "update": ngettext("{n} updated", "{n} updated", count),
        "remove": ngettext("{n} removed", "{n} removed", count),
    }
    return texts[family].format(n=number(count))


def _group_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Per group, how many adds, updates and removals, for the stacked bars."""
    rows: list[dict[str, Any]] = []
    for group, counts in document["counts"]["per_group"].items():
        families = dict.fromkeys(FAMILY_LABELS, 0)
        for kind, count in counts.items():
            families[FAMILIES.get(kind, "update")] += count
        total = sum(families.values())
        rows.append(
            {
                "name": _("every group") if group == EVERY_GROUP else group,
                "total": total,
                "parts": [{"family": f, "count": c, "text": _family_count(f, c)} for f, c in families.items() if c],
            }
        )
    rows.sort(key=lambda r: -int(r["total"]))
    top = max((int(r["total"]) for r in rows), default=1)
    for row in rows:
        for part in row["parts"]:
            part["width"] = f"{100 * part['count'] / top:.2f}%"
    return rows


def _changes(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "family": FAMILIES.get(op["kind"], "update"),
            "kind": op["kind"],
            "title": wording.title(op),
            "person": wording.person(op),
            "number": phone(op["number"]),
            "groups": op["groups"],
            "changes": wording.changes(op),
            "reason": wording.reason(op["reason"]),
            "status": wording.status(op),
            "status_code": "held" if op.get("held") else (op.get("outcome") or {}).get("status") or "planned",
            "code": (op.get("outcome") or {}).get("code") or "",
            "note": wording.note(op, document),
        }
        for op in document["operations"]
    ]


def render_page(document: dict[str, Any]) -> str:
    """The page as text (the writer saves it; the screenshot script shows it)."""
    run = document["run"]
    command = str(run.get("command") or "")
    present = [k for k in wording.KIND_LABELS if document["counts"]["operations"].get(k)]
    context = {
        "lang": current(),
        "number_label": _("Number"),
        "csp": CSP,
        "title": _(TITLES[command]) if command in TITLES else _("Report of a past run"),
        "run": {
            "source": run.get("source") or "",
            "mapping": run.get("mapping") or "",
            "mode": run.get("mode") or "",
            "started": when(run.get("started")),
            "ended": when(run.get("ended")),
            "exit_code": run.get("exit_code"),
            "id": run.get("id"),
        },
        "headline": wording.headline(document),
        "guard": document["guard"],
        "held_note": wording.held_note(document),
        "groups": _group_rows(document),
        "kinds": [{"kind": k, "label": wording.kind_label(k)} for k in present],
        "group_names": sorted({g for op in document["operations"] for g in op["groups"]}),
        "changes": _changes(document),
        "rejects": [
            {
                "where": _("Row {row}, column {column}: “{value}”").format(
                    row=number(r["row"]), column=r["column"], value=r["value"]
                ),
                "what": w,
                "todo": t,
            }
            for r in document["rejects"]
            for w, t in [wording.problem(r)]
        ],
        "counts_text": {
            "rejects": ngettext("{n} row left aside", "{n} rows left aside", len(document["rejects"])).format(
                n=number(len(document["rejects"]))
            ),
        },
    }
    return render_template("report.html", **context)


def render_template(template: str, **context: Any) -> str:
    """A page of ``templates/`` in the current language, every value escaped."""
    return str(_environment().get_template(template).render(context))


def _write_html(path: Path, document: dict[str, Any]) -> None:
    page = render_page(document)
    with open_private(path, "w", encoding="utf-8") as handle:
        handle.write(page)


register_writer(".html", _write_html)
