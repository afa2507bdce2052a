"""Live-session messages ↔ domain values: SessionConfig → SessionSpec, session updates → SessionUpdate."""

from __future__ import annotations

import re

from google.protobuf import any_pb2, timestamp_pb2
from google.rpc import error_details_pb2, status_pb2
from laughter.v1 import media_pb2, session_pb2

from laughter_server.api import convert, validation
from laughter_server.api.status import DOMAIN
from laughter_server.errors import SessionConfigError
from laughter_server.fusion.fuser import EventUpdate
from laughter_server.fusion.types import EventPhase
from laughter_server.media.live_input import AudioInput, VideoInput
from laughter_server.pipeline.session import (
    FaceSampleUpdate,
    ProgressUpdate,
    SessionSpec,
    StartedUpdate,
    SummaryUpdate,
    Update,
    WarningUpdate,
)
from laughter_server.pipeline.vocabulary import BacklogPolicy, DropReason

FRAME_ENCODINGS = {
    media_pb2.FRAME_ENCODING_JPEG: "jpeg",
    media_pb2.FRAME_ENCODING_PNG: "png",
    media_pb2.FRAME_ENCODING_RAW_RGB24: "rgb24",
    media_pb2.FRAME_ENCODING_RAW_BGR24: "bgr24",
}
AUDIO_ENCODINGS = {media_pb2.AUDIO_ENCODING_PCM_S16LE: "s16le", media_pb2.AUDIO_ENCODING_PCM_F32LE: "f32le"}
PHASES = {
    EventPhase.STARTED: session_pb2.EVENT_PHASE_STARTED,
    EventPhase.ONGOING: session_pb2.EVENT_PHASE_ONGOING,
    EventPhase.ENDED: session_pb2.EVENT_PHASE_ENDED,
}
DROP_REASONS = {
    DropReason.BACKLOG: session_pb2.DROP_REASON_BACKLOG,
    DropReason.UNDECODABLE: session_pb2.DROP_REASON_UNDECODABLE,
    DropReason.NOT_MONOTONIC: session_pb2.DROP_REASON_NOT_MONOTONIC,
    DropReason.TOO_LARGE: session_pb2.DROP_REASON_TOO_LARGE,
    DropReason.MODEL_UNAVAILABLE: session_pb2.DROP_REASON_MODEL_UNAVAILABLE,
}
BACKLOG_POLICIES = {
    session_pb2.BACKLOG_POLICY_UNSPECIFIED: BacklogPolicy.DROP_OLDEST,
    session_pb2.BACKLOG_POLICY_DROP_OLDEST: BacklogPolicy.DROP_OLDEST,
    session_pb2.BACKLOG_POLICY_BLOCK: BacklogPolicy.BLOCK,
}
MAX_SIDE_PX = 4096
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def spec_from_proto(
    config: session_pb2.SessionConfig,
    *,
    default_frame_rate_hertz: float,
    max_frame_rate_hertz: float,
    keep_events: bool = False,
) -> SessionSpec:
    """Validate a SessionConfig; SessionConfigError names the field and the fix."""
    video = audio = None
    if config.HasField("video") and config.video.encoding != media_pb2.FRAME_ENCODING_UNSPECIFIED:
        encoding = FRAME_ENCODINGS.get(config.video.encoding)
        if encoding is None:
            raise SessionConfigError(
                "config.video.encoding", "unknown frame encoding; use JPEG, PNG or RAW_*"
            )
        width, height = config.video.width, config.video.height
        if encoding in ("rgb24", "bgr24") and not (0 < width <= MAX_SIDE_PX and 0 < height <= MAX_SIDE_PX):
            raise SessionConfigError(
                "config.video.width",
                f"raw frames need width and height in [1, {MAX_SIDE_PX}] (got {width}x{height})",
            )
        if not (0 <= width <= MAX_SIDE_PX and 0 <= height <= MAX_SIDE_PX):
            raise SessionConfigError("config.video.width", f"width and height must be in [0, {MAX_SIDE_PX}]")
        video = VideoInput(encoding, width, height)
    if config.HasField("audio") and config.audio.encoding != media_pb2.AUDIO_ENCODING_UNSPECIFIED:
        encoding = AUDIO_ENCODINGS.get(config.audio.encoding)
        if encoding is None:
            raise SessionConfigError(
                "config.audio.encoding", "unknown audio encoding; use PCM_S16LE or PCM_F32LE"
            )
        rate = config.audio.sample_rate_hertz
        if not 8000 <= rate <= 48000:
            raise SessionConfigError(
                "config.audio.sample_rate_hertz", f"sample_rate_hertz must be in [8000, 48000] (got {rate})"
            )
        channels = config.audio.channel_count or 1
        if channels not in (1, 2):
            raise SessionConfigError(
                "config.audio.channel_count", f"channel_count must be 1 or 2 (got {channels})"
            )
        audio = AudioInput(encoding, rate, channels)
    if video is None and audio is None:
        raise SessionConfigError(
            "config.video", "the session declares neither a video nor an audio format; set at least one"
        )
    interval_s = validation.duration_s(
        config.progress_interval, "config.progress_interval", SessionConfigError, default=1.0
    )
    if not 0.1 <= interval_s <= 60.0:
        raise SessionConfigError(
            "config.progress_interval", "progress_interval must be between 0.1 s and 60 s"
        )
    options = convert.options_from_proto(
        config.options,
        default_frame_rate_hertz=default_frame_rate_hertz,
        max_frame_rate_hertz=max_frame_rate_hertz,
        field_prefix="config.options",
    )
    if config.session_id and not SESSION_ID.fullmatch(config.session_id):
        raise SessionConfigError(
            "config.session_id", "session_id must be at most 64 characters of A-Z, a-z, 0-9, '_' and '-'"
        )
    policy = BACKLOG_POLICIES.get(config.backlog_policy)
    if policy is None:
        raise SessionConfigError(
            "config.backlog_policy",
            "unknown backlog_policy; use BACKLOG_POLICY_DROP_OLDEST or BACKLOG_POLICY_BLOCK",
        )
    return SessionSpec(
        config.session_id, config.client_id, video, audio, options, interval_s, policy, keep_events
    )


