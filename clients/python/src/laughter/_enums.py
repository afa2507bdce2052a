"""The SDK's ``str``-valued enums: ``str(member)`` and ``member.value`` are the same text, ready for JSON."""

from __future__ import annotations

import enum

__all__ = [
    "Emotion",
    "EvidenceSource",
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


class ModelRole(_StrEnum):
    """What a model does in the pipeline."""

    UNSPECIFIED = "unspecified"
    FACE_DETECTOR = "face_detector"
    FACE_EMOTION = "face_emotion"
    AUDIO_LAUGHTER = "audio_laughter"


class HealthStatus(_StrEnum):
    """The serving status reported by the server's ``grpc.health.v1`` health service."""

    UNKNOWN = "unknown"
    SERVING = "serving"
    NOT_SERVING = "not_serving"
    SERVICE_UNKNOWN = "service_unknown"
