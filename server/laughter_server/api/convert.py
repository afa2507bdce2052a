"""Domain values ↔ laughter.v1 messages. A mapping table, nothing else."""

from __future__ import annotations

from google.protobuf import duration_pb2
from laughter.v1 import analysis_pb2, model_pb2, summary_pb2

from laughter_server.api import validation
from laughter_server.fusion.types import (
    EMOTIONS,
    AnalysisSummary,
    EvidenceSource,
    FaceObservation,
    Interval,
    LaughterEvent,
    LaughterType,
    Notice,
)
from laughter_server.inference.models import ModelDescription
from laughter_server.pipeline.options import AnalysisOptions, resolve_options
from laughter_server.pipeline.result import AnalysisResult

LAUGHTER_TYPES = {
    LaughterType.JOYFUL: analysis_pb2.LAUGHTER_TYPE_JOYFUL,
    LaughterType.SURPRISED: analysis_pb2.LAUGHTER_TYPE_SURPRISED,
    LaughterType.NERVOUS: analysis_pb2.LAUGHTER_TYPE_NERVOUS,
    LaughterType.POLITE: analysis_pb2.LAUGHTER_TYPE_POLITE,
    LaughterType.SOFT_CHUCKLE: analysis_pb2.LAUGHTER_TYPE_SOFT_CHUCKLE,
    LaughterType.MILD_AMUSEMENT: analysis_pb2.LAUGHTER_TYPE_MILD_AMUSEMENT,
    LaughterType.NONE: analysis_pb2.LAUGHTER_TYPE_NONE,
}
EMOTION_VALUES = {
    "angry": analysis_pb2.EMOTION_ANGRY,
    "disgust": analysis_pb2.EMOTION_DISGUST,
    "fear": analysis_pb2.EMOTION_FEAR,
    "happy": analysis_pb2.EMOTION_HAPPY,
    "sad": analysis_pb2.EMOTION_SAD,
    "surprise": analysis_pb2.EMOTION_SURPRISE,
    "neutral": analysis_pb2.EMOTION_NEUTRAL,
}
SOURCES = {
    EvidenceSource.AUDIO: analysis_pb2.EVIDENCE_SOURCE_AUDIO,
    EvidenceSource.FACE: analysis_pb2.EVIDENCE_SOURCE_FACE,
    EvidenceSource.AUDIO_AND_FACE: analysis_pb2.EVIDENCE_SOURCE_AUDIO_AND_FACE,
}
NOTICES = {notice: getattr(summary_pb2, "NOTICE_CODE_" + notice.name) for notice in Notice}
TRENDS = {
    "increasing": summary_pb2.TREND_DIRECTION_INCREASING,
    "decreasing": summary_pb2.TREND_DIRECTION_DECREASING,
    "stable": summary_pb2.TREND_DIRECTION_STABLE,
    "insufficient_data": summary_pb2.TREND_DIRECTION_INSUFFICIENT_DATA,
}
ROLES = {
    "face_detector": model_pb2.MODEL_ROLE_FACE_DETECTOR,
    "face_emotion": model_pb2.MODEL_ROLE_FACE_EMOTION,
    "face_landmarks": model_pb2.MODEL_ROLE_FACE_LANDMARKS,
    "audio_laughter": model_pb2.MODEL_ROLE_AUDIO_LAUGHTER,
}


def duration(seconds: float) -> duration_pb2.Duration:
    """A Duration from seconds (millisecond precision is plenty for media offsets)."""
    value = duration_pb2.Duration()
    value.FromMilliseconds(round(seconds * 1000))
    return value


def options_from_proto(
    message: analysis_pb2.AnalysisOptions,
    *,
    default_frame_rate_hertz: float,
    max_frame_rate_hertz: float,
    field_prefix: str = "options",
) -> AnalysisOptions:
    """Validated domain options from the request (0/unset fields take the server defaults)."""
    return resolve_options(
        frame_rate_hertz=message.analysis_frame_rate_hertz,
        default_frame_rate_hertz=default_frame_rate_hertz,
        max_frame_rate_hertz=max_frame_rate_hertz,
        disable_video=message.disable_video,
        disable_audio=message.disable_audio,
        laughter_threshold=message.laughter_threshold,
        min_event_s=validation.duration_s(message.min_event_duration, f"{field_prefix}.min_event_duration"),
        max_faces=message.max_faces,
        include_face_samples=message.include_face_samples,
        field_prefix=field_prefix,
    )


