"""Stage 2 — from a source table to the desired state, through the user's YAML mapping.

``model`` validates the mapping, ``normalize`` cleans phones, text and dates,
``desired`` builds the groups and memberships the account should hold (with rejects and
warnings from ``problems``), and ``pipeline`` composes source → mapping → desired.

May import: ``sms123_sync.sources``, ``sms123_sync.contact``, ``sms123_sync.errors``.
Never the state, the API or the reports: nothing here touches the network.
"""
