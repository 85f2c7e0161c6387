"""The steps from files to desired state, composed: source → mapping → desired.

The one place that knows the order of the pipeline's first half, so the CLI and
library users read exports the same way.
"""

from __future__ import annotations

from pathlib import Path

from sms123_sync.errors import MappingError
from sms123_sync.mapping.desired import DesiredResult, build_desired, require_usable
from sms123_sync.mapping.model import check_columns, load_mapping, with_column_problems
from sms123_sync.mapping.ready import with_ready_hint
from sms123_sync.sources import read_source


def read_desired(source: Path | str, mapping_path: Path | str) -> DesiredResult:
    """Loads and validates the mapping, reads the export, builds the desired state."""
    try:
        mapping = load_mapping(mapping_path)
    except MappingError as exc:
        raise with_column_problems(exc, str(source), lambda options: read_source(source, options).columns) from None
    table = read_source(source, mapping.source)
    try:
        check_columns(mapping, table.columns, str(source), str(mapping_path))
    except MappingError as exc:
        raise with_ready_hint(exc, mapping_path, source) from None
    return build_desired(table, mapping)


def read_plannable(source: Path | str, mapping_path: Path | str) -> DesiredResult:
    """:func:`read_desired`, refusing (InputError) an export whose every row was rejected:
    what ``plan`` and ``sync`` read. ``validate`` reads with :func:`read_desired`, so it can
    still list the rejects of such an export."""
    return require_usable(read_desired(source, mapping_path), str(source))
