"""Inputs the property tests in tests/fuzz found, kept as fixed cases over the real server."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from google.rpc import error_details_pb2
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc, media_pb2

from tests.integration.media_chunks import Chunk, requests, session_config
from tests.integration.test_analyze_media import error_reason
from tests.unit.media.test_iter_audio import float_wav, with_rate

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stub(server_address: str) -> laughter_service_pb2_grpc.LaughterAnalysisServiceStub:
    return laughter_service_pb2_grpc.LaughterAnalysisServiceStub(grpc.insecure_channel(server_address))


def warning_reasons(updates) -> list[str]:  # type: ignore[no-untyped-def]
    reasons = []
    for update in updates:
        if update.WhichOneof("update") == "warning":
            for detail in update.warning.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    reasons.append(info.reason)
    return reasons


def tone(seconds: float) -> np.ndarray:
    return (np.sin(np.arange(int(seconds * 16000)) / 5.0) * 0.3).astype("<f4")


class TestFloatAudio:
    """PCM_F32LE and float WAV samples that are NaN, infinite or far beyond full scale."""

    def test_live_non_finite_chunk_warned(self, stub) -> None:  # type: ignore[no-untyped-def]
        """A live float chunk with NaN samples gets CHUNK_INVALID; the clean chunks around it are analysed."""
        config = session_config(video=False)
        config.audio.encoding = media_pb2.AUDIO_ENCODING_PCM_F32LE
        bad = tone(1.0)
        bad[::7] = np.nan
        chunks = [Chunk(0.0, "audio", tone(1.0).tobytes()), Chunk(1.0, "audio", bad.tobytes())]
        chunks.append(Chunk(2.0, "audio", tone(1.0).tobytes()))
        updates = [r.update for r in stub.StreamingAnalyze(requests(config, chunks), timeout=60)]
        assert warning_reasons(updates) == ["CHUNK_INVALID"]
        assert updates[-1].WhichOneof("update") == "summary"
        progress = [u.progress for u in updates if u.WhichOneof("update") == "progress"]
        assert progress[-1].audio_samples_received == 2 * 16000

    def test_live_loud_chunk_analysed(self, stub) -> None:  # type: ignore[no-untyped-def]
        """Finite float samples far beyond ±1 are analysed (clipped), with no warning."""
        config = session_config(video=False)
        config.audio.encoding = media_pb2.AUDIO_ENCODING_PCM_F32LE
        chunks = [Chunk(0.0, "audio", (tone(2.0) * 1e30).astype("<f4").tobytes())]
        updates = [r.update for r in stub.StreamingAnalyze(requests(config, chunks), timeout=60)]
        assert warning_reasons(updates) == []
        assert updates[-1].summary.media.has_audio

    def test_float_wav_with_nan_analysed(self, stub) -> None:  # type: ignore[no-untyped-def]
        """A float WAV holding NaN and infinite samples is analysed as audio, its summary finite."""
        samples = tone(3.0)
        samples[::7] = np.nan
        samples[::11] = np.inf
        request = laughter_service_pb2.AnalyzeMediaRequest(content=float_wav(samples))
        result = stub.AnalyzeMedia(request, timeout=60).result
        assert result.summary.media.has_audio
        assert np.isfinite(result.summary.overall_confidence)


class TestImpossibleSampleRate:
    """A WAV header declaring 704 MHz audio."""

    def test_refused_as_undecodable(self, stub) -> None:  # type: ignore[no-untyped-def]
        """INVALID_ARGUMENT MEDIA_UNDECODABLE at once, instead of 22 s of resampling for 3 KB."""
        content = with_rate(float_wav(tone(0.1)), 0x2A003E80)
        with pytest.raises(grpc.RpcError) as caught:
            stub.AnalyzeMedia(laughter_service_pb2.AnalyzeMediaRequest(content=content), timeout=60)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_reason(caught.value) == "MEDIA_UNDECODABLE"
