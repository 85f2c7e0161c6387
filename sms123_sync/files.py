"""Output files that hold names and numbers are created private (0600), like the state.

Reports, reject lists, state exports and log files name people and their numbers; the
umask (often 022) would leave them readable by every user of the machine.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO, Any

from sms123_sync.i18n import Text
from sms123_sync.i18n import lazy_gettext as _

PRIVATE_MODE = 0o600
# The tool's own folder and default state file; here, in a module without heavy imports,
# so the command line can show them as defaults without loading the state code.
WORK_DIR = Path(".sms123-sync")
DEFAULT_STATE = WORK_DIR / "state.sqlite"


def open_private(path: Path, mode: str = "w", **options: Any) -> IO[Any]:
    """Opens ``path`` for writing (``w``, ``wb``, ``a``) with mode 0600 from its first byte.

    An existing regular file is narrowed to 0600 too; a device or pipe (``/dev/stdout``)
    is left as it is.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_MODE)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, PRIVATE_MODE)
        return os.fdopen(fd, mode, **options)
    except BaseException:
        os.close(fd)
        raise


def output_problem(path: Path) -> Text | None:
    """Why ``path`` cannot be written as an output file, or None when it can.

    Checked before any work starts, so a bad path costs nothing. Missing folders are
    fine (they are created) when the nearest existing one is writable.
    """
    if path.is_dir():
        return _("{path} is a folder; give a file name").format(path=path)
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return _("{path} is not a folder").format(path=parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        return _("the folder {path} is not writable").format(path=parent)
    if path.exists() and not os.access(path, os.W_OK):
        return _("{path} is not writable").format(path=path)
    return None
