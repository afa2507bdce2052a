"""Fixtures of the unit tests that read the development recordings, and small helpers to read them."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
import soundfile


@pytest.fixture(scope="session", name="audio_dev_dir")
def fixture_audio_dev_dir(dev_data: pathlib.Path) -> pathlib.Path:
    """The dev set root (the ``dev_data`` fixture), which must hold the laughter recordings."""
    if not (dev_data / "audio" / "laughter").is_dir():
        pytest.fail(f"development audio not found at {dev_data / 'audio' / 'laughter'}")
    return dev_data


@pytest.fixture(scope="session", name="read_clip")
def fixture_read_clip(audio_dev_dir: pathlib.Path) -> Callable[[str], npt.NDArray[np.float32]]:
    """Reader of a dev clip (path relative to the dev root) as 16 kHz mono float32 samples."""

    def read(relative: str) -> npt.NDArray[np.float32]:
        samples, rate = soundfile.read(audio_dev_dir / relative, dtype="float32")
        assert rate == 16_000
        return np.asarray(samples, dtype=np.float32)

    return read
