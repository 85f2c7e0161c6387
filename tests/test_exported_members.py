"""What the package exports is a decision: these tests make changing it deliberate.

Every exported name exists, has a docstring of its own and, for functions and methods,
a typed signature without ``Any``; the list itself is pinned.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing
from collections.abc import Callable, Iterator
from enum import Enum

import pytest

import sms123_sync

PUBLIC = [
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


def test_the_exported_names_are_pinned() -> None:
    assert sms123_sync.__all__ == sorted(PUBLIC)


@pytest.mark.parametrize("name", [n for n in PUBLIC if n != "__version__"])
def test_every_exported_name_exists_and_is_documented(name: str) -> None:
    value = getattr(sms123_sync, name)
    doc = value.__dict__.get("__doc__") if inspect.isclass(value) else value.__doc__
    assert doc and doc.strip(), f"{name} has no docstring of its own"
    assert not doc.startswith(f"{name}("), f"{name} has only the docstring dataclass writes"


def _callables(value: object) -> Iterator[tuple[str, Callable[..., object]]]:
    """A function itself, or a class's own public methods and constructor."""
    if inspect.isfunction(value):
        yield value.__name__, value
        return
    if not inspect.isclass(value) or issubclass(value, (BaseException, Enum)):
        return
    for attr, member in vars(value).items():
        function = member.__func__ if isinstance(member, classmethod | staticmethod) else member
        if inspect.isfunction(function) and (not attr.startswith("_") or attr == "__init__"):
            yield f"{value.__name__}.{attr}", function


def _mentions_any(hint: object) -> bool:
    if hint is typing.Any:
        return True
    return any(_mentions_any(arg) for arg in typing.get_args(hint))


@pytest.mark.parametrize("name", [n for n in PUBLIC if n != "__version__"])
def test_public_signatures_are_typed_without_any(name: str) -> None:
    for label, function in _callables(getattr(sms123_sync, name)):
        hints = typing.get_type_hints(function)
        params = [p for p in inspect.signature(function).parameters if p not in ("self", "cls")]
        missing = [p for p in params if p not in hints and not p.startswith("_")]
        assert not missing, f"{label}: untyped parameters {missing}"
        loose = [p for p, hint in hints.items() if _mentions_any(hint)]
        assert not loose, f"{label}: Any in the signature ({loose})"


def test_importing_the_package_loads_neither_pandas_nor_arrow() -> None:
    code = "import sys, sms123_sync; print(sorted(m for m in ('pandas', 'pyarrow') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
