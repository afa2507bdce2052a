"""Fixtures for the pipeline tests: the shared dev data set."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(name="dev_manifest", scope="session")
def fixture_dev_manifest(dev_data: Path) -> dict[str, dict[str, str]]:
    """manifest.csv rows by file path."""
    with (dev_data / "manifest.csv").open(newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}
