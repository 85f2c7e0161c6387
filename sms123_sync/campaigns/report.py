"""A campaign's report: one document, written as JSON, CSV, XLSX or HTML, and its ``--json`` summary.

One row per recipient: number, where it came from, the message exactly as sent, its SMS
count and encoding, its scheduled time, the outcome and the API's reference. Cells that a
spreadsheet would run as a formula are neutralised and every file is created 0600, as
for the sync reports (:mod:`sms123_sync.reports.document`).
"""

from __future__ import annotations

import csv
import functools
import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console

from sms123_sync.campaigns.plan import CampaignPlan, Message
from sms123_sync.campaigns.run import CampaignResult, Preview, SendOutcome
from sms123_sync.files import open_private
from sms123_sync.reconcile.state import CampaignSummary
from sms123_sync.reports.i18n import N_, _, ngettext, phone
from sms123_sync.reports.rows import neutralise
from sms123_sync.reports.writers import Written, write_reports
from sms123_sync.text import printable

SCHEMA = "sms123-sync/campaign"
VERSION = 1
COLUMNS = [
    "number",
    "where",
    "status",
    "code",
    "meaning",
    "reference",
    "at",
    "deferred",
    "segments",
    "encoding",
    "message",
]
PLANNED = "planned"
# Column and fact headings as people read them (the JSON keeps the keys above).
HEADINGS: dict[str, str] = {
    "number": N_("Phone number"),
    "where": N_("From"),
    "status": N_("Status"),
    "code": N_("API code"),
    "meaning": N_("Note"),
    "reference": N_("Reference"),
    "at": N_("Scheduled for (Paris)"),
    "deferred": N_("Deferred"),
    "segments": N_("SMS"),
    "encoding": N_("Encoding"),
    "message": N_("Message"),
    "name": N_("Campaign"),
    "kind": N_("Kind"),
    "rule": N_("Rule"),
    "source": N_("Recipients from"),
    "template": N_("Message template"),
    "test": N_("Test mode"),
    "sender": N_("Sender"),
    "run_id": N_("Run"),
    "started": N_("Started"),
    "ended": N_("Ended"),
    "exit_code": N_("Exit code"),
    "dry_run": N_("Dry run"),
    "created": N_("Created"),
    "recipients": N_("Recipients"),
    "to_send": N_("To send"),
    "done_earlier": N_("Sent by an earlier run"),
    "sms": N_("SMS needed"),
    "balance": N_("Balance"),
    "skipped": N_("Skipped"),
    "rejects": N_("Rejected rows"),
    "outcomes": N_("Outcomes"),
    "reason": N_("Why"),
}
STATUSES: dict[str, str] = {
    "sent": N_("sent"),
    "scheduled": N_("scheduled"),
    "already-sent": N_("already-sent"),
    "tested": N_("tested"),
    "failed": N_("failed"),
    "pending": N_("pending"),
    "not-started": N_("not-started"),
    "planned": N_("planned"),
    "done-earlier": N_("done-earlier"),
}
SHEETS = (N_("Campaign"), N_("Recipients"), N_("Skipped"))


def heading(key: str) -> str:
    return _(HEADINGS[key]) if key in HEADINGS else key


def status_text(status: str) -> str:
    return _(STATUSES[status]) if status in STATUSES else status


def _cell(entry: dict[str, Any], column: str) -> object:
    """A recipient's cell as people read it: the number as they write it, the status in words."""
    if column == "number":
        return phone(str(entry[column]))
    if column == "status":
        return status_text(str(entry[column]))
    return entry[column]


def _entry(message: Message, outcome: SendOutcome | None, status: str) -> dict[str, Any]:
    return {
        "number": message.number,
        "where": message.where,
        "message": message.text,
        "segments": message.shape.segments,
        "encoding": message.shape.encoding,
        "at": message.at.strftime("%Y-%m-%d %H:%M") if message.at else "",
        "deferred": message.deferred,
        "status": outcome.status.value if outcome else status,
        "code": (outcome.code if outcome else None) or "",
        "meaning": outcome.meaning if outcome else "",
        "reference": (outcome.reference if outcome else None) or "",
    }


def campaign_document(preview: Preview, result: CampaignResult | None, started: datetime) -> dict[str, Any]:
    """The report of a dry run (``result`` None) or of a run."""
    plan: CampaignPlan = preview.plan
    outcomes = {o.message.number: o for o in (result.outcomes if result else [])}
    pending = {m.number for m in preview.to_send}
    recipients = [
        _entry(m, outcomes.get(m.number), PLANNED if m.number in pending else "done-earlier") for m in plan.messages
    ]
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "campaign": {
            "name": plan.name,
            "kind": plan.kind,
            "rule": plan.rule,
            "source": plan.source,
            "template": plan.template,
            "test": plan.options.test,
            "sender": plan.options.sender or "",
            "run_id": result.run_id if result else None,
            "started": started.isoformat(timespec="seconds"),
            "ended": datetime.now(UTC).isoformat(timespec="seconds") if result else None,
            "exit_code": result.exit_code if result else 0,
            "dry_run": result is None,
        },
        "counts": {
            "recipients": len(plan.messages),
            "to_send": len(preview.to_send),
            "done_earlier": preview.already_done,
            "deferred": plan.deferred,
            "sms": sum(m.shape.segments for m in preview.to_send),
            "balance": str(preview.balance) if preview.balance is not None else None,
            "skipped": len(plan.skipped),
            "rejects": len(plan.rejects),
            "outcomes": dict(Counter(r["status"] for r in recipients)),
        },
        "recipients": recipients,
        "skipped": [{"where": s.where, "number": s.number, "reason": s.reason} for s in plan.skipped],
        "rejects": [
            {"row": p.row, "column": p.column, "value": p.value, "code": p.code.value, "message": p.message}
            for p in plan.rejects
        ],
    }


