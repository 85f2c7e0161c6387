"""A campaign's report: one document, written as JSON, CSV, XLSX or HTML, and its ``--json`` summary.

One row per recipient: number, where it came from, the message exactly as sent, its SMS
count and encoding, its scheduled time, the outcome and the API's reference. Cells that a
spreadsheet would run as a formula are neutralised and every file is created 0600, as
for the sync reports (:mod:`sms123_sync.reports.document`).
"""

from __future__ import annotations

import csv
import functools
import html
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
        yield [neutralise(entry[c]) for c in COLUMNS]


def _write_csv(path: Path, document: dict[str, Any]) -> None:
    with open_private(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(COLUMNS)
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
    summary.title = "Campaign"
    for key, value in {**document["campaign"], **document["counts"]}.items():
        summary.append([key, _xlsx_safe(neutralise(json.dumps(value) if isinstance(value, dict) else value))])
    sheets = {
        "Recipients": (COLUMNS, list(_rows(document))),
        "Skipped": (
            ["where", "number", "reason"],
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


# Nothing may be fetched: the page is read offline, and a hostile cell must not phone home.
_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _write_html(path: Path, document: dict[str, Any]) -> None:
    esc = html.escape
    campaign = document["campaign"]
    facts = "".join(
        f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>" for k, v in {**campaign, **document["counts"]}.items()
    )
    head = "".join(f"<th>{esc(c)}</th>" for c in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(str(entry[c]))}</td>" for c in COLUMNS) + "</tr>"
        for entry in document["recipients"]
    )
    skipped = "".join(
        f"<li>{esc(s['where'])}, {esc(s['number'])}: {esc(s['reason'])}</li>" for s in document["skipped"]
    )
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\">"
        f"<title>Campaign {esc(campaign['name'])}</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:left;vertical-align:top}</style></head><body>"
        f"<h1>Campaign {esc(campaign['name'])}</h1><table>{facts}</table>"
        f"<h2>Recipients</h2><table><tr>{head}</tr>{body}</table>"
        f"<h2>Skipped</h2><ul>{skipped}</ul></body></html>"
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
    line(f"campaign {plan.name} ({plan.source})")
    line(f"rule: {plan.rule}")
    line(
        f"recipients: {len(plan.messages)}, to send now: {len(preview.to_send)}"
        + (f", already sent by an earlier run: {preview.already_done}" if preview.already_done else "")
    )
    if plan.deferred:
        line(f"deferred to the next lawful time: {plan.deferred}")
    for message in preview.to_send[:shown]:
        when = f" at {message.at:%Y-%m-%d %H:%M} (Paris)" if message.at else ""
        moved = f" [deferred: {message.deferred}]" if message.deferred else ""
        line(f"  → {message.number}{when}{moved}: {message.shape.segments} SMS {message.shape.encoding}")
        line(f"    {printable(message.text, 480)}")
    if len(preview.to_send) > shown:
        line(f"  … and {len(preview.to_send) - shown} more")
    balance = (
        "not charged (test mode)"
        if plan.options.test
        else (f"{preview.balance} SMS credits" if preview.balance is not None else "unknown (no credentials)")
    )
    line(f"SMS needed: {preview.sms_needed}; balance: {balance}")
    if preview.over_balance:
        line("the balance is too low: the campaign will be refused unless --allow-partial")
    for skipped in plan.skipped[:20]:
        line(f"skipped {skipped.where}, {skipped.number}: {skipped.reason}")
    if len(plan.skipped) > 20:
        line(f"… and {len(plan.skipped) - 20} more skipped")
    if plan.rejects:
        line(f"rejected rows: {len(plan.rejects)} (see --report)")


def print_result(console: Console, result: CampaignResult) -> None:
    if not result.preview.to_send:
        done = result.preview.already_done
        console.print(f"nothing to send: all {done} recipient(s) have this campaign's message already", markup=False)
        return
    counts = Counter(o.status.value for o in result.outcomes)
    console.print(
        "outcome: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing sent"), markup=False
    )
    for outcome in result.outcomes:
        if outcome.status.value in ("failed", "pending"):
            console.print(
                f"  {outcome.status.value}: {outcome.message.number}: {outcome.code or ''} {outcome.meaning}",
                markup=False,
            )
    if result.stopped is not None:
        console.print(f"stopped: {result.stopped}", markup=False)


def print_sends(console: Console, campaign: dict[str, Any], sends: list[dict[str, Any]]) -> None:
    """Each recipient's outcome, as the state journaled it (``runs show``)."""
    line = functools.partial(console.print, markup=False)
    line(f"campaign {campaign['name']} ({campaign['kind']}, {campaign['source']}), created {campaign['created']}")
    line(f"message: {printable(campaign['template'], 480)}")
    counts = Counter(s["status"] for s in sends)
    line(f"{len(sends)} recipient(s): " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    for send in sends:
        when = f" at {send['diff']}" if send["diff"] else ""
        ref = f" ref {send['reference']}" if send["reference"] else ""
        line(f"  {send['numero']}: {send['status']} {send['code'] or ''}{when}{ref} (run #{send['run_id']})")


def print_campaigns(console: Console, campaigns: list[CampaignSummary]) -> None:
    """The campaigns the state holds, newest first, with their outcomes so far."""
    if not campaigns:
        return
    console.print("campaigns:", markup=False)
    for c in campaigns:
        told = ", ".join(f"{n} {s}" for s, n in sorted(c["counts"].items())) or "nothing sent"
        console.print(f"  {c['name']} ({c['kind']}, {c['source']}), created {c['created']}: {told}", markup=False)


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
