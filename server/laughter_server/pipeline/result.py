"""The one result type of an analysis, whole file or live session alike."""

from __future__ import annotations

import dataclasses

from laughter_server.fusion.types import AnalysisSummary, FaceObservation, LaughterEvent
from laughter_server.inference.models import ModelDescription
from laughter_server.media.types import MediaInfo


@dataclasses.dataclass(frozen=True)
class AnalysisResult:
    """Everything an analysis returns."""

    events: tuple[LaughterEvent, ...]  # empty when the caller did not keep them (a streamed live session)
    summary: AnalysisSummary
    face_samples: tuple[FaceObservation, ...]  # only when the options ask for them (whole file)
    media: MediaInfo
    duration_s: float  # media time analysed: rates and trends are over this
    frames_analyzed: int
    frames_with_faces: int
    faces_detected: int  # distinct face tracks
    face_detections: int  # faces summed over frames
    frame_rate_hertz: float
    stage_seconds: dict[str, float]
    processing_s: float
    models: tuple[ModelDescription, ...]
    events_split: int = 0  # events ended at the longest event duration
