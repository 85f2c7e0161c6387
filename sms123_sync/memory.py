"""Which allocator Arrow uses when sms123-sync runs as a command.

Arrow's default allocator (mimalloc) hands freed pages back to the kernel at once. The
pipeline builds and drops large columns stage after stage, so those pages fault back in:
reading a million-row export spent 0.6 to 0.9 s more in the kernel (minor page faults)
than with jemalloc, which keeps them for the next column (``bench/bench_read.py``).

The choice is made through Arrow's own variable before pyarrow is imported, so a value
the user set wins. Only the command line makes it: a program that imports the library
keeps its own process's allocator.
"""

from __future__ import annotations

import os
import platform
import sys

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
