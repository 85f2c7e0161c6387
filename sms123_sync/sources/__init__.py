"""Stage 1 — reading an export: where the rows come from.

``base`` holds the interface (:class:`SourceReader`, :class:`SourceTable`,
:class:`SourceOptions`) and the registry that picks a reader for a location; one
module per kind reads (``delimited``: CSV and other delimited text, ``workbook``:
XLSX, XLSM, ODS, XLS); ``files`` holds what the file readers share. A new kind of
source is one module with a reader plus one :func:`register_reader` call.

May import: ``sms123_sync.errors`` and ``sms123_sync.text``. Never the mapping, the
reconciler, the API or the reports.
"""

from sms123_sync.sources.base import (
    LeftOutRow,
    SourceOptions,
    SourceReader,
    SourceTable,
    read_source,
    reader_for,
    register_reader,
    source_fingerprint,
)
from sms123_sync.sources.delimited import DelimitedReader
from sms123_sync.sources.workbook import WorkbookReader

# Asked newest first: the fallback for any file is registered first.
register_reader(DelimitedReader())
register_reader(WorkbookReader())

__all__ = [
    "LeftOutRow",
    "SourceOptions",
    "SourceReader",
    "SourceTable",
    "read_source",
    "reader_for",
    "register_reader",
    "source_fingerprint",
]
