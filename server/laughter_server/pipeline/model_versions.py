"""Audio model versions on disk: which ones ship beside the model in use, and which file a request means."""

from __future__ import annotations

import pathlib

from laughter_server.errors import InvalidOptionError


def version_sort_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key of version strings: numeric parts compare as numbers (1.10.0 after 1.2.0)."""
    parts = version.replace("-", ".").split(".")
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in parts)


def available_versions(models_dir: pathlib.Path, name: str) -> list[str]:
    """Versions of model ``name`` in ``models_dir`` (``NAME-VERSION.skops``), oldest first."""
    return sorted(
        (p.stem.removeprefix(name + "-") for p in models_dir.glob(name + "-*.skops")), key=version_sort_key
    )


def resolve_version(models_dir: pathlib.Path, name: str, requested: str) -> pathlib.Path:
    """The artifact of version ``requested`` of ``name`` (empty: the newest); InvalidOptionError otherwise."""
    available = available_versions(models_dir, name)
    version = requested or (available[-1] if available else "")
    if not version or "/" in version or "\\" in version or version.startswith("."):
        raise InvalidOptionError("version", "version must be a plain version string such as 1.2.0")
    path = models_dir / f"{name}-{version}.skops"
    if not path.is_file():
        raise InvalidOptionError(
            "version", f"no version {version!r} of {name}; available: {', '.join(available) or 'none'}"
        )
    return path
