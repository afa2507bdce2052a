"""The values the SDK returns: frozen dataclasses and ``str``-valued enums, never protobuf messages.

Times are seconds from the start of the media (``start_s``, ``peak_s``), durations are seconds
(``duration_s``), scores and shares are floats in [0, 1]. Emotion scores are ``dict[str, float]`` keyed by
:class:`Emotion` values in the face emotion model's order (angry, disgust, fear, happy, sad, surprise,
neutral). Every value has ``to_dict()``, which returns plain JSON-ready data (``json.dumps`` works on it).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from typing import Any, ClassVar

from laughter._enums import (
    Emotion,
    EvidenceSource,
    HealthStatus,
    LaughterType,
    ModelRole,
    NoticeCode,
    TrendDirection,
)

__all__ = [
    "AnalysisResult",
    "AnalysisSummary",
    "BoundingBox",
    "ConfidenceInterval",
    "DurationAnalysis",
    "Emotion",
    "EmotionScores",
    "EventEvidence",
    "EvidenceSource",
    "FaceEmotionSample",
    "FaceSummary",
    "HealthStatus",
    "LaughterEvent",
    "LaughterType",
    "LaughterTypeCount",
    "MediaSummary",
    "ModelInfo",
    "ModelRole",
    "Notice",
    "NoticeCode",
    "StageTiming",
    "Trend",
    "TrendBin",
    "TrendDirection",
]

EmotionScores = dict[str, float]
"""Scores keyed by :class:`Emotion` value (``"happy"``), in the model's order; empty when unknown."""


def _jsonable(value: Any) -> Any:
    """Plain JSON data from a field value: enums become their value, datetimes ISO 8601 strings."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, _Value):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return value


class _Value:
    """Mixin giving a dataclass ``to_dict()``: its fields, in order, as JSON-ready data."""

    def to_dict(self) -> dict[str, Any]:
        """The value as plain JSON-ready data (seconds as floats, enums as their string values)."""
        return {
            field.name: _jsonable(getattr(self, field.name))
            for field in dataclasses.fields(self)  # type: ignore[arg-type]
        }


@dataclasses.dataclass(frozen=True)
class BoundingBox(_Value):
    """A face's rectangle, normalised to the frame: (0, 0) top-left, (1, 1) bottom-right."""

    left: float
    top: float
    right: float
    bottom: float


@dataclasses.dataclass(frozen=True)
class FaceEmotionSample(_Value):
    """The emotions of one face in one analysed frame."""

    offset_s: float
    """Media time of the frame."""
    face_id: int
    """Track id: the same person keeps the same id while tracked."""
    box: BoundingBox
    detection_confidence: float
    emotions: EmotionScores
    """All seven emotion scores; they sum to 1."""
    dominant_emotion: Emotion | None
    smiling: float = 0.0
    """How much the face smiles, in [0, 1] (the emotion model's happy score)."""
    mouth_open: float = 0.0
    """How far the mouth is open, in [0, 1], from the inner-lip gap over the mouth width."""


@dataclasses.dataclass(frozen=True)
class EventEvidence(_Value):
    """The signals behind one laughter event (face fields are 0 without a linked face)."""

    source: EvidenceSource
    audio_probability: float
    face_happy: float
    face_surprise: float
    face_fear: float
    face_neutral: float
    audio_loudness_dbfs: float
    """RMS level in dBFS; -120 without audio."""
    burst_rate_hertz: float
    face_coverage: float
    relative_loudness_db: float


@dataclasses.dataclass(frozen=True)
class LaughterEvent(_Value):
    """One stretch of laughter: ``start_s <= peak_s <= end_s``."""

    event_id: str
    start_s: float
    end_s: float
    peak_s: float
    confidence: float
    laughter_type: LaughterType
    face_id: int | None
    """Track id of the linked face, or ``None`` when no face is linked."""
    evidence: EventEvidence

    @property
    def duration_s(self) -> float:
        """Length of the event."""
        return self.end_s - self.start_s


@dataclasses.dataclass(frozen=True)
class ConfidenceInterval(_Value):
    """A two-sided confidence interval, in the unit of the estimate it belongs to."""

    lower: float
    upper: float
    level: float
    """Confidence level, for example 0.95."""
    method: str
    """Method name, for example ``"poisson-exact"`` or ``"wilson"``."""


