"""sms123-sync: keep 123-SMS.NET contact groups in step with a CRM export.

The names below are the public library; everything else may change between versions.
"""

from sms123_sync.api.client import AsyncClient, Balance, Client, Result, RetryPolicy
from sms123_sync.api.codes import Category, CodeInfo, Endpoint
from sms123_sync.api.wire import Credentials, WireFormat
from sms123_sync.contact import ContactFields
from sms123_sync.errors import (
    AccountError,
    ApiError,
    AuthError,
    GuardError,
    InputError,
    LockError,
    MappingError,
    ProtocolError,
    RejectedError,
    RetryableError,
    Sms123Error,
    StateError,
)
from sms123_sync.sandbox.server import Faults, Sandbox

__version__ = "0.1.0"

__all__ = [
    "AccountError",
    "ApiError",
    "AsyncClient",
    "AuthError",
    "Balance",
    "Category",
    "Client",
    "CodeInfo",
    "ContactFields",
    "Credentials",
    "Endpoint",
    "Faults",
    "GuardError",
    "InputError",
    "LockError",
    "MappingError",
    "ProtocolError",
    "RejectedError",
    "Result",
    "RetryPolicy",
    "RetryableError",
    "Sandbox",
    "Sms123Error",
    "StateError",
    "WireFormat",
    "__version__",
]
