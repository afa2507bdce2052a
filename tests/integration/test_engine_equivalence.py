"""One engine: streaming a recording as fast as the server takes it gives exactly the events and summary of
whole-file analysis of the same file (the sample and every dev video), against a real Triton and server."""

from __future__ import annotations

import pathlib
import time
from collections.abc import Iterator

import grpc
import numpy as np
import pytest
from laughter.v1 import (
    analysis_pb2,
    laughter_service_pb2,
    laughter_service_pb2_grpc,
    media_pb2,
    session_pb2,
    summary_pb2,
)
from laughter_server.media.decode import decode_audio, iter_video_frames

from tests.conftest import DATA, SAMPLE
from tests.integration.media_chunks import duration
from tests.integration.test_analyze_media import analyze

pytestmark = pytest.mark.integration

RATE_HERTZ = 5.0
AUDIO_CHUNK = 1600  # 0.1 s at 16 kHz
FLOAT_TOLERANCE = 1e-6


def dev_videos(dev_data: pathlib.Path) -> list[pathlib.Path]:
    return sorted((dev_data / "video").glob("*.mp4"))


@pytest.fixture(scope="module")
def stub(server_address: str) -> laughter_service_pb2_grpc.LaughterAnalysisServiceStub:
    channel = grpc.insecure_channel(
        server_address, options=[("grpc.max_send_message_length", 256 * 1024 * 1024)]
    )
    return laughter_service_pb2_grpc.LaughterAnalysisServiceStub(channel)


def stream_requests(path: pathlib.Path) -> Iterator[laughter_service_pb2.StreamingAnalyzeRequest]:
    """The frames whole-file analysis samples (raw RGB) and its 16 kHz audio (float PCM), interleaved in
    capture order, behind a config that blocks instead of dropping."""
    content = path.read_bytes()
    frames = list(iter_video_frames(content, RATE_HERTZ))
    clip = decode_audio(content)
    height, width = frames[0][1].shape[:2] if frames else (0, 0)
    config = session_pb2.SessionConfig(
        client_id="equivalence",
        backlog_policy=session_pb2.BACKLOG_POLICY_BLOCK,
        video=media_pb2.VideoFormat(encoding=media_pb2.FRAME_ENCODING_RAW_RGB24, width=width, height=height)
        if frames
        else None,
        audio=media_pb2.AudioFormat(
            encoding=media_pb2.AUDIO_ENCODING_PCM_F32LE, sample_rate_hertz=16_000, channel_count=1
        )
        if clip is not None
        else None,
        options=analysis_pb2.AnalysisOptions(analysis_frame_rate_hertz=RATE_HERTZ),
    )
    yield laughter_service_pb2.StreamingAnalyzeRequest(config=config)
    chunks: list[tuple[float, media_pb2.MediaChunk]] = [
        (
            t,
            media_pb2.MediaChunk(
                frame=media_pb2.VideoFrame(data=image.tobytes(), capture_offset=duration(t))
            ),
        )
        for t, image in frames
    ]
    if clip is not None:
        samples = clip.samples.astype("<f4")
        for i in range(0, len(samples), AUDIO_CHUNK):
            piece = media_pb2.AudioChunk(
                data=samples[i : i + AUDIO_CHUNK].tobytes(), capture_offset=duration(i / 16_000)
            )
            chunks.append((i / 16_000, media_pb2.MediaChunk(audio=piece)))
    chunks.sort(key=lambda c: c[0])
    for _, chunk in chunks:
        yield laughter_service_pb2.StreamingAnalyzeRequest(chunk=chunk)


def assert_same_message(live: object, whole: object, where: str) -> None:
    """Field by field: equal, floats within FLOAT_TOLERANCE."""
    for field, value in whole.ListFields():  # type: ignore[attr-defined]
        other = getattr(live, field.name)
        name = f"{where}.{field.name}"
        if field.type == field.TYPE_MESSAGE:
            if field.is_repeated:
                assert len(other) == len(value), name
                for index, (a, b) in enumerate(zip(other, value, strict=True)):
                    assert_same_message(a, b, f"{name}[{index}]")
            else:
                assert_same_message(other, value, name)
        elif field.type in (field.TYPE_FLOAT, field.TYPE_DOUBLE):
            if field.is_repeated:
                np.testing.assert_allclose(list(other), list(value), atol=FLOAT_TOLERANCE, err_msg=name)
            else:
                assert other == pytest.approx(value, abs=FLOAT_TOLERANCE), name
        else:
            assert other == value, name


