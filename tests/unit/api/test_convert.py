"""Domain results to laughter.v1 messages: every field, enum and optional presence."""

from __future__ import annotations

import numpy as np
import pytest
from laughter.v1 import analysis_pb2, model_pb2, summary_pb2
from laughter_server.api.convert import (
    EMOTION_VALUES,
    LAUGHTER_TYPES,
    NOTICES,
    ROLES,
    SOURCES,
    TRENDS,
    duration,
    event_to_proto,
    face_sample_to_proto,
    model_to_proto,
    options_from_proto,
    result_to_proto,
)
from laughter_server.audio.scores import WindowScores
from laughter_server.errors import InvalidOptionError
from laughter_server.fusion.fuser import fuse_events
from laughter_server.fusion.summary import summarise
from laughter_server.fusion.types import (
    EMOTIONS,
    BoundingBox,
    EventEvidence,
    EvidenceSource,
    FaceObservation,
    LaughterEvent,
    LaughterType,
    Notice,
)
from laughter_server.inference.models import ModelDescription
from laughter_server.media.types import MediaInfo
from laughter_server.pipeline.result import AnalysisResult

DURATION_S = 40.0
FRAME_PERIOD_S = 0.2


def synthetic_result() -> AnalysisResult:
    """An analysis of 40 s: one laughing face at 2-4 s with audio, an audio-only laugh at 20-22 s."""
    centers = np.arange(0.25, DURATION_S - 0.25 + 1e-9, 0.1)
    probabilities = np.full(centers.shape, 0.05, dtype=np.float32)
    probabilities[(centers >= 2.0) & (centers < 4.0)] = 0.9
    probabilities[(centers >= 20.0) & (centers < 22.0)] = 0.9
    audio = WindowScores(
        centers,
        probabilities,
        np.full(centers.shape, -25.0, np.float32),
        np.full(centers.shape, 2.0, np.float32),
        0.5,
        0.1,
    )
    frame_times = np.arange(0.0, 10.0, FRAME_PERIOD_S)
    faces = [
        FaceObservation(
            float(t),
            3,
            BoundingBox(0.1, 0.2, 0.4, 0.6),
            0.95,
            (0.0, 0.0, 0.0, 0.9, 0.0, 0.02, 0.08)
            if 2.0 <= t < 4.0
            else (0.01, 0.0, 0.0, 0.05, 0.04, 0.0, 0.9),
        )
        for t in frame_times
    ]
    events, timeline = fuse_events(
        audio, faces, np.arange(0.0, DURATION_S, FRAME_PERIOD_S), DURATION_S, FRAME_PERIOD_S
    )
    summary = summarise(events, faces, timeline, DURATION_S, [Notice.MEDIA_TRUNCATED])
    return AnalysisResult(
        events=tuple(events),
        summary=summary,
        face_samples=tuple(faces[:5]),
        media=MediaInfo("mov,mp4,m4a,3gp,3g2,mj2", DURATION_S, "h264", "aac", 24.0, 360, 288, 44100, 1),
        duration_s=DURATION_S,
        frames_analyzed=200,
        frames_with_faces=50,
        faces_detected=1,
        face_detections=50,
        frame_rate_hertz=5.0,
        stage_seconds={"decode": 0.25, "fusion": 0.125},
        processing_s=1.5,
        models=(
            ModelDescription("face_detector", "1", "face_detector", "onnxruntime", "ab" * 32),
            ModelDescription("laughter-audio", "1.0.0", "audio_laughter", "scikit-learn", "cd" * 32),
        ),
    )


@pytest.fixture(name="result", scope="module")
def fixture_result() -> AnalysisResult:
    """The synthetic analysis."""
    return synthetic_result()


@pytest.fixture(name="message", scope="module")
def fixture_message(result: AnalysisResult) -> summary_pb2.AnalysisResult:
    """Its proto."""
    return result_to_proto(result, "req-1")


