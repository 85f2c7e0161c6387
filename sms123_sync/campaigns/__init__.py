"""Campaigns — one personalised SMS per recipient, exactly once, at lawful hours.

``recipients`` gathers who receives a campaign (the state's groups, or an export read
through a mapping, with an optional per-row time); ``template`` personalises the message
and lists missing fields before anything is sent; ``hours`` holds the French sending
window, its public holidays and each number's time zone; ``plan`` turns recipients into
the messages to send (pure: the clock is an argument); ``run`` sends them, each one
journaled in the state file before its call and concluded after it; ``report`` writes
what happened (JSON, CSV, XLSX, HTML).

May import: ``sms123_sync.mapping``, ``sms123_sync.sources``, ``sms123_sync.api``,
``sms123_sync.reconcile`` (the state file, the rate limiter and the signal handling),
``sms123_sync.files``, ``sms123_sync.text`` and ``sms123_sync.errors``. Never the CLI.
"""
