"""What the store keeps of one analysis: a ``laughter.v1.StoredResult`` with its owner and cache key, and the
rows derived from it for the analytics tables."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from laughter.v1 import results_pb2

from laughter_server.store import schema

AUDIO_ROLE = 3  # laughter.v1.MODEL_ROLE_AUDIO_LAUGHTER


@dataclasses.dataclass(frozen=True)
class Record:
    """One result to store: who owns it, its cache key (whole files only) and the result itself."""

    owner: str
    cache_key: str | None
    stored: results_pb2.StoredResult

    @property
    def result_id(self) -> str:
        return self.stored.result_id


def audio_version(stored: results_pb2.StoredResult) -> str:
    """The audio model version named in the result's models."""
    for model in stored.result.summary.models:
        if model.role == AUDIO_ROLE:
            return str(model.version)
    return ""


def _seconds(value: Any) -> float:
    return float(value.seconds) + float(value.nanos) / 1e9


def payload_row(record: Record) -> dict[str, Any]:
    """The serialized result of ``record``."""
    return {"result_id": record.result_id, "payload": record.stored.SerializeToString(deterministic=True)}


def rows(record: Record) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The results row, the event rows and the stage rows of ``record``."""
    stored = record.stored
    summary = stored.result.summary
    created_ms = stored.create_time.ToMilliseconds()
    media_s = _seconds(summary.media.media_duration)
    emotions: dict[str, Any] = {c.name: None for c in schema.EMOTION_COLUMNS}
    for column, score in zip(schema.EMOTION_COLUMNS, summary.emotion_breakdown, strict=False):
        emotions[column.name] = float(score.score)
    result_row = {
        "result_id": stored.result_id,
        "owner": record.owner,
        "client_id": stored.client_id,
        "kind": int(stored.kind),
        "created_ms": created_ms,
        "cache_key": record.cache_key,
        "laughter_detected": bool(summary.laughter_detected),
        "overall_confidence": float(summary.overall_confidence),
        "event_count": int(stored.event_count),
        "laughter_s": _seconds(summary.durations.total_laughter_duration),
        "media_s": media_s,
        "processing_s": _seconds(summary.processing_duration),
        "audio_model_version": stored.audio_model_version,
        "per_media_s": _seconds(summary.processing_duration) / media_s if media_s > 0 else None,
        **emotions,
    }
    scope = {name: result_row[name] for name in schema.SCOPE}
    start = datetime.datetime.fromtimestamp(created_ms / 1000.0, tz=datetime.UTC)
    if stored.kind == results_pb2.RESULT_KIND_SESSION:  # a session began media_s before it was stored
        start -= datetime.timedelta(seconds=media_s)
    event_rows = []
    for idx, event in enumerate(stored.result.events):
        occurred = start
        if stored.kind == results_pb2.RESULT_KIND_SESSION:
            occurred += datetime.timedelta(seconds=_seconds(event.start_offset))
        event_rows.append(
            {
                "result_id": stored.result_id,
                "idx": idx,
                "laughter_type": int(event.laughter_type),
                "duration_s": _seconds(event.end_offset) - _seconds(event.start_offset),
                "confidence": float(event.confidence),
                "hour_of_day": occurred.hour,
                **scope,
            }
        )
    stage_rows = [
        {"result_id": stored.result_id, "stage": t.stage, "seconds": _seconds(t.duration), **scope}
        for t in summary.stage_timings
    ]
    return result_row, event_rows, stage_rows
