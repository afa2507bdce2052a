"""Prometheus figures of a finished analysis, the same for whole-file calls and live sessions."""

from __future__ import annotations

from laughter_server.observability.metrics import Metrics
from laughter_server.pipeline.result import AnalysisResult


def record_result(metrics: Metrics, result: AnalysisResult) -> None:
    """Stage seconds, media seconds, frames, faces and events (by type) of one analysis."""
    for stage, seconds in result.stage_seconds.items():
        metrics.stage_seconds.labels(stage=stage).observe(seconds)
    metrics.media_seconds.inc(result.duration_s)
    metrics.frames_analyzed.inc(result.frames_analyzed)
    metrics.face_detections.inc(result.face_detections)
    metrics.events_split.inc(result.events_split)
    for kind, count in result.summary.type_counts:
        metrics.laughter_events.labels(type=kind.value).inc(count)
