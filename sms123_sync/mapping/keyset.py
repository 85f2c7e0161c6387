"""A set of keys held as one Arrow string array, read as a set of ``str``.

The keys and numbers of an export's rejected rows are never deleted by a plan
(``DesiredState.protected``): half a million of them in an export of rejects. As Python
strings in a frozenset they cost 0.1 s that ``validate`` never uses, and a plan probes
only its few deletes against them, which Arrow does from the array
(``reconcile.plan._is_in``). The Python set is built the first time a key is asked for
one at a time, listed or counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from typing import TypeVar

import pyarrow as pa

_T = TypeVar("_T")


class KeySet(AbstractSet[str]):
    """The distinct texts of ``array`` (which may repeat them), compared, iterated and
    tested as a frozenset of them would be."""

    __slots__ = ("_keys", "array")

    def __init__(self, array: pa.Array) -> None:
        self.array = array
        self._keys: frozenset[str] | None = None

    @classmethod
    def _from_iterable(cls, items: Iterable[_T]) -> frozenset[_T]:
        """What ``&``, ``|`` and ``-`` give: a plain frozenset."""
        return frozenset(items)

    @property
    def keys(self) -> frozenset[str]:
        """The keys as Python strings, made once."""
        if self._keys is None:
            self._keys = frozenset(self.array.to_pylist())
        return self._keys

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.keys)

    def __repr__(self) -> str:
        return f"KeySet({len(self.array)} texts)"
