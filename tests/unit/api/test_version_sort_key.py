"""Ordering of model version strings for ReloadModel's "newest" and its list of available versions."""

from __future__ import annotations

from laughter_server.pipeline.model_versions import version_sort_key


def test_numeric_parts_compare_as_numbers() -> None:
    """1.10.0 sorts after 1.2.0 and 2.0.0 after both."""
    versions = ["2.0.0", "1.10.0", "1.2.0", "1.0.0"]
    assert sorted(versions, key=version_sort_key) == ["1.0.0", "1.2.0", "1.10.0", "2.0.0"]


def test_suffixes_sort_after_the_plain_release() -> None:
    """A suffixed build (1.2.0-mine) sorts after 1.2.0 and before 1.3.0; text never breaks the comparison."""
    versions = ["1.3.0", "1.2.0-mine", "1.2.0", "1.2.0-a"]
    assert sorted(versions, key=version_sort_key) == ["1.2.0", "1.2.0-a", "1.2.0-mine", "1.3.0"]
