"""Stage 5 — telling people what a run will do or did.

``document`` builds the report document (versioned JSON schema in ``schema.json``);
``writers`` holds the registry of formats and writes a document to each report path;
one module per format registers itself there (``json_writer``, ``csv_writer``,
``xlsx_writer``, ``html_writer``) and ``rows`` holds what the table formats share;
``terminal`` renders plans, outcomes and runs on a console. A new report format is one
module with a writer and one :func:`~sms123_sync.reports.writers.register_writer` call.

May import every stage above it to read their results; nothing imports it but the CLI.
"""

from sms123_sync.reports import csv_writer, html_writer, json_writer, xlsx_writer  # noqa: F401 - they register
