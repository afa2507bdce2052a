"""Live-session messages to the SDK's values and back, from hand-built protobuf messages."""

from __future__ import annotations

import datetime
import json

import laughter
import pytest
from google.protobuf import any_pb2, duration_pb2, timestamp_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from laughter import AudioEncoding, BacklogPolicy, DropReason, EventPhase, FrameEncoding, SessionOptions
from laughter._session_convert import (
    chunk_request,
    config_request,
    session_config_to_proto,
    update_from_proto,
)
from laughter.v1 import analysis_pb2, media_pb2, model_pb2, session_pb2

from tests.sdk.conftest import build_result_proto


def _seconds(value: float) -> duration_pb2.Duration:
    message = duration_pb2.Duration()
    message.FromNanoseconds(round(value * 1e9))
    return message


def _packed(*details: object) -> list[any_pb2.Any]:
    packed = []
    for detail in details:
        item = any_pb2.Any()
        item.Pack(detail)
        packed.append(item)
    return packed


class TestUpdateFromProto:
    """Each SessionUpdate kind becomes its SDK value, with seconds, enums and JSON-ready to_dict()."""

    def test_started(self) -> None:
        """SessionStarted: id, effective options, idle timeout, start time and models."""
        start_time = timestamp_pb2.Timestamp(seconds=1_700_000_000)
        message = session_pb2.SessionUpdate(
            started=session_pb2.SessionStarted(
                session_id="live-1",
                effective_options=analysis_pb2.AnalysisOptions(
                    analysis_frame_rate_hertz=5.0,
                    laughter_threshold=0.5,
                    min_event_duration=_seconds(0.3),
                    max_faces=8,
                    include_face_samples=True,
                ),
                idle_timeout=_seconds(30.0),
                start_time=start_time,
                models=[model_pb2.ModelInfo(name="face_detector", version="1", ready=True)],
                result_id="r" * 32,
            )
        )
        update = update_from_proto(message)
        assert isinstance(update, laughter.SessionStarted)
        assert update.kind == "started"
        assert update.session_id == "live-1"
        assert update.result_id == "r" * 32
        assert update.idle_timeout_s == 30.0
        assert update.started_at == datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.timezone.utc)  # noqa: UP017
        assert update.effective_options.analysis_frame_rate_hertz == 5.0
        assert update.effective_options.min_event_duration_s == pytest.approx(0.3)
        assert update.effective_options.max_faces == 8
        assert update.effective_options.include_face_samples is True
        assert [model.name for model in update.models] == ["face_detector"]
        data = json.loads(json.dumps(update.to_dict()))
        assert data["effective_options"]["max_faces"] == 8
        assert data["started_at"].startswith("2023-11-14T22:13:20")

    @pytest.mark.parametrize(
        ("phase", "expected"),
        [
            (session_pb2.EVENT_PHASE_STARTED, EventPhase.STARTED),
            (session_pb2.EVENT_PHASE_ONGOING, EventPhase.ONGOING),
            (session_pb2.EVENT_PHASE_ENDED, EventPhase.ENDED),
            (99, EventPhase.UNSPECIFIED),
        ],
    )
    def test_event(self, phase: int, expected: EventPhase) -> None:
        """LaughterEventUpdate: the phase (unknown ones UNSPECIFIED) and the full event."""
        event = build_result_proto().events[0]
        message = session_pb2.SessionUpdate(
            event=session_pb2.LaughterEventUpdate(phase=phase, event=event)  # type: ignore[arg-type]
        )
        update = update_from_proto(message)
        assert isinstance(update, laughter.EventUpdate)
        assert update.kind == "event"
        assert update.phase is expected
        assert update.event.event_id == "evt-0001"
        assert (update.event.start_s, update.event.end_s, update.event.peak_s) == (1.25, 3.5, 2.0)
        assert update.event.laughter_type is laughter.LaughterType.JOYFUL
        assert update.event.face_id == 0
        assert update.to_dict()["phase"] == expected.value

    def test_face_sample(self) -> None:
        """FaceEmotionSample: wrapped, with emotions in model order."""
        sample = build_result_proto().face_samples[0]
        update = update_from_proto(session_pb2.SessionUpdate(face_sample=sample))
        assert isinstance(update, laughter.FaceSampleUpdate)
        assert update.kind == "face_sample"
        assert update.sample.offset_s == pytest.approx(0.2)
        assert list(update.sample.emotions) == [emotion.value for emotion in laughter.Emotion]
        assert update.sample.dominant_emotion is laughter.Emotion.HAPPY
        assert update.to_dict()["sample"]["box"]["left"] == 0.25

    def test_progress(self) -> None:
        """Progress: counters, seconds, and drops per reason (unknown reasons UNSPECIFIED)."""
        message = session_pb2.SessionUpdate(
            progress=session_pb2.Progress(
                processed_offset=_seconds(12.5),
                frames_received=300,
                frames_analyzed=60,
                frames_dropped=7,
                drops=[
                    session_pb2.DropCount(reason=session_pb2.DROP_REASON_BACKLOG, frame_count=5),
                    session_pb2.DropCount(
                        reason=session_pb2.DROP_REASON_NOT_MONOTONIC, frame_count=2, audio_chunk_count=1
                    ),
                    session_pb2.DropCount(reason=42, frame_count=0),  # type: ignore[arg-type]
                ],
                audio_samples_received=200_000,
                backlog=_seconds(0.75),
                events_ended=2,
            )
        )
        update = update_from_proto(message)
        assert isinstance(update, laughter.Progress)
        assert update.kind == "progress"
        assert update.processed_s == 12.5
        assert update.backlog_s == 0.75
        assert (update.frames_received, update.frames_analyzed, update.frames_dropped) == (300, 60, 7)
        assert [drop.reason for drop in update.drops] == [
            DropReason.BACKLOG,
            DropReason.NOT_MONOTONIC,
            DropReason.UNSPECIFIED,
        ]
        assert update.dropped_frames(DropReason.BACKLOG) == 5
        assert update.dropped_frames(DropReason.TOO_LARGE) == 0
        assert update.drops[1].audio_chunk_count == 1
        assert update.to_dict()["drops"][0] == {"reason": "backlog", "frame_count": 5, "audio_chunk_count": 0}

    def test_warning_field_from_error_info(self) -> None:
        """A warning's reason and field come from ErrorInfo (field in its metadata)."""
        info = error_details_pb2.ErrorInfo(
            reason="CHUNK_INVALID", domain="laughter.v1", metadata={"field": "chunk.frame.data"}
        )
        message = session_pb2.SessionUpdate(
            warning=status_pb2.Status(code=0, message="frame is not a JPEG", details=_packed(info))
        )
        update = update_from_proto(message)
        assert update == laughter.SessionWarning(
            reason="CHUNK_INVALID", field="chunk.frame.data", message="frame is not a JPEG", code="OK"
        )
        assert update.kind == "warning"

    def test_warning_field_from_bad_request(self) -> None:
        """Without a field in ErrorInfo, the first BadRequest violation names it; the code is kept."""
        info = error_details_pb2.ErrorInfo(reason="TIMESTAMP_NOT_MONOTONIC", domain="laughter.v1")
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field="chunk.audio.capture_offset", description="x"
                )
            ]
        )
        message = session_pb2.SessionUpdate(
            warning=status_pb2.Status(
                code=code_pb2.INVALID_ARGUMENT, message="goes backwards", details=_packed(info, bad_request)
            )
        )
        update = update_from_proto(message)
        assert isinstance(update, laughter.SessionWarning)
        assert (update.reason, update.field, update.code) == (
            "TIMESTAMP_NOT_MONOTONIC",
            "chunk.audio.capture_offset",
            "INVALID_ARGUMENT",
        )

    def test_summary(self) -> None:
        """The summary update is the existing AnalysisSummary value."""
        summary = build_result_proto().summary
        update = update_from_proto(session_pb2.SessionUpdate(summary=summary))
        assert isinstance(update, laughter.AnalysisSummary)
        assert update.kind == "summary"
        assert update.durations.event_count == 2
        assert "kind" not in update.to_dict()

    def test_unknown_kind_is_skipped(self) -> None:
        """An update with no known kind set converts to None."""
        assert update_from_proto(session_pb2.SessionUpdate()) is None


