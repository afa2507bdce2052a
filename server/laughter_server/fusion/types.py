"""Domain results. Names follow the laughter.v1 messages so that ``api/convert.py`` reads as a mapping table."""

from __future__ import annotations

import dataclasses
import enum

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
"""Class order of the facial-emotion model (FER-2013)."""


class LaughterType(enum.Enum):
    """The product's laughter types."""

    JOYFUL = "Joyful Laugh"
    SURPRISED = "Surprised Laugh"
    NERVOUS = "Nervous Laugh"
    POLITE = "Polite Laugh"
    SOFT_CHUCKLE = "Soft Chuckle"
    MILD_AMUSEMENT = "Mild Amusement"
    NONE = "None"


class EvidenceSource(enum.Enum):
    """Which modalities an event rests on."""

    AUDIO = "audio"
    FACE = "face"
    AUDIO_AND_FACE = "audio_and_face"


class EventPhase(enum.Enum):
    """Where a live event stands (``laughter.v1.EventPhase``)."""

    STARTED = "started"
    ONGOING = "ongoing"
    ENDED = "ended"


class Notice(enum.Enum):
    """Things a successful analysis reports as missing or odd."""

    NO_VIDEO_STREAM = "the media has no video stream: the analysis used audio only"
    NO_AUDIO_STREAM = "the media has no audio stream: the analysis used faces only"
    NO_FACES_FOUND = "no face was found in any analysed frame: the analysis used audio only"
    SILENT_AUDIO = "the audio track is silent: the analysis used faces only"
    MEDIA_TRUNCATED = "the media ended before its declared duration: only the decodable part was analysed"
    VIDEO_DISABLED = "video analysis was switched off in the request options"
    AUDIO_DISABLED = "audio analysis was switched off in the request options"
    NO_MODALITY = "neither usable audio nor faces: laughter cannot be assessed"
    MEDIA_DROPPED = "some frames were not analysed (see the drop counts in the progress updates)"
    EVENT_SPLIT = (
        "an event reached the longest event duration (max_event_duration) and was ended there; the laughter "
        "that went on is a new event"
    )
    SECOND_AUDIO_MODEL_UNAVAILABLE = (
        "the conversational laughter model (laughter_resnet on the inference server, in the version the audio "
        "model needs: 2 for laughter-audio 1.5.1, served with --triton-model-config-name int8) was not serving "
        "for part or all of the audio: those parts were scored by the cues model alone"
    )
    RESULT_NOT_STORED = (
        "the result is not in the results store yet (store unreachable or busy); the reply is complete, and a "
        "queued write is retried in the background"
    )


@dataclasses.dataclass(frozen=True)
class BoundingBox:
    """Normalized to [0, 1] of the frame width/height."""

    left: float
    top: float
    right: float
    bottom: float


@dataclasses.dataclass(frozen=True)
class FaceObservation:
    """One face in one analysed frame, with its emotion probabilities in ``EMOTIONS`` order.

    ``mouth_open`` in [0, 1] comes from the face mesh's inner-lip opening (None where it was not measured);
    ``smiling`` is the emotion model's happy probability.
    """

    time_s: float
    face_id: int
    box: BoundingBox
    detection_score: float
    emotions: tuple[float, ...]
    mouth_open: float | None = None

    def emotion(self, name: str) -> float:
        return self.emotions[EMOTIONS.index(name)]

    @property
    def smiling(self) -> float:
        return self.emotions[EMOTIONS.index("happy")]

    @property
    def dominant_emotion(self) -> str:
        return EMOTIONS[max(range(len(EMOTIONS)), key=self.emotions.__getitem__)]


@dataclasses.dataclass(frozen=True)
class EventEvidence:
    """What each modality contributed to an event (means over the event; faces only for ``face_id``)."""

    source: EvidenceSource
    audio_probability: float = 0.0
    face_happy: float = 0.0
    face_surprise: float = 0.0
    face_fear: float = 0.0
    face_neutral: float = 0.0
    face_mouth_open: float | None = None  # mean mouth_open of the face (None: not measured, or no face)
    face_coverage: float = 0.0  # share of the event's analysed frames in which the face was seen
    loudness_dbfs: float = -120.0
    relative_loudness_db: float = 0.0  # against the recording's median active level
    burst_rate_hertz: float = 0.0


@dataclasses.dataclass(frozen=True)
class LaughterEvent:
    """A timed laughter event."""

    event_id: str
    start_s: float
    end_s: float
    peak_s: float
    confidence: float
    laughter_type: LaughterType
    face_id: int | None
    evidence: EventEvidence

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclasses.dataclass(frozen=True)
class Interval:
    """A confidence interval."""

    lower: float
    upper: float
    level: float
    method: str


@dataclasses.dataclass(frozen=True)
class TrendBin:
    """Laughter in one slice of the media."""

    start_s: float
    end_s: float
    event_count: int
    laughter_s: float
    mean_happy: float


@dataclasses.dataclass(frozen=True)
class Trend:
    """How laughter changes over the media: direction from a least-squares slope of laughter share per bin."""

    direction: str  # "increasing" | "decreasing" | "stable" | "insufficient_data"
    slope_per_minute: float
    bins: tuple[TrendBin, ...]


@dataclasses.dataclass(frozen=True)
class DurationAnalysis:
    """Counts and durations of the events."""

    event_count: int
    total_s: float
    mean_s: float
    longest_s: float
    laughs_per_minute: float
    laughter_fraction: float


@dataclasses.dataclass(frozen=True)
class FaceSummary:
    """One tracked face over the whole media."""

    face_id: int
    frames_seen: int
    first_seen_s: float
    last_seen_s: float
    emotion_breakdown: tuple[float, ...]
    event_count: int
    dominant_laughter_type: LaughterType
    smiling: float = 0.0  # mean smiling (happy score) over the face's samples
    mouth_open: float = 0.0  # mean mouth_open over the samples where it was measured


@dataclasses.dataclass(frozen=True)
class AnalysisSummary:
    """The summary of one analysis (whole file or live session)."""

    laughter_detected: bool
    dominant_laughter_type: LaughterType
    overall_confidence: float
    dominant_emotion: str | None
    emotion_breakdown: tuple[float, ...]  # EMOTIONS order; all zero when no face was seen
    durations: DurationAnalysis
    laughs_per_minute_ci: Interval
    laughter_fraction_ci: Interval
    trend: Trend
    type_counts: tuple[tuple[LaughterType, int], ...]
    type_seconds: tuple[tuple[LaughterType, float], ...]  # total event duration per type in type_counts
    faces: tuple[FaceSummary, ...]
    notices: tuple[Notice, ...]
