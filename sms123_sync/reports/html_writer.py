"""The HTML report: one self-contained page that escapes every value and fetches nothing."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from sms123_sync.files import open_private
from sms123_sync.reports.rows import OP_COLUMNS, op_values, release_text
from sms123_sync.reports.writers import register_writer

# Nothing may be fetched: the page is read offline, and a hostile cell must not phone home.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


_PAGE_STYLE = """
body{font:14px system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0 24px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3;cursor:pointer}
tr.hidden{display:none}
.bar{fill:#4a7bd0}
input{padding:4px 8px;width:320px}
.changed{background:#fff2cc}
.held{background:#fde2e1;padding:8px}
"""


_PAGE_SCRIPT = """
function filterTable(input,id){var q=input.value.toLowerCase();
document.querySelectorAll('#'+id+' tbody tr').forEach(function(r){
r.classList.toggle('hidden',r.textContent.toLowerCase().indexOf(q)<0);});
document.getElementById(id+'-count').textContent=
document.querySelectorAll('#'+id+' tbody tr:not(.hidden)').length;}
function sortTable(th){var table=th.closest('table'),i=Array.prototype.indexOf.call(th.parentNode.children,th);
var rows=Array.from(table.tBodies[0].rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
rows.sort(function(a,b){var x=a.cells[i].textContent,y=b.cells[i].textContent;
var n=parseFloat(x)-parseFloat(y);return (isNaN(n)?x.localeCompare(y):n)*(asc?1:-1);});
rows.forEach(function(r){table.tBodies[0].appendChild(r);});}
"""


def _html_table(table_id: str, header: list[str], rows: list[list[str]], highlight: list[bool] | None = None) -> str:
    esc = html.escape
    head = "".join(f'<th onclick="sortTable(this)">{esc(h)}</th>' for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="changed"' if highlight and highlight[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>")
    return (
        f'<p><input type="search" placeholder="search…" oninput="filterTable(this,\'{table_id}\')"> '
        f'<span id="{table_id}-count">{len(rows)}</span> row(s)</p>'
        f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _html_chart(per_group: dict[str, dict[str, int]]) -> str:
    totals = {g: sum(c.values()) for g, c in per_group.items()}
    if not totals:
        return "<p>No operation.</p>"
    top = max(totals.values())
    bars = []
    for i, (group, total) in enumerate(sorted(totals.items(), key=lambda kv: -kv[1])[:30]):
        width = 400 * total / top
        y = i * 22
        bars.append(
            f'<text x="0" y="{y + 15}">{html.escape(group)}</text>'
            f'<rect class="bar" x="200" y="{y + 3}" width="{width:.0f}" height="16"/>'
            f'<text x="{205 + width:.0f}" y="{y + 15}">{total}</text>'
        )
    height = 22 * len(bars) + 4
    return f'<svg role="img" aria-label="operations per group" width="700" height="{height}">{"".join(bars)}</svg>'


def _write_html(path: Path, document: dict[str, Any]) -> None:
    esc = html.escape
    run = document["run"]
    ops = document["operations"]
    meta = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(str(run.get(k, '')))}</td></tr>"
        for k in ("command", "source", "mapping", "mode", "started", "ended", "exit_code")
    )
    counts = "".join(f"<tr><td>{esc(k)}</td><td>{v}</td></tr>" for k, v in document["counts"]["operations"].items())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<title>sms123-sync report</title><style>{_PAGE_STYLE}</style></head><body>
<h1>sms123-sync {esc(run.get("command", ""))} report</h1>
<table>{meta}</table>
<h2>Summary</h2><table><tr><th>operation</th><th>count</th></tr>{counts}</table>
<p>{len(document["rejects"])} rejected row(s), {len(document["warnings"])} warning(s), {
        len(document["conflicts"])
    } conflict(s).</p>
<h2>Deletion guard</h2><p class="{"held" if document["guard"]["tripped"] else ""}">{
        esc(document["guard"]["verdict"])
    }</p>
<h2>Operations per group</h2>{_html_chart(document["counts"]["per_group"])}
<h2>Changes</h2>{
        _html_table(
            "changes",
            OP_COLUMNS,
            [op_values(o, release_text(document)) for o in ops],
            [bool(o["changed"]) for o in ops],
        )
    }
<h2>Rejected rows</h2>{
        _html_table(
            "rejects",
            ["row", "column", "value", "code", "reason"],
            [[r["row"], r["column"], r["value"], r["code"], r["message"]] for r in document["rejects"]],
        )
    }
<script>{_PAGE_SCRIPT}</script>
</body></html>
"""
    with open_private(path, "w", encoding="utf-8") as handle:
        handle.write(page)


register_writer(".html", _write_html)
