"""The command-line tools' flag value types: accepted values, and refusals that say what was wrong."""

from __future__ import annotations

import argparse

import pytest
from laughter._argtypes import fraction, non_negative_int, positive_float, positive_int


class TestArgTypes:
    @pytest.mark.parametrize(
        ("parse", "text", "value"),
        [
            (positive_float, "2.5", 2.5),
            (fraction, "0", 0.0),
            (fraction, "0.99", 0.99),
            (positive_int, "1", 1),
            (non_negative_int, "0", 0),
        ],
    )
    def test_accepts(self, parse, text, value) -> None:  # type: ignore[no-untyped-def]
        """Values in range parse to their number."""
        assert parse(text) == value

    @pytest.mark.parametrize(
        ("parse", "text", "message"),
        [
            (positive_float, "0", "must be positive"),
            (positive_float, "abc", "not a number"),
            (fraction, "1", "must be in [0, 1)"),
            (positive_int, "0", "must be at least 1"),
            (positive_int, "1.5", "not a whole number"),
            (non_negative_int, "-1", "must not be negative"),
        ],
    )
    def test_refuses(self, parse, text, message) -> None:  # type: ignore[no-untyped-def]
        """Values out of range or not numbers are refused with a message naming the problem."""
        with pytest.raises(argparse.ArgumentTypeError, match=message.replace("[", r"\[").replace(")", r"\)")):
            parse(text)