def _warning(update: WarningUpdate) -> status_pb2.Status:
    detail = any_pb2.Any()
    detail.Pack(
        error_details_pb2.ErrorInfo(
            reason=update.reason.value, domain=DOMAIN, metadata={"field": update.field}
        )
    )
    return status_pb2.Status(code=0, message=update.message, details=[detail])


def progress_to_proto(update: ProgressUpdate) -> session_pb2.Progress:
    """A Progress message."""
    return session_pb2.Progress(
        processed_offset=convert.duration(update.processed_s),
        frames_received=update.frames_received,
        frames_analyzed=update.frames_analyzed,
        frames_dropped=update.frames_dropped,
        drops=[
            session_pb2.DropCount(
                reason=DROP_REASONS[reason],
                frame_count=frames,
                audio_chunk_count=chunks,
            )
            for reason, (frames, chunks) in sorted(update.drops.items(), key=lambda kv: kv[0].value)
        ],
        audio_samples_received=update.audio_samples_received,
        backlog=convert.duration(update.backlog_s),
        events_ended=update.events_ended,
    )


def update_to_proto(update: Update) -> session_pb2.SessionUpdate:
    """One SessionUpdate message."""
    if isinstance(update, EventUpdate):
        return session_pb2.SessionUpdate(
            event=session_pb2.LaughterEventUpdate(
                phase=PHASES[update.phase],
                event=convert.event_to_proto(update.event),
                processed_offset=convert.duration(update.processed_s),
            )
        )
    if isinstance(update, ProgressUpdate):
        return session_pb2.SessionUpdate(progress=progress_to_proto(update))
    if isinstance(update, FaceSampleUpdate):
        return session_pb2.SessionUpdate(face_sample=convert.face_sample_to_proto(update.observation))
    if isinstance(update, WarningUpdate):
        return session_pb2.SessionUpdate(warning=_warning(update))
    if isinstance(update, StartedUpdate):
        started = timestamp_pb2.Timestamp()
        started.GetCurrentTime()
        return session_pb2.SessionUpdate(
            started=session_pb2.SessionStarted(
                session_id=update.session_id,
                effective_options=convert.options_to_proto(update.options),
                idle_timeout=convert.duration(update.idle_timeout_s),
                start_time=started,
                models=[convert.model_to_proto(m) for m in update.models],
            )
        )
    if isinstance(update, SummaryUpdate):
        return session_pb2.SessionUpdate(summary=convert.full_summary_to_proto(update.result))
    raise TypeError("unknown session update")
