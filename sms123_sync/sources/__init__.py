"""Stage 1 — reading an export: where the rows come from.

One module per kind of source (``files`` reads CSV and workbooks). A reader turns what
the user named into a :class:`~sms123_sync.sources.files.SourceTable`: text columns,
the names of its rows for messages, and a fingerprint for the run history.

May import: ``sms123_sync.errors`` and the source options of the mapping. Never the
reconciler, the API or the reports.
"""
