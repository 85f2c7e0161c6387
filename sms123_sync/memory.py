"""How a run uses memory: which allocator Arrow uses, and when Python's cyclic collector
is paused.

Arrow's default allocator (mimalloc) hands freed pages back to the kernel at once. The
pipeline builds and drops large columns stage after stage, so those pages fault back in:
reading a million-row export spent 0.6 to 0.9 s more in the kernel (minor page faults)
than with jemalloc, which keeps them for the next column (``bench/bench_read.py``).

The choice is made through Arrow's own variable before pyarrow is imported, so a value
the user set wins. Only the command line makes it: a program that imports the library
keeps its own process's allocator.
"""

from __future__ import annotations

import gc
import os
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager

VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"
# pyarrow's x86-64 Linux wheels are built with jemalloc; its ARM ones no longer are
# (apache/arrow GH-44342), nor its macOS and Windows ones: there Arrow would warn.
PREFERRED = "jemalloc" if sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64") else ""


def prefer_jemalloc() -> str:
    """Asks Arrow for jemalloc unless the user chose an allocator; returns the choice in force.

    Has an effect only before pyarrow is first imported.
    """
    if PREFERRED and not os.environ.get(VARIABLE):
        os.environ[VARIABLE] = PREFERRED
    return os.environ.get(VARIABLE, "")


@contextmanager
def paused_collector() -> Iterator[None]:
    """Pauses Python's cyclic garbage collector for a block that builds many small objects.

    A build of a million rows, or the file of its rejects, makes hundreds of thousands of
    small objects that live to its end (rejects, warnings, their rows); the collector
    walked them all again at each of its passes: 1 s of 4 when half the rows of a million
    are rejects. They hold no cycles; what cyclic garbage a block leaves (pandas'
    internals) is collected when the collector resumes, at its next pass.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
