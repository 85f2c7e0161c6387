"""A local 123-SMS server on loopback, for tests and for trying a mapping safely.

``server`` holds the account (a SQLite file), the endpoints and the injectable faults.
"""

from sms123_sync.sandbox.server import DEFAULT_KEY, DEFAULT_USER, Account, AccountStore, Faults, Sandbox

__all__ = ["DEFAULT_KEY", "DEFAULT_USER", "Account", "AccountStore", "Faults", "Sandbox"]
