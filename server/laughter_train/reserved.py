"""Reserved data sources: packages and repositories whose files the data tools refuse.

The list is ``reserved_sources.txt`` next to this module (``tools/fetch_extra_audio.sh`` reads the
same file). A source name matches an entry when both, lower-cased and with every run of ``-``,
``_`` and ``.`` read as one ``-``, are equal; an entry with ``*`` is a shell-style pattern over the
whole name; an entry ``owner/name`` also matches the bare ``name``.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from pathlib import Path

RESERVED_LIST_PATH = Path(__file__).with_name("reserved_sources.txt")
FILE_NAME_SEPARATOR = "__"
"""Clip files are named ``<source package>__<name>.wav``; the part before it is the source."""


def normalise_source(name: str) -> str:
    """``Python3_Matplotlib.Data`` -> ``python3-matplotlib-data``: the form names are compared in."""
    return re.sub(r"[-_.]+", "-", name.strip().lower())


@functools.cache
def reserved_entries() -> tuple[str, ...]:
    """The entries of the reserved list as written (comments and blank lines left out)."""
    lines = RESERVED_LIST_PATH.read_text(encoding="utf-8").splitlines()
    return tuple(entry for entry in (line.split("#", 1)[0].strip() for line in lines) if entry)


def reserved_entry_for(source: str) -> str | None:
    """The entry of the reserved list that ``source`` matches, or None when it is not reserved."""
    name = normalise_source(source)
    if not name:
        return None
    for entry in reserved_entries():
        pattern = normalise_source(entry)
        candidates = {pattern, pattern.rsplit("/", 1)[-1]}
        if any(fnmatch.fnmatchcase(name, candidate) for candidate in candidates):
            return entry
    return None


def source_of_file_name(path: str) -> str | None:
    """The source package in a clip's file name (``<package>__...``), or None without the separator."""
    stem = Path(path).name
    return stem.split(FILE_NAME_SEPARATOR, 1)[0] if FILE_NAME_SEPARATOR in stem else None
