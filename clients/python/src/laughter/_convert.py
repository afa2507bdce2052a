"""laughter.v1 messages → the SDK's values. A mapping table, nothing else.

Enum values this SDK does not know (a newer server) map to the ``UNSPECIFIED`` member of the SDK enum, or
are skipped in emotion scores, so an old client keeps working against a new server.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from google.protobuf import duration_pb2, timestamp_pb2

from laughter._types import (
    AnalysisResult,
    AnalysisSummary,
    BoundingBox,
    ConfidenceInterval,
    DurationAnalysis,
    Emotion,
    EmotionScores,
    EventEvidence,
    EvidenceSource,
    FaceEmotionSample,
    FaceSummary,
    LaughterEvent,
    LaughterType,
    LaughterTypeCount,
    MediaSummary,
    ModelInfo,
    ModelRole,
    Notice,
    NoticeCode,
    StageTiming,
    Trend,
    TrendBin,
    TrendDirection,
)
from laughter.v1 import analysis_pb2, model_pb2, summary_pb2

LAUGHTER_TYPES: dict[int, LaughterType] = {
    analysis_pb2.LAUGHTER_TYPE_JOYFUL: LaughterType.JOYFUL,
    analysis_pb2.LAUGHTER_TYPE_SURPRISED: LaughterType.SURPRISED,
    analysis_pb2.LAUGHTER_TYPE_NERVOUS: LaughterType.NERVOUS,
    analysis_pb2.LAUGHTER_TYPE_POLITE: LaughterType.POLITE,
    analysis_pb2.LAUGHTER_TYPE_SOFT_CHUCKLE: LaughterType.SOFT_CHUCKLE,
    analysis_pb2.LAUGHTER_TYPE_MILD_AMUSEMENT: LaughterType.MILD_AMUSEMENT,
    analysis_pb2.LAUGHTER_TYPE_NONE: LaughterType.NONE,
}
EMOTIONS: dict[int, Emotion] = {
    analysis_pb2.EMOTION_ANGRY: Emotion.ANGRY,
    analysis_pb2.EMOTION_DISGUST: Emotion.DISGUST,
    analysis_pb2.EMOTION_FEAR: Emotion.FEAR,
    analysis_pb2.EMOTION_HAPPY: Emotion.HAPPY,
    analysis_pb2.EMOTION_SAD: Emotion.SAD,
    analysis_pb2.EMOTION_SURPRISE: Emotion.SURPRISE,
    analysis_pb2.EMOTION_NEUTRAL: Emotion.NEUTRAL,
}
SOURCES: dict[int, EvidenceSource] = {
    analysis_pb2.EVIDENCE_SOURCE_AUDIO: EvidenceSource.AUDIO,
    analysis_pb2.EVIDENCE_SOURCE_FACE: EvidenceSource.FACE,
    analysis_pb2.EVIDENCE_SOURCE_AUDIO_AND_FACE: EvidenceSource.AUDIO_AND_FACE,
}
TRENDS: dict[int, TrendDirection] = {
    summary_pb2.TREND_DIRECTION_INCREASING: TrendDirection.INCREASING,
    summary_pb2.TREND_DIRECTION_DECREASING: TrendDirection.DECREASING,
    summary_pb2.TREND_DIRECTION_STABLE: TrendDirection.STABLE,
    summary_pb2.TREND_DIRECTION_INSUFFICIENT_DATA: TrendDirection.INSUFFICIENT_DATA,
}
NOTICES: dict[int, NoticeCode] = {
    summary_pb2.NoticeCode.Value("NOTICE_CODE_" + code.name): code
    for code in NoticeCode
    if code is not NoticeCode.UNSPECIFIED
}
ROLES: dict[int, ModelRole] = {
    model_pb2.MODEL_ROLE_FACE_DETECTOR: ModelRole.FACE_DETECTOR,
    model_pb2.MODEL_ROLE_FACE_EMOTION: ModelRole.FACE_EMOTION,
    model_pb2.MODEL_ROLE_FACE_LANDMARKS: ModelRole.FACE_LANDMARKS,
    model_pb2.MODEL_ROLE_AUDIO_LAUGHTER: ModelRole.AUDIO_LAUGHTER,
}


def seconds_from_duration(value: duration_pb2.Duration) -> float:
    """Seconds (float) from a protobuf Duration."""
    return value.seconds + value.nanos / 1e9


def duration_from_seconds(seconds: float) -> duration_pb2.Duration:
    """A protobuf Duration from seconds (nanosecond precision)."""
    value = duration_pb2.Duration()
    value.FromNanoseconds(round(seconds * 1e9))
    return value


def _datetime(value: timestamp_pb2.Timestamp, is_set: bool) -> datetime.datetime | None:
    if not is_set:
        return None
    return value.ToDatetime(tzinfo=datetime.timezone.utc)  # noqa: UP017 - datetime.UTC needs Python 3.11


def laughter_type_from_proto(value: int) -> LaughterType:
    """The SDK's laughter type; unset or unknown values read as ``NONE``."""
    return LAUGHTER_TYPES.get(value, LaughterType.NONE)


