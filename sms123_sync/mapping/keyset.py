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
    def strings(self) -> frozenset[str]:
        """The keys as Python strings, made once."""
        if self._keys is None:
            self._keys = frozenset(self.array.to_pylist())
        return self._keys

    def __contains__(self, key: object) -> bool:
        return key in self.strings

    def __iter__(self) -> Iterator[str]:
        return iter(self.strings)

    def __len__(self) -> int:
        return len(self.strings)

    def __repr__(self) -> str:
        if len(self.array) > _SHOWN:
            return f"KeySet(<{len(self.array)} texts>)"
        return f"KeySet({sorted(self.strings)!r})"


# Up to how many texts a KeySet's repr lists (a test's failure shows them).
_SHOWN = 10