class TestSessionConfigToProto:
    """SessionOptions become the SessionConfig the server reads."""

    def test_defaults(self) -> None:
        """JPEG frames, 16 kHz mono PCM16, DROP_OLDEST, server defaults elsewhere."""
        message = session_config_to_proto(SessionOptions())
        assert message.video.encoding == media_pb2.FRAME_ENCODING_JPEG
        assert (message.video.width, message.video.height) == (0, 0)
        assert message.audio.encoding == media_pb2.AUDIO_ENCODING_PCM_S16LE
        assert (message.audio.sample_rate_hertz, message.audio.channel_count) == (16000, 1)
        assert message.backlog_policy == session_pb2.BACKLOG_POLICY_DROP_OLDEST
        assert not message.HasField("progress_interval")
        assert message.options == analysis_pb2.AnalysisOptions()

    def test_every_field(self) -> None:
        """Every option reaches its field."""
        options = SessionOptions(
            video_encoding=FrameEncoding.RAW_BGR24,
            video_width=640,
            video_height=480,
            audio_encoding=AudioEncoding.PCM_F32LE,
            audio_sample_rate_hertz=48000,
            audio_channel_count=2,
            analysis=laughter.AnalysisOptions(analysis_frame_rate_hertz=10.0, max_faces=2),
            session_id="cam-1",
            client_id="kiosk",
            progress_interval_s=0.5,
            backlog_policy=BacklogPolicy.BLOCK,
        )
        message = config_request(options).config
        assert message.video == media_pb2.VideoFormat(
            encoding=media_pb2.FRAME_ENCODING_RAW_BGR24, width=640, height=480
        )
        assert message.audio == media_pb2.AudioFormat(
            encoding=media_pb2.AUDIO_ENCODING_PCM_F32LE, sample_rate_hertz=48000, channel_count=2
        )
        assert message.options.analysis_frame_rate_hertz == 10.0
        assert message.options.max_faces == 2
        assert (message.session_id, message.client_id) == ("cam-1", "kiosk")
        assert message.progress_interval.ToNanoseconds() == 500_000_000
        assert message.backlog_policy == session_pb2.BACKLOG_POLICY_BLOCK

    def test_no_tracks(self) -> None:
        """None for both encodings leaves both formats unset (the server rejects that)."""
        message = session_config_to_proto(SessionOptions(video_encoding=None, audio_encoding=None))
        assert not message.HasField("video")
        assert not message.HasField("audio")


class TestChunkRequest:
    """Frames and audio chunks become MediaChunk requests."""

    def test_frame(self) -> None:
        """A frame carries its bytes and capture offset."""
        request = chunk_request(laughter.Frame(b"\xff\xd8jpeg", 1.5))
        assert request.chunk.frame.data == b"\xff\xd8jpeg"
        assert request.chunk.frame.capture_offset.ToNanoseconds() == 1_500_000_000

    def test_audio(self) -> None:
        """An audio chunk carries its samples and the offset of its first sample."""
        request = chunk_request(laughter.AudioChunk(b"\x00\x01" * 4, 0.1))
        assert request.chunk.audio.data == b"\x00\x01" * 4
        assert request.chunk.audio.capture_offset.ToNanoseconds() == 100_000_000

    def test_other_values_are_refused(self) -> None:
        """Anything else is a TypeError naming the type."""
        with pytest.raises(TypeError, match="bytes"):
            chunk_request(b"raw")  # type: ignore[arg-type]

    def test_frame_repr_hides_bytes(self) -> None:
        """A frame's repr shows its offset, not its data."""
        assert repr(laughter.Frame(b"x" * 10_000, 2.0)) == "Frame(offset_s=2.0)"
