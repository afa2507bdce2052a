"""laughter.v1 messages → the SDK's values."""

from __future__ import annotations

import json

import pytest
from google.protobuf import timestamp_pb2
from laughter import (
    Emotion,
    EvidenceSource,
    LaughterType,
    ModelRole,
    NoticeCode,
    TrendDirection,
)
from laughter._convert import (
    duration_from_seconds,
    emotion_scores_from_proto,
    face_sample_from_proto,
    face_summary_from_proto,
    model_from_proto,
    result_from_proto,
    seconds_from_duration,
)
from laughter.v1 import analysis_pb2, model_pb2, summary_pb2


class TestResultFromProto:
    """result_from_proto maps every field of a whole-file result."""

    def test_events_keep_times_types_and_faces(self, result_proto: summary_pb2.AnalysisResult) -> None:
        """Offsets become seconds, enums SDK enums, an unset face id None."""
        result = result_from_proto(result_proto)
        first, second = result.events
        assert (first.start_s, first.end_s, first.peak_s) == (1.25, 3.5, 2.0)
        assert first.duration_s == pytest.approx(2.25)
        assert first.laughter_type is LaughterType.JOYFUL
        assert first.face_id == 0
        assert first.evidence.source is EvidenceSource.AUDIO_AND_FACE
        assert first.evidence.audio_loudness_dbfs == -18.5
        assert second.face_id is None
        assert second.laughter_type.value == "Soft Chuckle"

    def test_summary_figures(self, result_proto: summary_pb2.AnalysisResult) -> None:
        """Durations, intervals, trend, faces, media, notices and models come through."""
        summary = result_from_proto(result_proto).summary
        assert summary.laughter_detected
        assert summary.dominant_emotion is Emotion.HAPPY
        assert summary.durations.total_laughter_duration_s == 7.75
        assert summary.durations.laughs_per_minute_ci is not None
        assert summary.durations.laughs_per_minute_ci.method == "poisson-exact"
        assert summary.durations.laughter_fraction_ci is None
        assert summary.trend.direction is TrendDirection.STABLE
        assert [item.end_s for item in summary.trend.bins] == [14.25, 28.5]
        assert summary.faces[0].frames_seen == 140
        assert summary.media.video_width == 360
        assert summary.media.duration_s == 28.5
        assert summary.notices[0].code is NoticeCode.MEDIA_TRUNCATED
        assert summary.models[0].role is ModelRole.FACE_EMOTION
        assert summary.models[0].loaded_at is None
        assert summary.stage_timings[0].duration_s == 0.5

    def test_result_id_on_the_summary_too(self, result_proto: summary_pb2.AnalysisResult) -> None:
        """The stored result's id reaches the result and its summary (a live session's summary alone)."""
        result_proto.summary.result_id = "f" * 32
        result = result_from_proto(result_proto)
        assert result.result_id == result.summary.result_id == "f" * 32
        assert result_from_proto(summary_pb2.AnalysisResult()).summary.result_id == ""

    def test_emotions_are_in_model_order(self, result_proto: summary_pb2.AnalysisResult) -> None:
        """The breakdown is keyed by emotion name in model order even when the message was reversed."""
        summary = result_from_proto(result_proto).summary
        assert list(summary.emotion_breakdown) == [emotion.value for emotion in Emotion]
        assert summary.emotion_breakdown["happy"] == 0.5

    def test_to_dict_is_json(self, result_proto: summary_pb2.AnalysisResult) -> None:
        """to_dict() survives a JSON round trip with enums as their values and seconds as floats."""
        data = json.loads(json.dumps(result_from_proto(result_proto).to_dict()))
        assert data["events"][0]["laughter_type"] == "Joyful Laugh"
        assert data["events"][0]["start_s"] == 1.25
        assert data["events"][1]["face_id"] is None
        assert data["summary"]["dominant_emotion"] == "happy"
        assert data["summary"]["media"]["duration_s"] == 28.5
        assert data["face_samples"][0]["box"]["right"] == 0.75
        assert data["request_id"] == "req-0123456789"

    def test_empty_result(self) -> None:
        """An empty message gives an empty, valid result: no events, type NONE, no dominant emotion."""
        result = result_from_proto(summary_pb2.AnalysisResult())
        assert result.events == ()
        assert result.summary.dominant_laughter_type is LaughterType.NONE
        assert result.summary.dominant_emotion is None
        assert result.summary.emotion_breakdown == {}
        assert result.summary.trend.direction is TrendDirection.UNSPECIFIED


class TestConversionHelpers:
    """The small converters behind result_from_proto."""

    def test_every_model_role_is_known(self) -> None:
        """Each specified ModelRole value, the face-landmark model's included, becomes its own SDK role."""
        values = [v for v in model_pb2.ModelRole.values() if v != model_pb2.MODEL_ROLE_UNSPECIFIED]
        roles = [model_from_proto(model_pb2.ModelInfo(name="m", role=v)).role for v in values]
        assert ModelRole.FACE_LANDMARKS in roles
        assert ModelRole.UNSPECIFIED not in roles
        assert len(set(roles)) == len(values)

    def test_durations_round_trip(self) -> None:
        """Seconds survive a Duration round trip at nanosecond precision."""
        assert seconds_from_duration(duration_from_seconds(12.345678901)) == pytest.approx(12.345678901)

    def test_smiling_and_mouth_open_are_kept(self) -> None:
        """A face sample and a face summary keep their smiling and mouth_open scores."""
        sample = face_sample_from_proto(analysis_pb2.FaceEmotionSample(smiling=0.75, mouth_open=0.25))
        assert (sample.smiling, sample.mouth_open) == (0.75, 0.25)
        face = face_summary_from_proto(summary_pb2.FaceSummary(face_id=2, smiling=0.5, mouth_open=0.125))
        assert (face.face_id, face.smiling, face.mouth_open) == (2, 0.5, 0.125)

    def test_unknown_emotions_are_skipped(self) -> None:
        """Scores for emotions this SDK does not know are dropped."""
        scores = [
            analysis_pb2.EmotionScore(emotion=99, score=0.5),
            analysis_pb2.EmotionScore(emotion=4, score=0.5),
        ]
        assert emotion_scores_from_proto(scores) == {"happy": 0.5}

    def test_model_load_time_is_utc(self) -> None:
        """A set load_time becomes an aware UTC datetime."""
        message = model_pb2.ModelInfo(name="face_detector", load_time=timestamp_pb2.Timestamp(seconds=86400))
        loaded_at = model_from_proto(message).loaded_at
        assert loaded_at is not None
        assert loaded_at.isoformat() == "1970-01-02T00:00:00+00:00"
