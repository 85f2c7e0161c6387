"""The JSON report: the document itself, as the versioned schema (``schema.json``) describes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sms123_sync.files import open_private
from sms123_sync.reports.writers import register_writer


def _write_json(path: Path, document: dict[str, Any]) -> None:
    with open_private(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(document, ensure_ascii=False, indent=2))


register_writer(".json", _write_json)
