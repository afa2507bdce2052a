"""Live sessions between the SDK's values and laughter.v1 messages: options and media out, updates in.

Enum values and update kinds this SDK does not know (a newer server) map to ``UNSPECIFIED`` or are
skipped, so an old client keeps working against a new server.
"""

from __future__ import annotations

from google.rpc import code_pb2, error_details_pb2, status_pb2

from laughter._base import analysis_options_to_proto
from laughter._config import AnalysisOptions, SessionOptions
from laughter._convert import (
    _datetime,
    duration_from_seconds,
    event_from_proto,
    face_sample_from_proto,
    model_from_proto,
    seconds_from_duration,
    summary_from_proto,
)
from laughter._enums import AudioEncoding, BacklogPolicy, DropReason, EventPhase, FrameEncoding
from laughter._session_types import (
    AudioChunk,
    DropCount,
    EventUpdate,
    FaceSampleUpdate,
    Frame,
    Progress,
    SessionStarted,
    SessionUpdate,
    SessionWarning,
)
from laughter.v1 import analysis_pb2, laughter_service_pb2, media_pb2, session_pb2

PHASES: dict[int, EventPhase] = {
    session_pb2.EVENT_PHASE_STARTED: EventPhase.STARTED,
    session_pb2.EVENT_PHASE_ONGOING: EventPhase.ONGOING,
    session_pb2.EVENT_PHASE_ENDED: EventPhase.ENDED,
}
DROP_REASONS: dict[int, DropReason] = {
    session_pb2.DROP_REASON_BACKLOG: DropReason.BACKLOG,
    session_pb2.DROP_REASON_UNDECODABLE: DropReason.UNDECODABLE,
    session_pb2.DROP_REASON_NOT_MONOTONIC: DropReason.NOT_MONOTONIC,
    session_pb2.DROP_REASON_TOO_LARGE: DropReason.TOO_LARGE,
    session_pb2.DROP_REASON_MODEL_UNAVAILABLE: DropReason.MODEL_UNAVAILABLE,
}
BACKLOG_POLICIES: dict[BacklogPolicy, session_pb2.BacklogPolicy] = {
    BacklogPolicy.DROP_OLDEST: session_pb2.BACKLOG_POLICY_DROP_OLDEST,
    BacklogPolicy.BLOCK: session_pb2.BACKLOG_POLICY_BLOCK,
}
FRAME_ENCODINGS: dict[FrameEncoding, media_pb2.FrameEncoding] = {
    FrameEncoding.JPEG: media_pb2.FRAME_ENCODING_JPEG,
    FrameEncoding.PNG: media_pb2.FRAME_ENCODING_PNG,
    FrameEncoding.RAW_RGB24: media_pb2.FRAME_ENCODING_RAW_RGB24,
    FrameEncoding.RAW_BGR24: media_pb2.FRAME_ENCODING_RAW_BGR24,
}
AUDIO_ENCODINGS: dict[AudioEncoding, media_pb2.AudioEncoding] = {
    AudioEncoding.PCM_S16LE: media_pb2.AUDIO_ENCODING_PCM_S16LE,
    AudioEncoding.PCM_F32LE: media_pb2.AUDIO_ENCODING_PCM_F32LE,
}


def session_config_to_proto(options: SessionOptions) -> session_pb2.SessionConfig:
    """The SessionConfig for the options; unset values stay zero so the server applies its defaults."""
    message = session_pb2.SessionConfig(
        client_id=options.client_id,
        session_id=options.session_id,
        options=analysis_options_to_proto(options.analysis),
        backlog_policy=BACKLOG_POLICIES[options.backlog_policy],
    )
    if options.video_encoding is not None:
        message.video.CopyFrom(
            media_pb2.VideoFormat(
                encoding=FRAME_ENCODINGS[options.video_encoding],
                width=options.video_width,
                height=options.video_height,
            )
        )
    if options.audio_encoding is not None:
        message.audio.CopyFrom(
            media_pb2.AudioFormat(
                encoding=AUDIO_ENCODINGS[options.audio_encoding],
                sample_rate_hertz=options.audio_sample_rate_hertz,
                channel_count=options.audio_channel_count,
            )
        )
    if options.progress_interval_s is not None:
        message.progress_interval.CopyFrom(duration_from_seconds(options.progress_interval_s))
    return message