def options_to_proto(options: AnalysisOptions) -> analysis_pb2.AnalysisOptions:
    """The effective options, with every default filled in."""
    return analysis_pb2.AnalysisOptions(
        analysis_frame_rate_hertz=options.frame_rate_hertz,
        disable_video=not options.use_video,
        disable_audio=not options.use_audio,
        laughter_threshold=options.rules.enter_threshold,
        min_event_duration=duration(options.rules.min_event_s),
        max_faces=options.max_faces,
        include_face_samples=options.include_face_samples,
    )


def emotion_scores(values: tuple[float, ...]) -> list[analysis_pb2.EmotionScore]:
    """EmotionScore messages in model order."""
    return [
        analysis_pb2.EmotionScore(emotion=EMOTION_VALUES[n], score=v)
        for n, v in zip(EMOTIONS, values, strict=True)
    ]


def event_to_proto(event: LaughterEvent) -> analysis_pb2.LaughterEvent:
    """A LaughterEvent message."""
    ev = event.evidence
    message = analysis_pb2.LaughterEvent(
        event_id=event.event_id,
        start_offset=duration(event.start_s),
        end_offset=duration(event.end_s),
        peak_offset=duration(event.peak_s),
        confidence=event.confidence,
        laughter_type=LAUGHTER_TYPES[event.laughter_type],
        evidence=analysis_pb2.EventEvidence(
            source=SOURCES[ev.source],
            audio_probability=ev.audio_probability,
            face_happy=ev.face_happy,
            face_surprise=ev.face_surprise,
            face_fear=ev.face_fear,
            face_neutral=ev.face_neutral,
            audio_loudness_dbfs=ev.loudness_dbfs,
            burst_rate_hertz=ev.burst_rate_hertz,
            face_coverage=ev.face_coverage,
            relative_loudness_db=ev.relative_loudness_db,
        ),
    )
    if event.face_id is not None:
        message.face_id = event.face_id
    return message


def face_sample_to_proto(obs: FaceObservation) -> analysis_pb2.FaceEmotionSample:
    """A FaceEmotionSample message."""
    return analysis_pb2.FaceEmotionSample(
        offset=duration(obs.time_s),
        face_id=obs.face_id,
        box=analysis_pb2.NormalizedBoundingBox(
            left=obs.box.left, top=obs.box.top, right=obs.box.right, bottom=obs.box.bottom
        ),
        detection_confidence=obs.detection_score,
        scores=emotion_scores(obs.emotions),
        dominant_emotion=EMOTION_VALUES[obs.dominant_emotion],
        smiling=obs.smiling,
        mouth_open=obs.mouth_open if obs.mouth_open is not None else 0.0,
    )


def model_to_proto(model: ModelDescription) -> model_pb2.ModelInfo:
    """A ModelInfo message."""
    return model_pb2.ModelInfo(
        name=model.name,
        version=model.version,
        role=ROLES.get(model.role, model_pb2.MODEL_ROLE_UNSPECIFIED),
        backend=model.backend,
        sha256=model.sha256,
        ready=True,
    )


def _interval(value: Interval) -> summary_pb2.ConfidenceInterval:
    return summary_pb2.ConfidenceInterval(
        lower=value.lower, upper=value.upper, level=value.level, method=value.method
    )


