"""The API's eight URL paths: pure data that the client and the sandbox both speak.

Everything else about an endpoint (its codes, its parameters, how its answers read) is
written twice on purpose, once by the client and once by the sandbox, so that one side
cannot hide a bug of the other; the paths themselves are checked against the vendor's
document by the sandbox's tests.
"""

from __future__ import annotations

from enum import StrEnum


class Endpoint(StrEnum):
    """The eight endpoints; the value is the path below the base URL (``…/api/``)."""

    SEND = "send/"
    BALANCE = "solde/"
    GROUP_ADD = "group/add/"
    GROUP_UPD = "group/upd/"
    GROUP_DEL = "group/del/"
    CONTACT_ADD = "contact/add/"
    CONTACT_UPD = "contact/upd/"
    CONTACT_DEL = "contact/del/"
