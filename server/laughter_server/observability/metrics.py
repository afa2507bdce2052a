"""Prometheus metrics, built once in ``app.py`` on their own registry and passed down.

Under ``--workers N`` every server process writes its values to files in ``PROMETHEUS_MULTIPROC_DIR``
(prometheus_client's multiprocess mode) and the parent serves their sum on ``--metrics-port``; gauges add
up the live processes (``livesum``)."""

from __future__ import annotations

import dataclasses

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


@dataclasses.dataclass(frozen=True)
class Metrics:
    """The service's metrics."""

    registry: CollectorRegistry
    rpc_seconds: Histogram
    rpc_errors: Counter
    stage_seconds: Histogram
    media_seconds: Counter
    frames_analyzed: Counter
    face_detections: Counter
    laughter_events: Counter
    inference_batch_size: Histogram
    frames_dropped: Counter
    events_split: Counter
    face_samples_skipped: Counter
    active_sessions: Gauge
    analyses_in_flight: Gauge
    results_cached: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> Metrics:
        """All metrics on ``registry`` (a fresh one by default, so tests can build many servers)."""
        reg = registry or CollectorRegistry()
        return cls(
            registry=reg,
            rpc_seconds=Histogram(
                "laughter_rpc_seconds", "RPC duration", ["method"], registry=reg, buckets=LATENCY_BUCKETS_S
            ),
            rpc_errors=Counter(
                "laughter_rpc_errors_total", "RPCs that ended in an error", ["method", "code"], registry=reg
            ),
            stage_seconds=Histogram(
                "laughter_stage_seconds",
                "Time per pipeline stage",
                ["stage"],
                registry=reg,
                buckets=LATENCY_BUCKETS_S,
            ),
            media_seconds=Counter("laughter_media_seconds_total", "Seconds of media analysed", registry=reg),
            frames_analyzed=Counter(
                "laughter_frames_analyzed_total", "Frames sent to face detection", registry=reg
            ),
            face_detections=Counter(
                "laughter_face_detections_total", "Faces detected, summed over analysed frames", registry=reg
            ),
            laughter_events=Counter("laughter_events_total", "Laughter events found", ["type"], registry=reg),
            inference_batch_size=Histogram(
                "laughter_inference_batch_size",
                "Items per Triton request",
                ["model"],
                registry=reg,
                buckets=BATCH_BUCKETS,
            ),
            frames_dropped=Counter(
                "laughter_frames_dropped_total", "Frames not analysed", ["reason"], registry=reg
            ),
            events_split=Counter(
                "laughter_events_split_total",
                "Events ended at --max-event-duration-s (the laughter went on as a new event)",
                registry=reg,
            ),
            face_samples_skipped=Counter(
                "laughter_face_samples_skipped_total",
                "Live face samples not sent because --session-max-queued-updates were waiting for the client",
                registry=reg,
            ),
            active_sessions=Gauge(
                "laughter_active_sessions",
                "Open live sessions",
                registry=reg,
                multiprocess_mode="livesum",
            ),
            analyses_in_flight=Gauge(
                "laughter_analyses_in_flight",
                "Whole-file analyses running",
                registry=reg,
                multiprocess_mode="livesum",
            ),
            results_cached=Counter(
                "laughter_results_cached_total",
                "Whole-file analyses answered from the results store",
                registry=reg,
            ),
        )
