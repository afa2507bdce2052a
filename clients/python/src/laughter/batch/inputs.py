"""The files of ``laughter batch submit``: a folder (every file beneath it), a manifest CSV (a ``file`` or
``path`` column, relative to the manifest's folder), or files; made absolute, since workers open them."""

from __future__ import annotations

import csv
import pathlib
from collections.abc import Iterable

__all__ = ["InputError", "collect_files"]

PATH_COLUMNS = ("file", "path")


class InputError(ValueError):
    """An argument that names no file, a folder with no files, or a manifest without a file column."""


def _folder_files(folder: pathlib.Path) -> list[pathlib.Path]:
    found = [
        path
        for path in folder.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    ]
    if not found:
        raise InputError(f"{folder} holds no files")
    return sorted(found)


def _manifest_files(manifest: pathlib.Path) -> list[pathlib.Path]:
    with manifest.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        column = next((name for name in PATH_COLUMNS if name in (reader.fieldnames or ())), None)
        if column is None:
            raise InputError(f"{manifest} has no 'file' or 'path' column")
        paths = [manifest.parent / row[column] for row in reader if row.get(column)]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise InputError(f"{manifest} names {len(missing)} missing files, first {missing[0]}")
    return paths


def collect_files(arguments: Iterable[str]) -> list[pathlib.Path]:
    """Absolute paths of the files the arguments name, each once, in the order given."""
    paths: list[pathlib.Path] = []
    for argument in arguments:
        path = pathlib.Path(argument).expanduser()
        if path.is_dir():
            paths.extend(_folder_files(path))
        elif path.suffix.lower() == ".csv" and path.is_file():
            paths.extend(_manifest_files(path))
        elif path.is_file():
            paths.append(path)
        else:
            raise InputError(f"{argument}: no such file or folder")
    unique = dict.fromkeys(path.resolve() for path in paths)
    return list(unique)
