"""sms123-sync: keep 123-SMS.NET contact groups in step with a CRM export.

The names below are the public library (docs/python-api.md shows them at work);
everything else may change between versions. They are loaded on first use, so that
``import sms123_sync`` and the light commands (``balance``, ``send``) do not pay for
pandas and Arrow.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from sms123_sync._version import __version__

# Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    # The pipeline, in its order: read → plan → sync.
    "read_desired": "sms123_sync.mapping.pipeline",
    "load_mapping": "sms123_sync.mapping.model",
    "Mapping": "sms123_sync.mapping.model",
    "DesiredResult": "sms123_sync.mapping.desired",
    "DesiredState": "sms123_sync.mapping.desired",
    "Problem": "sms123_sync.mapping.problems",
    "ProblemCode": "sms123_sync.mapping.problems",
    "StateStore": "sms123_sync.reconcile.state",
    "KnownState": "sms123_sync.reconcile.state",
    "plan_changes": "sms123_sync.reconcile.plan",
    "check_guard": "sms123_sync.reconcile.plan",
    "Guard": "sms123_sync.reconcile.plan",
    "Plan": "sms123_sync.reconcile.plan",
    "PlanOptions": "sms123_sync.reconcile.plan",
    "Operation": "sms123_sync.reconcile.plan",
    "OpKind": "sms123_sync.reconcile.plan",
    "make_plan": "sms123_sync.reconcile.sync",
    "run_sync": "sms123_sync.reconcile.sync",
    "SyncReport": "sms123_sync.reconcile.sync",
    "ApplyOptions": "sms123_sync.reconcile.apply",
    "RunResult": "sms123_sync.reconcile.apply",
    "Outcome": "sms123_sync.reconcile.apply",
    "Status": "sms123_sync.reconcile.apply",
    # The API client and its vocabulary.
    "Client": "sms123_sync.api.client",
    "AsyncClient": "sms123_sync.api.client",
    "Balance": "sms123_sync.api.client",
    "Result": "sms123_sync.api.client",
    "RetryPolicy": "sms123_sync.api.client",
    "Category": "sms123_sync.api.codes",
    "CodeInfo": "sms123_sync.api.codes",
    "Endpoint": "sms123_sync.api.codes",
    "Credentials": "sms123_sync.api.wire",
    "WireFormat": "sms123_sync.api.wire",
    "ConnectionSettings": "sms123_sync.api.connection",
    "connect": "sms123_sync.api.connection",
    "ContactFields": "sms123_sync.contact",
    # The sandbox, for trying a mapping or testing without an account.
    "Sandbox": "sms123_sync.sandbox.server",
    "Faults": "sms123_sync.sandbox.server",
    # The one error hierarchy.
    "Sms123Error": "sms123_sync.errors",
    "InputError": "sms123_sync.errors",
    "MappingError": "sms123_sync.errors",
    "GuardError": "sms123_sync.errors",
    "LockError": "sms123_sync.errors",
    "StateError": "sms123_sync.errors",
    "ApiError": "sms123_sync.errors",
    "AuthError": "sms123_sync.errors",
    "AccountError": "sms123_sync.errors",
    "RetryableError": "sms123_sync.errors",
    "RejectedError": "sms123_sync.errors",
    "ProtocolError": "sms123_sync.errors",
}

__all__ = [
    "AccountError",
    "ApiError",
    "ApplyOptions",
    "AsyncClient",
    "AuthError",
    "Balance",
    "Category",
    "Client",
    "CodeInfo",
    "ConnectionSettings",
    "ContactFields",
    "Credentials",
    "DesiredResult",
    "DesiredState",
    "Endpoint",
    "Faults",
    "Guard",
    "GuardError",
    "InputError",
    "KnownState",
    "LockError",
    "Mapping",
    "MappingError",
    "OpKind",
    "Operation",
    "Outcome",
    "Plan",
    "PlanOptions",
    "Problem",
    "ProblemCode",
    "ProtocolError",
    "RejectedError",
    "Result",
    "RetryPolicy",
    "RetryableError",
    "RunResult",
    "Sandbox",
    "Sms123Error",
    "StateError",
    "StateStore",
    "Status",
    "SyncReport",
    "WireFormat",
    "__version__",
    "check_guard",
    "connect",
    "load_mapping",
    "make_plan",
    "plan_changes",
    "read_desired",
    "run_sync",
]


def __getattr__(name: str) -> Any:
    """Imports a public name's module the first time the name is used (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sms123_sync' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from sms123_sync.api.client import AsyncClient, Balance, Client, Result, RetryPolicy
    from sms123_sync.api.codes import Category, CodeInfo, Endpoint
    from sms123_sync.api.connection import ConnectionSettings, connect
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
    from sms123_sync.mapping.desired import DesiredResult, DesiredState
    from sms123_sync.mapping.model import Mapping, load_mapping
    from sms123_sync.mapping.pipeline import read_desired
    from sms123_sync.mapping.problems import Problem, ProblemCode
    from sms123_sync.reconcile.apply import ApplyOptions, Outcome, RunResult, Status
    from sms123_sync.reconcile.plan import Guard, Operation, OpKind, Plan, PlanOptions, check_guard, plan_changes
    from sms123_sync.reconcile.state import KnownState, StateStore
    from sms123_sync.reconcile.sync import SyncReport, make_plan, run_sync
    from sms123_sync.sandbox.server import Faults, Sandbox