class TestMappingTables:
    """Every domain enum value has a distinct proto value."""

    def test_laughter_types(self) -> None:
        """Each LaughterType maps to a distinct, specified LaughterType value of the same name."""
        assert set(LAUGHTER_TYPES) == set(LaughterType)
        assert len(set(LAUGHTER_TYPES.values())) == len(LaughterType)
        for kind, value in LAUGHTER_TYPES.items():
            assert analysis_pb2.LaughterType.Name(value) == "LAUGHTER_TYPE_" + kind.name

    def test_notices(self) -> None:
        """Each Notice maps to a distinct NoticeCode of the same name."""
        assert set(NOTICES) == set(Notice)
        assert len(set(NOTICES.values())) == len(Notice)
        for notice, value in NOTICES.items():
            assert summary_pb2.NoticeCode.Name(value) == "NOTICE_CODE_" + notice.name

    def test_sources(self) -> None:
        """Each EvidenceSource has its EVIDENCE_SOURCE_ value."""
        assert {analysis_pb2.EvidenceSource.Name(v) for v in SOURCES.values()} == {
            "EVIDENCE_SOURCE_" + s.name for s in EvidenceSource
        }

    def test_emotions_follow_model_order(self) -> None:
        """Model output index i is enum value i + 1."""
        assert [EMOTION_VALUES[name] for name in EMOTIONS] == list(range(1, len(EMOTIONS) + 1))

    def test_model_roles(self) -> None:
        """Every served model's role, the landmark model's included, has its own MODEL_ROLE_ value."""
        assert set(ROLES) == {"face_detector", "face_emotion", "face_landmarks", "audio_laughter"}
        assert {model_pb2.ModelRole.Name(v) for v in ROLES.values()} == {
            "MODEL_ROLE_" + role.upper() for role in ROLES
        }
        landmarks = ModelDescription("face_landmarks", "1", "face_landmarks", "triton", "ef" * 32)
        assert model_to_proto(landmarks).role == model_pb2.MODEL_ROLE_FACE_LANDMARKS

    def test_trends(self) -> None:
        """All four trend directions map to distinct values."""
        assert set(TRENDS) == {"increasing", "decreasing", "stable", "insufficient_data"}
        assert 0 not in TRENDS.values()
        assert len(set(TRENDS.values())) == 4


class TestDuration:
    """duration converts seconds to a Duration."""

    @pytest.mark.parametrize(("seconds", "millis"), [(0.0, 0), (1.2345, 1234), (2.0006, 2001), (61.5, 61500)])
    def test_millisecond_precision(self, seconds: float, millis: int) -> None:
        """Seconds are rounded to the millisecond."""
        assert duration(seconds).ToMilliseconds() == millis


class TestEventToProto:
    """event_to_proto copies every event field."""

    def test_fields(self, result: AnalysisResult) -> None:
        """Times, confidence, type, evidence and face id match the domain event."""
        event = result.events[0]
        message = event_to_proto(event)
        assert message.event_id == event.event_id
        assert message.start_offset.ToMilliseconds() == round(event.start_s * 1000)
        assert message.end_offset.ToMilliseconds() == round(event.end_s * 1000)
        assert message.peak_offset.ToMilliseconds() == round(event.peak_s * 1000)
        assert message.confidence == pytest.approx(event.confidence, abs=1e-6)
        assert message.laughter_type == LAUGHTER_TYPES[event.laughter_type]
        assert message.evidence.source == analysis_pb2.EVIDENCE_SOURCE_AUDIO_AND_FACE
        assert message.evidence.face_happy == pytest.approx(event.evidence.face_happy, abs=1e-6)
        assert message.evidence.audio_probability == pytest.approx(event.evidence.audio_probability, abs=1e-6)
        assert message.evidence.face_coverage == pytest.approx(event.evidence.face_coverage, abs=1e-6)
        assert message.HasField("face_id")
        assert message.face_id == 3

    def test_no_face_leaves_face_id_unset(self) -> None:
        """An event without a face has no face_id (not 0)."""
        event = LaughterEvent(
            "evt-0001",
            1.0,
            2.0,
            1.5,
            0.7,
            LaughterType.SOFT_CHUCKLE,
            None,
            EventEvidence(EvidenceSource.AUDIO),
        )
        message = event_to_proto(event)
        assert not message.HasField("face_id")
        assert message.evidence.source == analysis_pb2.EVIDENCE_SOURCE_AUDIO

    def test_face_id_zero_is_present(self) -> None:
        """Face id 0 is a real id and stays present."""
        event = LaughterEvent(
            "evt-0001", 1.0, 2.0, 1.5, 0.7, LaughterType.JOYFUL, 0, EventEvidence(EvidenceSource.FACE)
        )
        message = event_to_proto(event)
        assert message.HasField("face_id")
        assert message.face_id == 0