@dataclasses.dataclass(frozen=True)
class DurationAnalysis(_Value):
    """How much laughter the media holds."""

    event_count: int
    total_laughter_duration_s: float
    mean_event_duration_s: float
    longest_event_duration_s: float
    laughs_per_minute: float
    laughter_fraction: float
    laughs_per_minute_ci: ConfidenceInterval | None
    laughter_fraction_ci: ConfidenceInterval | None


@dataclasses.dataclass(frozen=True)
class TrendBin(_Value):
    """One time bin of the trend, ``[start_s, end_s)``."""

    start_s: float
    end_s: float
    event_count: int
    laughter_duration_s: float
    mean_happy: float


@dataclasses.dataclass(frozen=True)
class Trend(_Value):
    """How laughter develops over the media."""

    direction: TrendDirection
    slope_per_minute: float
    """Change in laughter share per minute of media."""
    bins: tuple[TrendBin, ...]


@dataclasses.dataclass(frozen=True)
class LaughterTypeCount(_Value):
    """The events of one laughter type."""

    laughter_type: LaughterType
    event_count: int
    total_duration_s: float


@dataclasses.dataclass(frozen=True)
class FaceSummary(_Value):
    """Everything known about one tracked face."""

    face_id: int
    frames_seen: int
    first_seen_s: float
    last_seen_s: float
    emotion_breakdown: EmotionScores
    dominant_emotion: Emotion | None
    event_count: int
    dominant_laughter_type: LaughterType
    smiling: float = 0.0
    """Mean smiling score over the face's samples, in [0, 1]."""
    mouth_open: float = 0.0
    """Mean mouth_open score over the face's samples, in [0, 1]."""


@dataclasses.dataclass(frozen=True)
class MediaSummary(_Value):
    """The media as analysed (codec fields are empty and sizes 0 for a missing stream)."""

    duration_s: float
    has_video: bool
    has_audio: bool
    frames_analyzed: int
    frames_with_faces: int
    faces_detected: int
    analysis_frame_rate_hertz: float
    container: str
    video_codec: str
    audio_codec: str
    video_width: int
    video_height: int
    video_frame_rate_hertz: float
    audio_sample_rate_hertz: int
    audio_channel_count: int


@dataclasses.dataclass(frozen=True)
class Notice(_Value):
    """Something the analysis could not do or found missing."""

    code: NoticeCode
    message: str


@dataclasses.dataclass(frozen=True)
class StageTiming(_Value):
    """Wall-clock time the server spent in one pipeline stage."""

    stage: str
    duration_s: float


@dataclasses.dataclass(frozen=True)
class ModelInfo(_Value):
    """One model the server uses, and the exact version loaded."""

    name: str
    version: str
    role: ModelRole
    backend: str
    """``"<runtime>/<device>"``, for example ``"triton/cpu"``."""
    sha256: str
    ready: bool
    loaded_at: datetime.datetime | None
    """When this version was loaded (UTC), or ``None`` if not loaded."""


@dataclasses.dataclass(frozen=True)
class AnalysisSummary(_Value):
    """The summary of one analysis; also the last update of a live session."""

    kind: ClassVar[str] = "summary"
    laughter_detected: bool
    dominant_laughter_type: LaughterType
    overall_confidence: float
    dominant_emotion: Emotion | None
    """``None`` when no face was found."""
    emotion_breakdown: EmotionScores
    durations: DurationAnalysis
    trend: Trend
    type_counts: tuple[LaughterTypeCount, ...]
    faces: tuple[FaceSummary, ...]
    media: MediaSummary
    notices: tuple[Notice, ...]
    processing_duration_s: float
    stage_timings: tuple[StageTiming, ...]
    models: tuple[ModelInfo, ...]
    result_id: str = ""
    """Id of the stored result (a live session's summary names it too); empty when the server stores none."""


@dataclasses.dataclass(frozen=True)
class AnalysisResult(_Value):
    """The complete result of a whole-file analysis."""

    events: tuple[LaughterEvent, ...]
    """In order of ``start_s``."""
    summary: AnalysisSummary
    face_samples: tuple[FaceEmotionSample, ...]
    """Empty unless ``AnalysisOptions(include_face_samples=True)``."""
    request_id: str
    """Quote it when reporting a problem."""
    result_id: str = ""
    """Id of the stored result (``LaughterClient.get_result``); empty when the server stores none."""
    cached: bool = False
    """True when the server returned a stored result of the same media, options and models."""
