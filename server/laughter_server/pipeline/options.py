"""Validated analysis options (the domain side of laughter.v1 AnalysisOptions)."""

from __future__ import annotations

import dataclasses

from laughter_server.errors import InvalidOptionError
from laughter_server.fusion.rules import DEFAULT_RULES, LaughterRules

MAX_FACES_LIMIT = 32


@dataclasses.dataclass(frozen=True)
class AnalysisOptions:
    """What one analysis does; built by ``resolve_options`` from a request and the server settings."""

    frame_rate_hertz: float = 5.0
    use_video: bool = True
    use_audio: bool = True
    max_faces: int = 8
    include_face_samples: bool = False
    detection_threshold: float = 0.5
    detect_every: int = 1
    """Run the face detector on every Nth analysed frame (and on cuts and lost tracks); 1: every frame."""
    rules: LaughterRules = DEFAULT_RULES


def resolve_options(
    *,
    frame_rate_hertz: float,
    default_frame_rate_hertz: float,
    max_frame_rate_hertz: float,
    disable_video: bool = False,
    disable_audio: bool = False,
    laughter_threshold: float = 0.0,
    min_event_s: float = 0.0,
    max_faces: int = 0,
    include_face_samples: bool = False,
    field_prefix: str = "options",
) -> AnalysisOptions:
    """Apply defaults (0 means 'server default') and check ranges, naming the offending field."""
    rate = frame_rate_hertz or default_frame_rate_hertz
    if not 0 < rate <= max_frame_rate_hertz:
        raise InvalidOptionError(
            f"{field_prefix}.analysis_frame_rate_hertz",
            f"analysis_frame_rate_hertz must be in (0, {max_frame_rate_hertz:g}] (got {frame_rate_hertz:g})",
        )
    if disable_video and disable_audio:
        raise InvalidOptionError(
            f"{field_prefix}.disable_audio",
            "disable_video and disable_audio cannot both be set: nothing to analyse",
        )
    if not 0.0 <= laughter_threshold < 1.0:
        raise InvalidOptionError(
            f"{field_prefix}.laughter_threshold",
            f"laughter_threshold must be in [0, 1) (got {laughter_threshold:g}); 0 uses the default 0.5",
        )
    if not 0.0 <= min_event_s <= 10.0:
        raise InvalidOptionError(
            f"{field_prefix}.min_event_duration",
            f"min_event_duration must be in [0, 10] seconds (got {min_event_s:g}); 0 uses the default",
        )
    if not 0 <= max_faces <= MAX_FACES_LIMIT:
        raise InvalidOptionError(
            f"{field_prefix}.max_faces", f"max_faces must be in [0, {MAX_FACES_LIMIT}] (got {max_faces})"
        )
    rules = DEFAULT_RULES
    if laughter_threshold:
        rules = dataclasses.replace(
            rules,
            enter_threshold=laughter_threshold,
            exit_threshold=min(rules.exit_threshold, laughter_threshold * 0.7),
        )
    if min_event_s:
        rules = dataclasses.replace(rules, min_event_s=min_event_s)
    return AnalysisOptions(
        frame_rate_hertz=rate,
        use_video=not disable_video,
        use_audio=not disable_audio,
        max_faces=max_faces or AnalysisOptions.max_faces,
        include_face_samples=include_face_samples,
        rules=rules,
    )