class TestFaceSampleToProto:
    """face_sample_to_proto copies box, scores and dominant emotion."""

    def test_fields(self) -> None:
        """Offset, id, box, detection confidence, scores in model order, dominant emotion."""
        obs = FaceObservation(
            1.25, 4, BoundingBox(0.1, 0.2, 0.5, 0.75), 0.875, (0.0, 0.0, 0.1, 0.6, 0.0, 0.2, 0.1)
        )
        message = face_sample_to_proto(obs)
        assert message.offset.ToMilliseconds() == 1250
        assert message.face_id == 4
        assert (message.box.left, message.box.top, message.box.right, message.box.bottom) == pytest.approx(
            (0.1, 0.2, 0.5, 0.75)
        )
        assert message.detection_confidence == pytest.approx(0.875)
        assert [s.emotion for s in message.scores] == list(range(1, 8))
        assert [s.score for s in message.scores] == pytest.approx(list(obs.emotions))
        assert message.dominant_emotion == analysis_pb2.EMOTION_HAPPY


class TestResultToProto:
    """result_to_proto: the whole AnalysisResult message."""

    def test_events(self, result: AnalysisResult, message: summary_pb2.AnalysisResult) -> None:
        """One message per event, in order, face id only where a face is linked."""
        assert [e.event_id for e in message.events] == [e.event_id for e in result.events]
        assert len(result.events) == 2
        assert [e.HasField("face_id") for e in message.events] == [
            e.face_id is not None for e in result.events
        ]
        assert message.request_id == "req-1"

    def test_summary(self, result: AnalysisResult, message: summary_pb2.AnalysisResult) -> None:
        """Verdict, type, durations, intervals, trend, faces and notices match the domain summary."""
        summary, s = result.summary, message.summary
        assert s.laughter_detected is True
        assert s.dominant_laughter_type == LAUGHTER_TYPES[summary.dominant_laughter_type]
        assert s.overall_confidence == pytest.approx(summary.overall_confidence, abs=1e-6)
        assert summary.dominant_emotion is not None
        assert s.dominant_emotion == EMOTION_VALUES[summary.dominant_emotion]
        assert [e.score for e in s.emotion_breakdown] == pytest.approx(
            list(summary.emotion_breakdown), abs=1e-6
        )
        d = s.durations
        assert d.event_count == 2
        assert d.total_laughter_duration.ToMilliseconds() == round(summary.durations.total_s * 1000)
        assert d.longest_event_duration.ToMilliseconds() == round(summary.durations.longest_s * 1000)
        assert d.laughs_per_minute == pytest.approx(3.0)
        assert d.laughs_per_minute_ci.upper == pytest.approx(summary.laughs_per_minute_ci.upper, rel=1e-6)
        assert d.laughter_fraction_ci.method == summary.laughter_fraction_ci.method
        assert s.trend.direction == TRENDS[summary.trend.direction]
        assert len(s.trend.bins) == len(summary.trend.bins) == 4
        assert s.trend.bins[2].end_offset.ToMilliseconds() == 30000
        assert sum(c.event_count for c in s.type_counts) == 2
        assert [f.face_id for f in s.faces] == [3]
        assert s.faces[0].frames_seen == 50
        assert s.faces[0].dominant_emotion == analysis_pb2.EMOTION_NEUTRAL
        assert [(n.code, n.message) for n in s.notices] == [
            (summary_pb2.NOTICE_CODE_MEDIA_TRUNCATED, Notice.MEDIA_TRUNCATED.value)
        ]

    def test_type_counts_carry_durations(
        self, result: AnalysisResult, message: summary_pb2.AnalysisResult
    ) -> None:
        """Each type count's total duration is the sum of its events' lengths."""
        for count in message.summary.type_counts:
            total = sum(
                e.duration_s for e in result.events if LAUGHTER_TYPES[e.laughter_type] == count.laughter_type
            )
            assert count.total_duration.ToMilliseconds() == round(total * 1000)

    def test_media_timing_and_models(self, message: summary_pb2.AnalysisResult) -> None:
        """Media summary, processing time, stage timings (sorted) and models are filled in."""
        media = message.summary.media
        assert media.media_duration.ToMilliseconds() == 40000
        assert (media.has_video, media.has_audio) == (True, True)
        assert (media.video_width, media.video_height) == (360, 288)
        assert media.video_codec == "h264"
        assert media.audio_sample_rate_hertz == 44100
        assert media.frames_analyzed == 200
        assert media.analysis_frame_rate_hertz == pytest.approx(5.0)
        assert message.summary.processing_duration.ToMilliseconds() == 1500
        assert [(t.stage, t.duration.ToMilliseconds()) for t in message.summary.stage_timings] == [
            ("decode", 250),
            ("fusion", 125),
        ]
        assert [m.name for m in message.summary.models] == ["face_detector", "laughter-audio"]
        assert message.summary.models[1].sha256 == "cd" * 32
        assert len(message.face_samples) == 5

    def test_no_faces_no_emotions(self, result: AnalysisResult) -> None:
        """Without faces the dominant emotion is unspecified and the breakdown empty."""
        summary = summarise([], [], None, 10.0)
        empty = AnalysisResult(
            (), summary, (), MediaInfo("wav", 10.0, None, "pcm_s16le"), 10.0, 0, 0, 0, 0, 5.0, {}, 0.1, ()
        )
        message = result_to_proto(empty, "req-2")
        assert message.summary.dominant_emotion == analysis_pb2.EMOTION_UNSPECIFIED
        assert len(message.summary.emotion_breakdown) == 0
        assert message.summary.dominant_laughter_type == analysis_pb2.LAUGHTER_TYPE_NONE
        assert message.summary.media.has_video is False
        assert message.events == []

    def test_round_trips_through_bytes(self, message: summary_pb2.AnalysisResult) -> None:
        """The message serialises and parses back unchanged."""
        assert summary_pb2.AnalysisResult.FromString(message.SerializeToString()) == message


