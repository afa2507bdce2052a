"""Live-chunk decoders: PCM audio and raw frames, including the inputs fuzzing found."""

from __future__ import annotations

import numpy as np
import pytest
from laughter_server.media.live_input import AudioInput, ChunkError, VideoInput


class TestAudioInput:
    """PCM chunks become 16 kHz mono float32; broken byte counts are refused with CHUNK_INVALID."""

    @pytest.mark.parametrize(("encoding", "rate", "channels"), [("s16le", 16000, 1), ("f32le", 48000, 2)])
    def test_empty_chunk_refused(self, encoding: str, rate: int, channels: int) -> None:
        """An empty chunk is CHUNK_INVALID (it used to escape the resampler as an FFmpeg MemoryError)."""
        with pytest.raises(ChunkError) as caught:
            AudioInput(encoding, rate, channels).decode(b"")
        assert caught.value.reason == "CHUNK_INVALID"
        assert caught.value.field == "chunk.audio.data"

    @pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
    def test_non_finite_float_samples_refused(self, bad: float) -> None:
        """PCM_F32LE chunks with NaN or infinite samples are CHUNK_INVALID (they used to reach the features)."""
        samples = np.zeros(1600, dtype="<f4")
        samples[100] = bad
        with pytest.raises(ChunkError) as caught:
            AudioInput("f32le", 16000, 1).decode(samples.tobytes())
        assert caught.value.reason == "CHUNK_INVALID"
        assert "finite" in caught.value.message

    def test_float_samples_beyond_full_scale_clipped(self) -> None:
        """Float samples far beyond ±1 come out finite and near full scale, as whole files are clipped."""
        samples = np.full(16000, 1e30, dtype="<f4")
        samples[::2] = -1e30
        audio = AudioInput("f32le", 16000, 1)
        out = np.concatenate([audio.decode(samples.tobytes()), audio.flush()])
        assert np.isfinite(out).all()
        assert float(np.abs(out).max()) <= 1.5

    def test_odd_byte_count_refused(self) -> None:
        """A chunk that is not a whole number of sample frames is CHUNK_INVALID."""
        with pytest.raises(ChunkError) as caught:
            AudioInput("s16le", 16000, 2).decode(b"\x00" * 6)
        assert caught.value.reason == "CHUNK_INVALID"

    def test_resampled_to_16k(self) -> None:
        """One second at 48 kHz stereo gives about one second at 16 kHz mono."""
        audio = AudioInput("s16le", 48000, 2)
        samples = np.zeros(48000 * 2, dtype="<i2").tobytes()
        total = audio.decode(samples).size + audio.flush().size
        assert abs(total - 16000) <= 32


class TestVideoInput:
    """Raw frames must have exactly width x height x 3 bytes."""

    def test_raw_wrong_size_refused(self) -> None:
        """A raw frame one byte short is CHUNK_INVALID."""
        with pytest.raises(ChunkError) as caught:
            VideoInput("rgb24", 4, 2).decode(bytes(23))
        assert caught.value.reason == "CHUNK_INVALID"

    def test_bgr_flipped_to_rgb(self) -> None:
        """BGR24 frames come out as RGB."""
        image = VideoInput("bgr24", 1, 1).decode(bytes([1, 2, 3]))
        assert image.tolist() == [[[3, 2, 1]]]
