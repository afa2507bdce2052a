"""The conversational ResNet's front end against the original code's features of a dev clip."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import librosa
import numpy as np
import numpy.typing as npt
import pytest
from laughter_server.audio import resnet_frontend
from laughter_server.pipeline.audio_blocks import AudioAccumulator

FIXTURE = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "resnet_frontend.npz"


@pytest.fixture(scope="module", name="reference")
def fixture_reference() -> dict[str, npt.NDArray[np.float32]]:
    with np.load(FIXTURE) as data:
        return {key: data[key] for key in data.files}


class TestWindowFeatures:
    def test_matches_the_original_featurize_melspec(
        self,
        reference: dict[str, npt.NDArray[np.float32]],
        read_clip: Callable[[str], npt.NDArray[np.float32]],
    ) -> None:
        """Windows of the 16 kHz dev clip equal the original's features of the 8 kHz file within 0.001 dB."""
        samples = read_clip(str(reference["clip"]))
        block = resnet_frontend.resample_block(samples)
        starts = np.round(reference["starts_s"] * resnet_frontend.SAMPLE_RATE_HERTZ).astype(np.int64)
        got = resnet_frontend.window_features(block, starts)
        assert got.shape == reference["features"].shape == (4, 44, 128)
        assert float(np.max(np.abs(got - reference["features"]))) < 1e-3

    def test_a_block_with_context_gives_the_whole_clip_features(
        self,
        reference: dict[str, npt.NDArray[np.float32]],
        read_clip: Callable[[str], npt.NDArray[np.float32]],
    ) -> None:
        """A window cut from a streaming block (resampled alone) matches the whole clip within 0.05 dB."""
        samples = read_clip(str(reference["clip"]))
        accumulator = AudioAccumulator(1.0, 0.25)
        accumulator.place(samples, 0)
        taken = [accumulator.take(final=False) for _ in range(4)]
        clip, first_s, _ = taken[-1] or (None, 0.0, 0.0)
        assert clip is not None
        start_s = first_s - 0.5
        block = resnet_frontend.resample_block(clip.samples)
        local = np.array([round((start_s - clip.start_s) * 8000)])
        whole = resnet_frontend.window_features(
            resnet_frontend.resample_block(samples), np.array([round(start_s * 8000)])
        )
        assert float(np.max(np.abs(resnet_frontend.window_features(block, local) - whole))) < 0.05

    def test_windows_past_the_block_are_zero_padded(self) -> None:
        """A window starting before the block sees zeros there, as the detector pads its windows."""
        rng = np.random.default_rng(1)
        block = rng.normal(0, 0.1, 12000).astype(np.float32)
        padded = np.concatenate([np.zeros(3000, np.float32), block[:5000]])
        got = resnet_frontend.window_features(block, np.array([-3000, 11000]))
        assert np.allclose(got[0], resnet_frontend.melspec_db(padded), atol=1e-4)
        tail = np.concatenate([block[11000:], np.zeros(7000, np.float32)])
        assert np.allclose(got[1], resnet_frontend.melspec_db(tail), atol=1e-4)

    def test_silence_and_level(self) -> None:
        """Silence gives librosa's values; a gain does not change a window (dB relative to its maximum)."""
        silent = np.zeros(8000, np.float32)
        expected = librosa.amplitude_to_db(
            librosa.feature.melspectrogram(y=silent, sr=8000, hop_length=186, pad_mode="reflect"), ref=np.max
        ).T
        assert np.array_equal(resnet_frontend.melspec_db(silent), expected.astype(np.float32))
        tone = np.sin(np.arange(8000) * 2 * np.pi * 440 / 8000).astype(np.float32) * 0.5
        assert np.allclose(
            resnet_frontend.melspec_db(tone), resnet_frontend.melspec_db(tone * 0.01), atol=1e-3
        )
        assert float(resnet_frontend.melspec_db(tone).max()) == pytest.approx(0.0, abs=1e-5)
        assert float(resnet_frontend.melspec_db(tone).min()) >= -80.0 - 1e-4
