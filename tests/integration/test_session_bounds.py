"""Live sessions do work bounded by the media received, never by the capture offsets claimed; bad chunks get
a warning and the half-close is always honoured (real Triton, real server)."""

from __future__ import annotations

import time

import cv2
import grpc
import numpy as np
import pytest
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from laughter.v1 import laughter_service_pb2, laughter_service_pb2_grpc, media_pb2, session_pb2

from tests.integration.media_chunks import duration

pytestmark = pytest.mark.integration

SUMMARY_DEADLINE_S = 20.0  # well under the 30 s idle timeout: a stalled half-close would miss it


@pytest.fixture(scope="module")
def channel(server_address: str) -> grpc.Channel:
    return grpc.insecure_channel(server_address)


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> laughter_service_pb2_grpc.LaughterAnalysisServiceStub:
    return laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)


def config() -> session_pb2.SessionConfig:
    return session_pb2.SessionConfig(
        backlog_policy=session_pb2.BACKLOG_POLICY_BLOCK,
        video=media_pb2.VideoFormat(encoding=media_pb2.FRAME_ENCODING_JPEG),
        audio=media_pb2.AudioFormat(
            encoding=media_pb2.AUDIO_ENCODING_PCM_S16LE, sample_rate_hertz=16_000, channel_count=1
        ),
    )


def jpeg() -> bytes:
    ok, data = cv2.imencode(".jpg", np.full((120, 160, 3), 90, np.uint8))
    assert ok
    return data.tobytes()


def frame(offset: duration_pb2.Duration) -> laughter_service_pb2.StreamingAnalyzeRequest:
    chunk = media_pb2.MediaChunk(frame=media_pb2.VideoFrame(data=jpeg(), capture_offset=offset))
    return laughter_service_pb2.StreamingAnalyzeRequest(chunk=chunk)


def audio(data: bytes, offset: duration_pb2.Duration) -> laughter_service_pb2.StreamingAnalyzeRequest:
    chunk = media_pb2.MediaChunk(audio=media_pb2.AudioChunk(data=data, capture_offset=offset))
    return laughter_service_pb2.StreamingAnalyzeRequest(chunk=chunk)


def pcm(seconds: float) -> bytes:
    rng = np.random.default_rng(3)
    return (rng.normal(0, 3000, int(seconds * 16_000))).astype("<i2").tobytes()


def run(stub, messages):  # type: ignore[no-untyped-def]
    """Stream ``messages`` after the config; the updates, and the seconds until the summary."""
    started = time.monotonic()
    requests = [laughter_service_pb2.StreamingAnalyzeRequest(config=config()), *messages]
    updates = [r.update for r in stub.StreamingAnalyze(iter(requests), timeout=SUMMARY_DEADLINE_S)]
    return updates, time.monotonic() - started


def warnings(updates) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    found = []
    for u in updates:
        if u.HasField("warning"):
            info = error_details_pb2.ErrorInfo()
            assert u.warning.details[0].Unpack(info)
            found.append((info.reason, info.metadata["field"]))
    return found


def assert_serving(channel: grpc.Channel) -> None:
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


class TestOffsetJumps:
    """A capture offset far beyond the media received is refused; the work stays that of the media sent."""

    @pytest.mark.parametrize("seconds", [1e6, 1e7, 3e11, 1e15])
    def test_far_frame_is_refused(self, stub, channel, seconds) -> None:  # type: ignore[no-untyped-def]
        """Frame at 0 s, frame at a huge offset, 0.5 s of audio, half-close: a prompt summary over 0.5 s of
        media, one TIMESTAMP_NOT_MONOTONIC warning for the far frame, and the server stays SERVING."""
        far = duration_pb2.Duration(seconds=int(seconds))
        updates, _ = run(stub, [frame(duration(0.0)), frame(far), audio(pcm(0.5), duration(0.0))])
        assert updates[-1].HasField("summary")
        media_s = updates[-1].summary.media.media_duration.ToNanoseconds() / 1e9
        assert media_s < 2.0
        assert warnings(updates) == [("TIMESTAMP_NOT_MONOTONIC", "chunk.frame.capture_offset")]
        progress = [u.progress for u in updates if u.HasField("progress")][-1]
        assert any(
            d.reason == session_pb2.DROP_REASON_NOT_MONOTONIC and d.frame_count == 1 for d in progress.drops
        )
        assert_serving(channel)

    def test_far_audio_is_refused(self, stub) -> None:  # type: ignore[no-untyped-def]
        """Audio claimed an hour ahead of everything else is refused the same way."""
        updates, _ = run(stub, [audio(pcm(0.5), duration(0.0)), audio(pcm(0.5), duration(3600.0))])
        assert warnings(updates) == [("TIMESTAMP_NOT_MONOTONIC", "chunk.audio.capture_offset")]
        assert updates[-1].summary.media.media_duration.ToNanoseconds() / 1e9 < 2.0

    def test_a_real_gap_is_kept(self, stub) -> None:  # type: ignore[no-untyped-def]
        """A gap within the bound (5 s without media) is media time: the summary covers it."""
        updates, _ = run(stub, [audio(pcm(1.0), duration(0.0)), audio(pcm(1.0), duration(6.0))])
        assert warnings(updates) == []
        assert updates[-1].summary.media.media_duration.ToNanoseconds() / 1e9 == pytest.approx(7.0, abs=0.1)

    @pytest.mark.parametrize(
        "offset",
        [
            duration_pb2.Duration(seconds=-1),
            duration_pb2.Duration(seconds=1, nanos=2_000_000_000),
            duration_pb2.Duration(seconds=1, nanos=-5),
        ],
        ids=["negative", "nanos-out-of-range", "mixed-signs"],
    )
    def test_invalid_offsets_are_refused(self, stub, offset) -> None:  # type: ignore[no-untyped-def]
        """Negative and malformed Durations are refused with a warning naming the field."""
        updates, _ = run(stub, [audio(pcm(0.5), duration(0.0)), audio(pcm(0.5), offset)])
        assert warnings(updates) == [("TIMESTAMP_NOT_MONOTONIC", "chunk.audio.capture_offset")]
        assert updates[-1].HasField("summary")


class TestEmptyChunks:
    """An empty chunk is refused with CHUNK_INVALID and the half-close still ends the session at once."""

    def test_empty_audio_chunk(self, stub) -> None:  # type: ignore[no-untyped-def]
        """1 s of PCM, an empty audio chunk at 1 s, half-close: summary well before the idle timeout."""
        updates, elapsed_s = run(stub, [audio(pcm(1.0), duration(0.0)), audio(b"", duration(1.0))])
        assert warnings(updates) == [("CHUNK_INVALID", "chunk.audio.data")]
        assert updates[-1].HasField("summary")
        assert elapsed_s < SUMMARY_DEADLINE_S

    def test_empty_frame(self, stub) -> None:  # type: ignore[no-untyped-def]
        """An empty frame is refused the same way and the session goes on to its summary."""
        updates, _ = run(
            stub,
            [
                frame(duration(0.0)),
                laughter_service_pb2.StreamingAnalyzeRequest(
                    chunk=media_pb2.MediaChunk(
                        frame=media_pb2.VideoFrame(data=b"", capture_offset=duration(0.2))
                    )
                ),
            ],
        )
        assert warnings(updates) == [("CHUNK_INVALID", "chunk.frame.data")]
        assert updates[-1].summary.media.frames_analyzed == 1