def compare(
    stub: laughter_service_pb2_grpc.LaughterAnalysisServiceStub, path: pathlib.Path
) -> summary_pb2.AnalysisSummary:
    """Assert that streaming ``path`` gives AnalyzeMedia's events and summary; returns the summary."""
    whole = analyze(stub, path, analysis_frame_rate_hertz=RATE_HERTZ)
    updates = [r.update for r in stub.StreamingAnalyze(stream_requests(path), timeout=600)]
    warnings = [u.warning.message for u in updates if u.HasField("warning")]
    assert not warnings, warnings
    live_events = [
        u.event.event
        for u in updates
        if u.HasField("event") and u.event.phase == session_pb2.EVENT_PHASE_ENDED
    ]
    assert [e.event_id for e in live_events] == [e.event_id for e in whole.events]
    for index, (a, b) in enumerate(zip(live_events, whole.events, strict=True)):
        assert_same_message(a, b, f"{path.name}.events[{index}]")
    live, reference = updates[-1].summary, whole.summary
    for name in (
        "laughter_detected",
        "dominant_laughter_type",
        "overall_confidence",
        "dominant_emotion",
        "emotion_breakdown",
        "durations",
        "trend",
        "type_counts",
        "faces",
        "notices",
    ):
        a, b = getattr(live, name), getattr(reference, name)
        if hasattr(b, "ListFields"):
            assert_same_message(a, b, f"{path.name}.summary.{name}")
        elif isinstance(b, float):
            assert a == pytest.approx(b, abs=FLOAT_TOLERANCE), name
        elif hasattr(b, "__len__") and not isinstance(b, str):
            assert len(a) == len(b), name
            for index, (x, y) in enumerate(zip(a, b, strict=True)):
                assert_same_message(x, y, f"{path.name}.summary.{name}[{index}]")
        else:
            assert a == b, name
    for name in ("media_duration", "frames_analyzed", "frames_with_faces", "faces_detected"):
        assert getattr(live.media, name) == getattr(reference.media, name), name
    return reference


class TestStreamingEqualsWholeFile:
    """StreamingAnalyze of the decoded media == AnalyzeMedia of the file."""

    def test_sample(self, stub) -> None:  # type: ignore[no-untyped-def]
        """The bundled sample (faces, laughter, speech)."""
        compare(stub, SAMPLE)

    def test_dev_videos(self, stub, dev_data) -> None:  # type: ignore[no-untyped-def]
        """Every dev video (with and without audio)."""
        videos = dev_videos(dev_data)
        assert len(videos) >= 4
        for path in videos:
            compare(stub, path)


class TestSameNotices:
    """A live session reports missing evidence exactly as whole-file analysis does."""

    def test_silent_audio(self, stub) -> None:  # type: ignore[no-untyped-def]
        """A silent track: SILENT_AUDIO (and NO_MODALITY, nothing else to go on) on both paths."""
        whole = compare(stub, DATA / "silence.wav")
        assert {n.code for n in whole.notices} >= {
            summary_pb2.NOTICE_CODE_SILENT_AUDIO,
            summary_pb2.NOTICE_CODE_NO_MODALITY,
        }

    def test_no_faces(self, stub) -> None:  # type: ignore[no-untyped-def]
        """A video without faces: NO_FACES_FOUND on both paths."""
        whole = compare(stub, DATA / "no_faces.mp4")
        assert summary_pb2.NOTICE_CODE_NO_FACES_FOUND in {n.code for n in whole.notices}


class TestLiveSessionMetrics:
    """A live session feeds the same Prometheus figures as a whole-file analysis."""

    def test_session_counts_frames_media_and_events(self, stub, server) -> None:  # type: ignore[no-untyped-def]
        """Frames analysed, media seconds and events by type grow by what the session's summary reports."""
        registry = server.running.services.metrics.registry

        def value(name: str, **labels: str) -> float:
            return registry.get_sample_value(name, labels) or 0.0

        frames, media = value("laughter_frames_analyzed_total"), value("laughter_media_seconds_total")
        joyful = value("laughter_events_total", type="Joyful Laugh")
        updates = [r.update for r in stub.StreamingAnalyze(stream_requests(SAMPLE), timeout=600)]
        summary = updates[-1].summary
        deadline = time.monotonic() + 10
        while value("laughter_frames_analyzed_total") == frames and time.monotonic() < deadline:
            time.sleep(0.05)  # the handler records once the summary is sent
        assert value("laughter_frames_analyzed_total") - frames == summary.media.frames_analyzed > 0
        assert value("laughter_media_seconds_total") - media == pytest.approx(
            summary.media.media_duration.ToNanoseconds() / 1e9, abs=1e-3
        )
        counted = {c.laughter_type: c.event_count for c in summary.type_counts}
        assert value("laughter_events_total", type="Joyful Laugh") - joyful == counted.get(
            analysis_pb2.LAUGHTER_TYPE_JOYFUL, 0
        )
        assert sum(counted.values()) > 0