def campaign_summary(document: dict[str, Any], exit_code: int) -> dict[str, Any]:
    """The one object ``send --json`` prints."""
    return {
        "schema": "sms123-sync/summary",
        "version": VERSION,
        **{k: document[k] for k in ("campaign", "counts")},
        "exit_code": exit_code,
    }


def write_campaign_reports(paths: Iterable[Path], document: dict[str, Any]) -> Written:
    """Writes every campaign report; one that fails does not stop the others (returned, for exit 1)."""
    return write_reports(paths, document, _WRITERS)


def _write_json(path: Path, document: dict[str, Any]) -> None:
    with open_private(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(document, ensure_ascii=False, indent=2, default=_plain))


def _plain(value: object) -> str:
    return str(value) if isinstance(value, Decimal) else repr(value)


def _rows(document: dict[str, Any]) -> Iterable[list[str]]:
    for entry in document["recipients"]:
        yield [neutralise(_cell(entry, c)) for c in COLUMNS]


def _write_csv(path: Path, document: dict[str, Any]) -> None:
    with open_private(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow([heading(c) for c in COLUMNS])
        writer.writerows(_rows(document))


def _xlsx_safe(value: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


def _write_xlsx(path: Path, document: dict[str, Any]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    summary = wb.active
    assert summary is not None
    campaign_title, recipients_title, skipped_title = (_(name) for name in SHEETS)
    summary.title = campaign_title
    for key, value in {**document["campaign"], **document["counts"]}.items():
        summary.append([heading(key), _xlsx_safe(neutralise(json.dumps(value) if isinstance(value, dict) else value))])
    summary.column_dimensions["A"].width = 28
    summary.column_dimensions["B"].width = 70
    sheets = {
        recipients_title: ([heading(c) for c in COLUMNS], list(_rows(document))),
        skipped_title: (
            [heading(k) for k in ("where", "number", "reason")],
            [[neutralise(s[k]) for k in ("where", "number", "reason")] for s in document["skipped"]],
        ),
    }
    for title, (header, rows) in sheets.items():
        ws = wb.create_sheet(title)
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([_xlsx_safe(v) for v in row])
        ws.freeze_panes = "A2"
    with open_private(path, "wb") as handle:
        wb.save(handle)


def _write_html(path: Path, document: dict[str, Any]) -> None:
    """The page from ``templates/campaign.html`` (autoescaped, nothing fetched, fits a phone)."""
    from sms123_sync.reports.html_writer import CSP, render_template
    from sms123_sync.reports.i18n import current

    facts = [
        (heading(k), json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else str(v if v is not None else ""))
        for k, v in {**document["campaign"], **document["counts"]}.items()
    ]
    recipients = [
        {
            "number": phone(str(entry["number"])),
            "status": status_text(str(entry["status"])),
            "details": [
                (heading(c), str(entry[c])) for c in COLUMNS if c not in ("number", "status", "message") and entry[c]
            ],
            "message": str(entry["message"]),
        }
        for entry in document["recipients"]
    ]
    page = render_template(
        "campaign.html",
        lang=current(),
        csp=CSP,
        name=str(document["campaign"].get("name") or ""),
        facts=facts,
        recipients=recipients,
        skipped=[(s["where"], phone(str(s["number"])), s["reason"]) for s in document["skipped"]],
    )
    with open_private(path, "w", encoding="utf-8") as handle:
        handle.write(page)


_WRITERS = {".json": _write_json, ".csv": _write_csv, ".xlsx": _write_xlsx, ".html": _write_html}


# -- terminal -----------------------------------------------------------------------

# How many personalised messages a preview shows exactly as they will be sent.
SHOWN = 5


def print_preview(console: Console, preview: Preview, shown: int = SHOWN) -> None:
    """Recipients, the first messages as sent, SMS per message and in all, beside the balance."""
    plan = preview.plan
    line = functools.partial(console.print, markup=False)
    line(_("campaign {name} ({source})").format(name=plan.name, source=plan.source))
    line(_("rule: {rule}").format(rule=plan.rule))
    line(
        _("recipients: {n}, to send now: {now}").format(n=len(plan.messages), now=len(preview.to_send))
        + (_(", already sent by an earlier run: {n}").format(n=preview.already_done) if preview.already_done else "")
    )
    if plan.deferred:
        line(_("deferred to the next lawful time: {n}").format(n=plan.deferred))
    for message in preview.to_send[:shown]:
        when = _(" at {when} (Paris)").format(when=f"{message.at:%Y-%m-%d %H:%M}") if message.at else ""
        moved = _(" [deferred: {why}]").format(why=message.deferred) if message.deferred else ""
        line(f"  → {message.number}{when}{moved}: {message.shape.segments} SMS {message.shape.encoding}")
        line(f"    {printable(message.text, 480)}")
    if len(preview.to_send) > shown:
        line("  " + _("… and {n} more").format(n=len(preview.to_send) - shown))
    balance = (
        _("not charged (test mode)")
        if plan.options.test
        else (
            _("{n} SMS credits").format(n=preview.balance)
            if preview.balance is not None
            else _("unknown (no credentials)")
        )
    )
    line(_("SMS needed: {n}; balance: {balance}").format(n=preview.sms_needed, balance=balance))
    if preview.over_balance:
        line(_("the balance is too low: the campaign will be refused unless --allow-partial"))
    for skipped in plan.skipped[:20]:
        line(
            _("skipped {where}, {number}: {why}").format(where=skipped.where, number=skipped.number, why=skipped.reason)
        )
    if len(plan.skipped) > 20:
        line(_("… and {n} more skipped").format(n=len(plan.skipped) - 20))
    if plan.rejects:
        line(_("rejected rows: {n} (see --report)").format(n=len(plan.rejects)))


def print_result(console: Console, result: CampaignResult) -> None:
    if not result.preview.to_send:
        done = result.preview.already_done
        console.print(
            ngettext(
                "nothing to send: the {n} recipient has this campaign's message already",
                "nothing to send: all {n} recipients have this campaign's message already",
                done,
            ).format(n=done),
            markup=False,
        )
        return
    counts = Counter(o.status.value for o in result.outcomes)
    told = ", ".join(f"{n} {status_text(s)}" for s, n in sorted(counts.items())) or _("nothing sent")
    console.print(_("outcome: {told}").format(told=told), markup=False)
    for outcome in result.outcomes:
        if outcome.status.value in ("failed", "pending"):
            status = status_text(outcome.status.value)
            console.print(f"  {status}: {outcome.message.number}: {outcome.code or ''} {outcome.meaning}", markup=False)
    if result.stopped is not None:
        console.print(_("stopped: {why}").format(why=result.stopped), markup=False)


def print_sends(console: Console, campaign: dict[str, Any], sends: list[dict[str, Any]]) -> None:
    """Each recipient's outcome, as the state journaled it (``runs show``)."""
    line = functools.partial(console.print, markup=False)
    line(
        _("campaign {name} ({kind}, {source}), created {created}").format(
            name=campaign["name"], kind=campaign["kind"], source=campaign["source"], created=campaign["created"]
        )
    )
    line(_("message: {text}").format(text=printable(campaign["template"], 480)))
    counts = Counter(s["status"] for s in sends)
    told = ", ".join(f"{n} {status_text(s)}" for s, n in sorted(counts.items()))
    line(ngettext("{n} recipient: {told}", "{n} recipients: {told}", len(sends)).format(n=len(sends), told=told))
    for send in sends:
        when = _(" at {when}").format(when=send["diff"]) if send["diff"] else ""
        ref = _(" ref {ref}").format(ref=send["reference"]) if send["reference"] else ""
        status = status_text(send["status"])
        line(
            f"  {send['numero']}: {status} {send['code'] or ''}{when}{ref} "
            + _("(run #{id})").format(id=send["run_id"])
        )


def print_campaigns(console: Console, campaigns: list[CampaignSummary]) -> None:
    """The campaigns the state holds, newest first, with their outcomes so far."""
    if not campaigns:
        return
    console.print(_("campaigns:"), markup=False)
    for c in campaigns:
        told = ", ".join(f"{n} {status_text(s)}" for s, n in sorted(c["counts"].items())) or _("nothing sent")
        console.print(
            "  "
            + _("{name} ({kind}, {source}), created {created}: {told}").format(
                name=c["name"], kind=c["kind"], source=c["source"], created=c["created"], told=told
            ),
            markup=False,
        )


def journal_document(campaign: dict[str, Any], sends: list[dict[str, Any]]) -> dict[str, Any]:
    """The report of a campaign rebuilt from the state (``runs show --report``)."""
    recipients = [
        {
            "number": s["numero"],
            "where": "",
            "message": s["message"],
            "segments": s["segments"],
            "encoding": "",
            "at": s["diff"] or "",
            "deferred": "",
            "status": s["status"],
            "code": s["code"] or "",
            "meaning": s["meaning"] or "",
            "reference": s["reference"] or "",
        }
        for s in sends
    ]
    counts = {"recipients": len(sends), "outcomes": dict(Counter(s["status"] for s in sends))}
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "campaign": {k: campaign[k] for k in ("name", "kind", "source", "template", "created")},
        "counts": counts,
        "recipients": recipients,
        "skipped": [],
        "rejects": [],
    }