def summary_to_proto(summary: AnalysisSummary) -> summary_pb2.AnalysisSummary:
    """The AnalysisSummary message, without the media/timing/model parts (see ``result_to_proto``)."""
    d = summary.durations
    type_seconds = dict(summary.type_seconds)
    message = summary_pb2.AnalysisSummary(
        laughter_detected=summary.laughter_detected,
        dominant_laughter_type=LAUGHTER_TYPES[summary.dominant_laughter_type],
        overall_confidence=summary.overall_confidence,
        dominant_emotion=EMOTION_VALUES[summary.dominant_emotion]
        if summary.dominant_emotion
        else analysis_pb2.EMOTION_UNSPECIFIED,
        emotion_breakdown=emotion_scores(summary.emotion_breakdown) if summary.dominant_emotion else [],
        durations=summary_pb2.DurationAnalysis(
            event_count=d.event_count,
            total_laughter_duration=duration(d.total_s),
            mean_event_duration=duration(d.mean_s),
            longest_event_duration=duration(d.longest_s),
            laughs_per_minute=d.laughs_per_minute,
            laughter_fraction=d.laughter_fraction,
            laughs_per_minute_ci=_interval(summary.laughs_per_minute_ci),
            laughter_fraction_ci=_interval(summary.laughter_fraction_ci),
        ),
        trend=summary_pb2.Trend(
            direction=TRENDS[summary.trend.direction],
            slope_per_minute=summary.trend.slope_per_minute,
            bins=[
                summary_pb2.TrendBin(
                    start_offset=duration(b.start_s),
                    end_offset=duration(b.end_s),
                    event_count=b.event_count,
                    laughter_duration=duration(b.laughter_s),
                    mean_happy=b.mean_happy,
                )
                for b in summary.trend.bins
            ],
        ),
        type_counts=[
            summary_pb2.LaughterTypeCount(
                laughter_type=LAUGHTER_TYPES[kind],
                event_count=count,
                total_duration=duration(type_seconds.get(kind, 0.0)),
            )
            for kind, count in summary.type_counts
        ],
        faces=[
            summary_pb2.FaceSummary(
                face_id=f.face_id,
                frames_seen=f.frames_seen,
                first_seen_offset=duration(f.first_seen_s),
                last_seen_offset=duration(f.last_seen_s),
                emotion_breakdown=emotion_scores(f.emotion_breakdown),
                dominant_emotion=EMOTION_VALUES[
                    EMOTIONS[max(range(len(EMOTIONS)), key=f.emotion_breakdown.__getitem__)]
                ],
                event_count=f.event_count,
                dominant_laughter_type=LAUGHTER_TYPES[f.dominant_laughter_type],
                smiling=f.smiling,
                mouth_open=f.mouth_open,
            )
            for f in summary.faces
        ],
        notices=[summary_pb2.Notice(code=NOTICES[n], message=n.value) for n in summary.notices],
    )
    return message


def full_summary_to_proto(result: AnalysisResult) -> summary_pb2.AnalysisSummary:
    """The AnalysisSummary message of an analysis (whole file or live session), with media, timings and
    models."""
    summary = summary_to_proto(result.summary)
    info = result.media
    summary.media.CopyFrom(
        summary_pb2.MediaSummary(
            media_duration=duration(result.duration_s),
            has_video=info.video_codec is not None,
            has_audio=info.audio_codec is not None,
            frames_analyzed=result.frames_analyzed,
            frames_with_faces=result.frames_with_faces,
            faces_detected=result.faces_detected,
            analysis_frame_rate_hertz=result.frame_rate_hertz,
            container=info.container,
            video_codec=info.video_codec or "",
            audio_codec=info.audio_codec or "",
            video_width=info.width or 0,
            video_height=info.height or 0,
            video_frame_rate_hertz=info.source_fps or 0.0,
            audio_sample_rate_hertz=info.source_sample_rate_hertz or 0,
            audio_channel_count=info.audio_channels or 0,
        )
    )
    summary.processing_duration.CopyFrom(duration(result.processing_s))
    summary.stage_timings.extend(
        summary_pb2.StageTiming(stage=stage, duration=duration(seconds))
        for stage, seconds in sorted(result.stage_seconds.items())
    )
    summary.models.extend(model_to_proto(m) for m in result.models)
    return summary


def result_to_proto(result: AnalysisResult, request_id: str) -> summary_pb2.AnalysisResult:
    """The full AnalysisResult message."""
    return summary_pb2.AnalysisResult(
        events=[event_to_proto(e) for e in result.events],
        summary=full_summary_to_proto(result),
        face_samples=[face_sample_to_proto(o) for o in result.face_samples],
        request_id=request_id,
    )