def emotion_from_proto(value: int) -> Emotion | None:
    """The SDK's emotion, or ``None`` for ``EMOTION_UNSPECIFIED`` (no face) and unknown values."""
    return EMOTIONS.get(value)


def emotion_scores_from_proto(scores: Iterable[analysis_pb2.EmotionScore]) -> EmotionScores:
    """Scores keyed by emotion value, in model order whatever order the message used."""
    by_emotion = {
        EMOTIONS[score.emotion]: float(score.score) for score in scores if score.emotion in EMOTIONS
    }
    return {emotion.value: by_emotion[emotion] for emotion in Emotion if emotion in by_emotion}


def box_from_proto(message: analysis_pb2.NormalizedBoundingBox) -> BoundingBox:
    """A normalised bounding box."""
    return BoundingBox(left=message.left, top=message.top, right=message.right, bottom=message.bottom)


def face_sample_from_proto(message: analysis_pb2.FaceEmotionSample) -> FaceEmotionSample:
    """One face in one frame."""
    return FaceEmotionSample(
        offset_s=seconds_from_duration(message.offset),
        face_id=message.face_id,
        box=box_from_proto(message.box),
        detection_confidence=message.detection_confidence,
        emotions=emotion_scores_from_proto(message.scores),
        dominant_emotion=emotion_from_proto(message.dominant_emotion),
        smiling=message.smiling,
        mouth_open=message.mouth_open,
    )


def evidence_from_proto(message: analysis_pb2.EventEvidence) -> EventEvidence:
    """The signals behind an event."""
    return EventEvidence(
        source=SOURCES.get(message.source, EvidenceSource.UNSPECIFIED),
        audio_probability=message.audio_probability,
        face_happy=message.face_happy,
        face_surprise=message.face_surprise,
        face_fear=message.face_fear,
        face_neutral=message.face_neutral,
        audio_loudness_dbfs=message.audio_loudness_dbfs,
        burst_rate_hertz=message.burst_rate_hertz,
        face_coverage=message.face_coverage,
        relative_loudness_db=message.relative_loudness_db,
    )


def event_from_proto(message: analysis_pb2.LaughterEvent) -> LaughterEvent:
    """One laughter event."""
    return LaughterEvent(
        event_id=message.event_id,
        start_s=seconds_from_duration(message.start_offset),
        end_s=seconds_from_duration(message.end_offset),
        peak_s=seconds_from_duration(message.peak_offset),
        confidence=message.confidence,
        laughter_type=laughter_type_from_proto(message.laughter_type),
        face_id=message.face_id if message.HasField("face_id") else None,
        evidence=evidence_from_proto(message.evidence),
    )


def interval_from_proto(
    message: summary_pb2.ConfidenceInterval, is_set: bool = True
) -> ConfidenceInterval | None:
    """A confidence interval, or ``None`` when the server sent none."""
    if not is_set:
        return None
    return ConfidenceInterval(
        lower=message.lower, upper=message.upper, level=message.level, method=message.method
    )


def durations_from_proto(message: summary_pb2.DurationAnalysis) -> DurationAnalysis:
    """Counts, durations and rates, with their confidence intervals."""
    return DurationAnalysis(
        event_count=message.event_count,
        total_laughter_duration_s=seconds_from_duration(message.total_laughter_duration),
        mean_event_duration_s=seconds_from_duration(message.mean_event_duration),
        longest_event_duration_s=seconds_from_duration(message.longest_event_duration),
        laughs_per_minute=message.laughs_per_minute,
        laughter_fraction=message.laughter_fraction,
        laughs_per_minute_ci=interval_from_proto(
            message.laughs_per_minute_ci, message.HasField("laughs_per_minute_ci")
        ),
        laughter_fraction_ci=interval_from_proto(
            message.laughter_fraction_ci, message.HasField("laughter_fraction_ci")
        ),
    )