def config_request(options: SessionOptions) -> laughter_service_pb2.StreamingAnalyzeRequest:
    """The first request of a StreamingAnalyze call."""
    return laughter_service_pb2.StreamingAnalyzeRequest(config=session_config_to_proto(options))


def chunk_request(chunk: Frame | AudioChunk) -> laughter_service_pb2.StreamingAnalyzeRequest:
    """The request carrying one frame or audio chunk."""
    if isinstance(chunk, Frame):
        offset = duration_from_seconds(chunk.offset_s)
        media = media_pb2.MediaChunk(frame=media_pb2.VideoFrame(data=chunk.data, capture_offset=offset))
    elif isinstance(chunk, AudioChunk):
        offset = duration_from_seconds(chunk.offset_s)
        media = media_pb2.MediaChunk(audio=media_pb2.AudioChunk(data=chunk.data, capture_offset=offset))
    else:
        raise TypeError(f"a media source must yield Frame or AudioChunk values, got {type(chunk).__name__}")
    return laughter_service_pb2.StreamingAnalyzeRequest(chunk=media)


def analysis_options_from_proto(message: analysis_pb2.AnalysisOptions) -> AnalysisOptions:
    """The options in force, as the SDK's options object."""
    return AnalysisOptions(
        analysis_frame_rate_hertz=message.analysis_frame_rate_hertz,
        disable_video=message.disable_video,
        disable_audio=message.disable_audio,
        laughter_threshold=message.laughter_threshold,
        min_event_duration_s=seconds_from_duration(message.min_event_duration),
        max_faces=message.max_faces,
        include_face_samples=message.include_face_samples,
    )


def started_from_proto(message: session_pb2.SessionStarted) -> SessionStarted:
    """The first update of a session."""
    return SessionStarted(
        session_id=message.session_id,
        effective_options=analysis_options_from_proto(message.effective_options),
        idle_timeout_s=seconds_from_duration(message.idle_timeout),
        started_at=_datetime(message.start_time, message.HasField("start_time")),
        models=tuple(model_from_proto(item) for item in message.models),
        result_id=message.result_id,
    )


def progress_from_proto(message: session_pb2.Progress) -> Progress:
    """The session's counters."""
    return Progress(
        processed_s=seconds_from_duration(message.processed_offset),
        frames_received=message.frames_received,
        frames_analyzed=message.frames_analyzed,
        frames_dropped=message.frames_dropped,
        drops=tuple(
            DropCount(
                reason=DROP_REASONS.get(item.reason, DropReason.UNSPECIFIED),
                frame_count=item.frame_count,
                audio_chunk_count=item.audio_chunk_count,
            )
            for item in message.drops
        ),
        audio_samples_received=message.audio_samples_received,
        backlog_s=seconds_from_duration(message.backlog),
        events_ended=message.events_ended,
    )


def warning_from_proto(message: status_pb2.Status) -> SessionWarning:
    """A problem that did not end the session: reason and field from ``ErrorInfo`` (field from its
    ``"field"`` metadata, else the first ``BadRequest`` violation)."""
    reason, field = "", ""
    for detail in message.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
            field = field or info.metadata.get("field", "")
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            if bad_request.field_violations and not field:
                field = bad_request.field_violations[0].field
    code_name = code_pb2.Code.Name(message.code) if message.code in code_pb2.Code.values() else "UNKNOWN"
    return SessionWarning(reason=reason, field=field, message=message.message, code=code_name)


def update_from_proto(message: session_pb2.SessionUpdate) -> SessionUpdate | None:
    """The SDK's value for one update; ``None`` for an update kind this SDK does not know."""
    kind = message.WhichOneof("update")
    if kind == "started":
        return started_from_proto(message.started)
    if kind == "event":
        return EventUpdate(
            phase=PHASES.get(message.event.phase, EventPhase.UNSPECIFIED),
            event=event_from_proto(message.event.event),
        )
    if kind == "face_sample":
        return FaceSampleUpdate(sample=face_sample_from_proto(message.face_sample))
    if kind == "progress":
        return progress_from_proto(message.progress)
    if kind == "warning":
        return warning_from_proto(message.warning)
    if kind == "summary":
        return summary_from_proto(message.summary)
    return None