class TestOptionsFromProto:
    """options_from_proto resolves request options with server defaults."""

    def test_defaults(self) -> None:
        """An empty message takes the server's default rate."""
        options = options_from_proto(
            analysis_pb2.AnalysisOptions(), default_frame_rate_hertz=5.0, max_frame_rate_hertz=30.0
        )
        assert options.frame_rate_hertz == 5.0
        assert options.use_video
        assert options.use_audio

    def test_min_event_duration(self) -> None:
        """min_event_duration (a Duration) becomes the rule's min_event_s."""
        message = analysis_pb2.AnalysisOptions()
        message.min_event_duration.FromMilliseconds(750)
        options = options_from_proto(message, default_frame_rate_hertz=5.0, max_frame_rate_hertz=30.0)
        assert options.rules.min_event_s == pytest.approx(0.75)

    def test_field_prefix(self) -> None:
        """Violations name the field under the given prefix."""
        with pytest.raises(InvalidOptionError) as caught:
            options_from_proto(
                analysis_pb2.AnalysisOptions(analysis_frame_rate_hertz=100.0),
                default_frame_rate_hertz=5.0,
                max_frame_rate_hertz=30.0,
                field_prefix="config.options",
            )
        assert caught.value.field == "config.options.analysis_frame_rate_hertz"
