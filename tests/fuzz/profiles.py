"""Hypothesis profiles of the fuzz tests: ``ci`` (the default: bounded and reproducible, so the whole fuzz
suite runs in about a minute) and ``fuzz`` (``make fuzz``: many more examples, new random cases each run).
HYPOTHESIS_PROFILE picks one."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SUPPRESSED = (HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large)

settings.register_profile(
    "ci", max_examples=12, deadline=None, derandomize=True, suppress_health_check=SUPPRESSED, print_blob=True
)
settings.register_profile(
    "fuzz", max_examples=200, deadline=None, suppress_health_check=SUPPRESSED, print_blob=True
)


def load() -> None:
    """Load the profile HYPOTHESIS_PROFILE names (default ``ci``)."""
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def more_examples(factor: int) -> settings:
    """The loaded profile with ``factor`` times its examples, for properties whose cases are cheap."""
    return settings(max_examples=settings.default.max_examples * factor)
