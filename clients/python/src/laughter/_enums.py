"""The SDK's ``str``-valued enums: ``str(member)`` and ``member.value`` are the same text, ready for JSON."""

from __future__ import annotations

import enum

__all__ = [
    "AudioEncoding",
    "BacklogPolicy",
    "DropReason",
    "Emotion",
    "EventPhase",
    "EvidenceSource",
    "FrameEncoding",
    "HealthStatus",
    "LaughterType",
    "ModelRole",
    "NoticeCode",
    "TrendDirection",
]


class _StrEnum(str, enum.Enum):  # noqa: UP042 - enum.StrEnum needs Python 3.11; the SDK supports 3.10
    """A ``str`` enum whose ``str()`` is its value."""

    def __str__(self) -> str:
        return str(self.value)


class LaughterType(_StrEnum):
    """The kind of a laughter event; ``NONE`` only as the dominant type of a result without events."""

    JOYFUL = "Joyful Laugh"
    SURPRISED = "Surprised Laugh"
    NERVOUS = "Nervous Laugh"
    POLITE = "Polite Laugh"
    SOFT_CHUCKLE = "Soft Chuckle"
    MILD_AMUSEMENT = "Mild Amusement"
    NONE = "None"


class Emotion(_StrEnum):
    """Facial emotion classes, in the face emotion model's output order."""

    ANGRY = "angry"
    DISGUST = "disgust"
    FEAR = "fear"
    HAPPY = "happy"
    SAD = "sad"
    SURPRISE = "surprise"
    NEUTRAL = "neutral"


class EvidenceSource(_StrEnum):
    """Which signals support a laughter event."""

    UNSPECIFIED = "unspecified"
    AUDIO = "audio"
    FACE = "face"
    AUDIO_AND_FACE = "audio_and_face"


class TrendDirection(_StrEnum):
    """The direction of the laughter rate over the media."""

    UNSPECIFIED = "unspecified"
    INCREASING = "increasing"
    DECREASING = "decreasing"
    STABLE = "stable"
    INSUFFICIENT_DATA = "insufficient_data"


class NoticeCode(_StrEnum):
    """Things an analysis could not do or found missing (``UNSPECIFIED`` also stands for codes this SDK
    does not know yet)."""

    UNSPECIFIED = "unspecified"
    NO_FACES_FOUND = "no_faces_found"
    NO_AUDIO_STREAM = "no_audio_stream"
    NO_VIDEO_STREAM = "no_video_stream"
    SILENT_AUDIO = "silent_audio"
    VIDEO_DISABLED = "video_disabled"
    AUDIO_DISABLED = "audio_disabled"
    FACE_MODEL_UNAVAILABLE = "face_model_unavailable"
    AUDIO_MODEL_UNAVAILABLE = "audio_model_unavailable"
    MEDIA_DROPPED = "media_dropped"
    MEDIA_TRUNCATED = "media_truncated"
    NO_MODALITY = "no_modality"
    EVENT_SPLIT = "event_split"
    RESULT_NOT_STORED = "result_not_stored"
    SECOND_AUDIO_MODEL_UNAVAILABLE = "second_audio_model_unavailable"


class ModelRole(_StrEnum):
    """What a model does in the pipeline."""

    UNSPECIFIED = "unspecified"
    FACE_DETECTOR = "face_detector"
    FACE_EMOTION = "face_emotion"
    FACE_LANDMARKS = "face_landmarks"
    AUDIO_LAUGHTER = "audio_laughter"


class HealthStatus(_StrEnum):
    """The serving status reported by the server's ``grpc.health.v1`` health service."""

    UNKNOWN = "unknown"
    SERVING = "serving"
    NOT_SERVING = "not_serving"
    SERVICE_UNKNOWN = "service_unknown"


class EventPhase(_StrEnum):
    """Where a live laughter event stands: every event gets one ``STARTED`` and one ``ENDED`` update, with
    any number of ``ONGOING`` updates between them (``UNSPECIFIED``: a phase this SDK does not know)."""

    UNSPECIFIED = "unspecified"
    STARTED = "started"
    ONGOING = "ongoing"
    ENDED = "ended"


class DropReason(_StrEnum):
    """Why media of a live session was not analysed."""

    UNSPECIFIED = "unspecified"
    BACKLOG = "backlog"
    """Analysis fell behind, so older frames were skipped (``BacklogPolicy.DROP_OLDEST``)."""
    UNDECODABLE = "undecodable"
    NOT_MONOTONIC = "not_monotonic"
    TOO_LARGE = "too_large"
    MODEL_UNAVAILABLE = "model_unavailable"


class BacklogPolicy(_StrEnum):
    """What the server does with video frames it cannot analyse in time."""

    DROP_OLDEST = "drop_oldest"
    """Drop the oldest waiting frames (counted in :class:`~laughter.Progress`): for live cameras."""
    BLOCK = "block"
    """Stop reading until there is room, which slows the sender; nothing is dropped: for recorded media
    sent as fast as possible."""


class FrameEncoding(_StrEnum):
    """How each video frame of a live session is encoded."""

    JPEG = "jpeg"
    PNG = "png"
    RAW_RGB24 = "raw_rgb24"
    """``width * height * 3`` bytes, R, G, B; needs the frame size in the session options."""
    RAW_BGR24 = "raw_bgr24"
    """``width * height * 3`` bytes, B, G, R (OpenCV's layout); needs the frame size."""


class AudioEncoding(_StrEnum):
    """How each audio chunk of a live session is encoded (little-endian, channels interleaved)."""

    PCM_S16LE = "pcm_s16le"
    PCM_F32LE = "pcm_f32le"
