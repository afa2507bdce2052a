"""Fixtures of the unit tests that read the development recordings, and small helpers to read them."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest
import soundfile

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", name="audio_dev_dir")
def fixture_audio_dev_dir() -> pathlib.Path:
    """The dev set root (LAUGHTER_DEV_DATA, default <repo>/../shared/data/dev)."""
    path = pathlib.Path(os.environ.get("LAUGHTER_DEV_DATA", REPO.parent / "shared" / "data" / "dev"))
    if not (path / "audio" / "laughter").is_dir():
        pytest.skip("development audio not found at " + str(path))
    return path


@pytest.fixture(scope="session", name="read_clip")
def fixture_read_clip(audio_dev_dir: pathlib.Path) -> Callable[[str], npt.NDArray[np.float32]]:
    """Reader of a dev clip (path relative to the dev root) as 16 kHz mono float32 samples."""

    def read(relative: str) -> npt.NDArray[np.float32]:
        samples, rate = soundfile.read(audio_dev_dir / relative, dtype="float32")
        assert rate == 16_000
        return np.asarray(samples, dtype=np.float32)

    return read
