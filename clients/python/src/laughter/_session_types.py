"""The values of live sessions: the media a session receives (:class:`Frame`, :class:`AudioChunk`) and the
updates it emits (the :data:`SessionUpdate` union). Updates are frozen dataclasses with ``to_dict()``, and
each has a ``kind`` (``"started"``, ``"event"``, ``"face_sample"``, ``"progress"``, ``"warning"``,
``"summary"``), the name of the update in the ``laughter.v1.SessionUpdate`` message.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, ClassVar, TypeAlias

from laughter._config import AnalysisOptions
from laughter._enums import DropReason, EventPhase
from laughter._types import AnalysisSummary, FaceEmotionSample, LaughterEvent, ModelInfo, _Value

__all__ = [
    "AudioChunk",
    "DropCount",
    "EventUpdate",
    "FaceSampleUpdate",
    "Frame",
    "MediaChunk",
    "Progress",
    "SessionStarted",
    "SessionUpdate",
    "SessionWarning",
]


@dataclasses.dataclass(frozen=True)
class Frame:
    """One encoded video frame (in the session's ``video_encoding``) captured at ``offset_s`` seconds from
    the start of the session's media. Offsets must not decrease from one frame to the next."""

    data: bytes = dataclasses.field(repr=False)
    offset_s: float


@dataclasses.dataclass(frozen=True)
class AudioChunk:
    """A run of interleaved audio samples (in the session's ``audio_encoding``) whose first sample was
    captured at ``offset_s`` seconds from the start of the session's media."""

    data: bytes = dataclasses.field(repr=False)
    offset_s: float


MediaChunk: TypeAlias = Frame | AudioChunk
"""What a media source yields."""


@dataclasses.dataclass(frozen=True)
class SessionStarted(_Value):
    """The session is live; always the first update."""

    kind: ClassVar[str] = "started"
    session_id: str
    """The id requested in the options, or the one the server assigned."""
    effective_options: AnalysisOptions
    """The options in force, every default filled in."""
    idle_timeout_s: float
    """The session ends by itself, with its summary, after this long without media."""
    started_at: datetime.datetime | None
    """When the session started (UTC)."""
    models: tuple[ModelInfo, ...]
    result_id: str = ""
    """Id under which the server stores the session when it ends, however it ends (``get_result``); empty
    when the server stores none."""

    def to_dict(self) -> dict[str, Any]:
        """The value as plain JSON-ready data."""
        data = super().to_dict()
        data["effective_options"] = dataclasses.asdict(self.effective_options)
        return data


@dataclasses.dataclass(frozen=True)
class EventUpdate(_Value):
    """A laughter event started, went on, or ended. Until ``ENDED`` the event's end, peak, confidence and
    type are provisional; ``event.event_id`` is the same in all of its updates."""

    kind: ClassVar[str] = "event"
    phase: EventPhase
    event: LaughterEvent


@dataclasses.dataclass(frozen=True)
class FaceSampleUpdate(_Value):
    """The emotions of one face in one analysed frame (only with ``include_face_samples``)."""

    kind: ClassVar[str] = "face_sample"
    sample: FaceEmotionSample


@dataclasses.dataclass(frozen=True)
class DropCount(_Value):
    """How many frames and audio chunks were dropped for one reason."""

    reason: DropReason
    frame_count: int
    audio_chunk_count: int


@dataclasses.dataclass(frozen=True)
class Progress(_Value):
    """The session's counters, cumulative from its start; emitted every ``progress_interval_s``."""

    kind: ClassVar[str] = "progress"
    processed_s: float
    """Media time up to which analysis is complete."""
    frames_received: int
    frames_analyzed: int
    """Frames beyond the analysis frame rate are skipped by design and not counted as dropped."""
    frames_dropped: int
    """The sum of ``drops[*].frame_count``."""
    drops: tuple[DropCount, ...]
    """Per reason; only reasons with drops."""
    audio_samples_received: int
    backlog_s: float
    """How far analysis lags behind the newest media received."""
    events_ended: int

    def dropped_frames(self, reason: DropReason) -> int:
        """Frames dropped for ``reason`` (0 when none were)."""
        return sum(item.frame_count for item in self.drops if item.reason is reason)


@dataclasses.dataclass(frozen=True)
class SessionWarning(_Value):
    """A problem that did not end the session, such as a chunk that could not be used."""

    kind: ClassVar[str] = "warning"
    reason: str
    """The ``ErrorInfo`` reason, for example ``"CHUNK_INVALID"`` or ``"TIMESTAMP_NOT_MONOTONIC"``."""
    field: str
    """Path of the offending request field (``"chunk.frame.data"``); empty when none applies."""
    message: str
    code: str
    """The status code the problem would have as an error (``"OK"`` when the server gave none)."""


SessionUpdate: TypeAlias = (
    SessionStarted | EventUpdate | FaceSampleUpdate | Progress | SessionWarning | AnalysisSummary
)
"""One update of a live session: ``SessionStarted`` first, then events, face samples, progress and
warnings as they occur, and the final :class:`~laughter.AnalysisSummary` last."""
