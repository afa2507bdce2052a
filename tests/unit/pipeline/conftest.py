"""Fixtures for the pipeline tests: the shared dev data set."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(name="dev_data", scope="session")
def fixture_dev_data() -> Path:
    """The shared dev data set (LAUGHTER_DEV_DATA, else <repo>/../shared/data/dev)."""
    path = Path(os.environ.get("LAUGHTER_DEV_DATA", REPO_ROOT.parent / "shared" / "data" / "dev"))
    if not (path / "manifest.csv").is_file():
        pytest.fail(f"dev data not found at {path} (set LAUGHTER_DEV_DATA)")
    return path


@pytest.fixture(name="dev_manifest", scope="session")
def fixture_dev_manifest(dev_data: Path) -> dict[str, dict[str, str]]:
    """manifest.csv rows by file path."""
    with (dev_data / "manifest.csv").open(newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}
