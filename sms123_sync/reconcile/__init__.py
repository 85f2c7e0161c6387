"""Stage 3 — reconciling the desired state with the last-known account.

``state`` is the SQLite file (last-known memberships, journal, runs), ``plan`` the pure
planner and its deletion guard, ``apply`` the journaled, concurrent execution of a plan,
``sync`` one whole run (lock → settle → read → plan → guard → apply), ``adopt`` the
import of contacts that already exist in the account.

May import: ``sms123_sync.mapping``, ``sms123_sync.api``, ``sms123_sync.contact``,
``sms123_sync.errors``. The planner itself touches no network, disk or clock.
"""