def trend_from_proto(message: summary_pb2.Trend) -> Trend:
    """The trend and its bins."""
    return Trend(
        direction=TRENDS.get(message.direction, TrendDirection.UNSPECIFIED),
        slope_per_minute=message.slope_per_minute,
        bins=tuple(
            TrendBin(
                start_s=seconds_from_duration(item.start_offset),
                end_s=seconds_from_duration(item.end_offset),
                event_count=item.event_count,
                laughter_duration_s=seconds_from_duration(item.laughter_duration),
                mean_happy=item.mean_happy,
            )
            for item in message.bins
        ),
    )


def face_summary_from_proto(message: summary_pb2.FaceSummary) -> FaceSummary:
    """One tracked face."""
    return FaceSummary(
        face_id=message.face_id,
        frames_seen=message.frames_seen,
        first_seen_s=seconds_from_duration(message.first_seen_offset),
        last_seen_s=seconds_from_duration(message.last_seen_offset),
        emotion_breakdown=emotion_scores_from_proto(message.emotion_breakdown),
        dominant_emotion=emotion_from_proto(message.dominant_emotion),
        event_count=message.event_count,
        dominant_laughter_type=laughter_type_from_proto(message.dominant_laughter_type),
        smiling=message.smiling,
        mouth_open=message.mouth_open,
    )


def media_from_proto(message: summary_pb2.MediaSummary) -> MediaSummary:
    """The media as analysed."""
    return MediaSummary(
        duration_s=seconds_from_duration(message.media_duration),
        has_video=message.has_video,
        has_audio=message.has_audio,
        frames_analyzed=message.frames_analyzed,
        frames_with_faces=message.frames_with_faces,
        faces_detected=message.faces_detected,
        analysis_frame_rate_hertz=message.analysis_frame_rate_hertz,
        container=message.container,
        video_codec=message.video_codec,
        audio_codec=message.audio_codec,
        video_width=message.video_width,
        video_height=message.video_height,
        video_frame_rate_hertz=message.video_frame_rate_hertz,
        audio_sample_rate_hertz=message.audio_sample_rate_hertz,
        audio_channel_count=message.audio_channel_count,
    )


def model_from_proto(message: model_pb2.ModelInfo) -> ModelInfo:
    """One model with its version."""
    return ModelInfo(
        name=message.name,
        version=message.version,
        role=ROLES.get(message.role, ModelRole.UNSPECIFIED),
        backend=message.backend,
        sha256=message.sha256,
        ready=message.ready,
        loaded_at=_datetime(message.load_time, message.HasField("load_time")),
    )


def summary_from_proto(message: summary_pb2.AnalysisSummary) -> AnalysisSummary:
    """The summary of an analysis."""
    return AnalysisSummary(
        laughter_detected=message.laughter_detected,
        dominant_laughter_type=laughter_type_from_proto(message.dominant_laughter_type),
        overall_confidence=message.overall_confidence,
        dominant_emotion=emotion_from_proto(message.dominant_emotion),
        emotion_breakdown=emotion_scores_from_proto(message.emotion_breakdown),
        durations=durations_from_proto(message.durations),
        trend=trend_from_proto(message.trend),
        type_counts=tuple(
            LaughterTypeCount(
                laughter_type=laughter_type_from_proto(item.laughter_type),
                event_count=item.event_count,
                total_duration_s=seconds_from_duration(item.total_duration),
            )
            for item in message.type_counts
        ),
        faces=tuple(face_summary_from_proto(item) for item in message.faces),
        media=media_from_proto(message.media),
        notices=tuple(
            Notice(code=NOTICES.get(item.code, NoticeCode.UNSPECIFIED), message=item.message)
            for item in message.notices
        ),
        processing_duration_s=seconds_from_duration(message.processing_duration),
        stage_timings=tuple(
            StageTiming(stage=item.stage, duration_s=seconds_from_duration(item.duration))
            for item in message.stage_timings
        ),
        models=tuple(model_from_proto(item) for item in message.models),
        result_id=message.result_id,
    )


def result_from_proto(message: summary_pb2.AnalysisResult) -> AnalysisResult:
    """The complete result of a whole-file analysis."""
    return AnalysisResult(
        events=tuple(event_from_proto(item) for item in message.events),
        summary=summary_from_proto(message.summary),
        face_samples=tuple(face_sample_from_proto(item) for item in message.face_samples),
        request_id=message.request_id,
        result_id=message.summary.result_id,
        cached=message.cached,
    )
