"""Stage 4 — talking to 123-SMS.NET: the one place that knows the wire.

``codes`` holds the return-code tables (code → meaning → category), ``wire`` encodes
requests and decodes answers, ``client`` makes the calls with retries, ``connection``
resolves settings into an open client, ``message`` and ``send`` prepare SMS sends. The
API's French names (``groupe``, ``numero``) appear here and nowhere above.

May import: ``sms123_sync.contact``, ``sms123_sync.errors``, and the sandbox only to
start one for ``--sandbox``. Never the mapping, the reconciler or the reports.
"""
