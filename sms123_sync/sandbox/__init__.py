"""A local 123-SMS server on loopback, for tests and for trying a mapping safely.

``server`` holds the account (a SQLite file), the endpoints and the injectable faults;
``codes``, ``numbers``, ``wire`` and ``message`` are its own reading of the API document.

It may import ``sms123_sync.contact`` and ``sms123_sync.errors`` and nothing else of the
package: the tests use it as the real API, so it must not share the client's code
(``tests/test_sandbox_independent.py`` holds it to that).
"""

from sms123_sync.sandbox.server import DEFAULT_KEY, DEFAULT_USER, Account, AccountStore, Faults, Sandbox

__all__ = ["DEFAULT_KEY", "DEFAULT_USER", "Account", "AccountStore", "Faults", "Sandbox"]
