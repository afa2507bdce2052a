"""iter_audio: whole-file audio in pieces, always finite and within full scale."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from laughter_server.errors import UndecodableMediaError
from laughter_server.media.decode import MediaLimits, iter_audio, probe_media


def float_wav(samples: np.ndarray, rate: int = 16000) -> bytes:
    """A WAVE_FORMAT_IEEE_FLOAT (tag 3, 32 bits) file holding ``samples`` bit for bit."""
    payload = samples.astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def with_rate(content: bytes, rate: int) -> bytes:
    """The WAV with its fmt chunk's sample rate replaced."""
    return content[:24] + struct.pack("<I", rate) + content[28:]


class TestImpossibleSampleRate:
    """A header declaring an audio rate no recording has is damaged: refused, and never resampled."""

    def test_probe_refuses_704_mhz(self) -> None:
        """A WAV declaring 704,659,072 Hz is MEDIA_UNDECODABLE (resampling it used to cost 22 s of CPU)."""
        content = with_rate(float_wav(np.zeros(1600, dtype=np.float32)), 0x2A003E80)
        with pytest.raises(UndecodableMediaError) as caught:
            probe_media(content, MediaLimits())
        assert "impossible" in caught.value.message

    def test_iter_audio_skips_it(self) -> None:
        """iter_audio decodes the stream probe_media chose, so it yields nothing for such a header."""
        content = with_rate(float_wav(np.zeros(1600, dtype=np.float32)), 0x2A003E80)
        assert list(iter_audio(content)) == []

    def test_768_khz_decoded(self) -> None:
        """768 kHz, the highest rate in use, still decodes."""
        content = float_wav(np.zeros(7680, dtype=np.float32), rate=768_000)
        assert probe_media(content, MediaLimits()).source_sample_rate_hertz == 768_000
        assert sum(piece.size for piece in iter_audio(content)) == 160


class TestIterAudio:
    """Float WAVs may hold any bits; the pieces handed to the audio stage are finite and in [-1, 1]."""

    def test_nan_and_infinite_samples_become_finite(self) -> None:
        """NaN samples become silence and infinities full scale (NaN used to pass the clip unchanged)."""
        samples = (np.sin(np.arange(32000) / 5.0) * 0.3).astype(np.float32)
        samples[::7] = np.nan
        samples[::11] = np.inf
        samples[::13] = -1e30
        pieces = list(iter_audio(float_wav(samples), chunk_s=1.0))
        assert pieces
        joined = np.concatenate(pieces)
        assert np.isfinite(joined).all()
        assert float(np.abs(joined).max()) <= 1.0
        assert joined.size == 32000

    def test_clean_float_wav_unchanged(self) -> None:
        """A float WAV within full scale at 16 kHz comes out as it went in."""
        samples = (np.sin(np.arange(16000) / 5.0) * 0.5).astype(np.float32)
        joined = np.concatenate(list(iter_audio(float_wav(samples), chunk_s=1.0)))
        np.testing.assert_allclose(joined, samples, atol=1e-6)
