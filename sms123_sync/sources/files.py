"""What the file-based readers share: checking the path, the header, the fingerprint."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow as pa

from sms123_sync.errors import InputError
from sms123_sync.text import printable, strip_invisible


def require_file(path: Path | str, what: str = "file") -> Path:
    """``path`` when it is a readable file; else an InputError saying what is wrong with it."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a directory; give the path of the {what} itself")
    if not path.is_file():
        raise InputError(f"{path}: no such file; check the path")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise InputError(f"{path}: cannot open the {what}: {exc.strerror}") from None
    return path


def file_fingerprint(path: Path | str) -> str:
    """The SHA-256 of a file, read in 1 MB chunks."""
    digest = hashlib.sha256()
    with require_file(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def strip_header(name: str) -> str:
    """A column name without surrounding spaces or invisible format characters (a BOM
    or zero-width space pasted into a header would hide the column from the mapping)."""
    return strip_invisible(name).strip()


def check_header(path: Path, header: list[str]) -> None:
    if not header or all(not h for h in header):
        raise InputError(f"{path}: the first row must hold the column names")
    seen: set[str] = set()
    for i, name in enumerate(header, start=1):
        if not name:
            raise InputError(f"{path}: row 1, column {i} has no name; every column needs a header")
        if name in seen:
            raise InputError(f"{path}: row 1: the column name {printable(name)!r} appears twice; rename one")
        seen.add(name)


def text_types(arrow_type: pa.DataType) -> object:
    return pd.StringDtype("pyarrow") if arrow_type == pa.string() else None
