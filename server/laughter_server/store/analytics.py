"""Aggregates over stored results, computed in SQL (no per-row work in Python). Percentiles use PostgreSQL's
``percentile_cont``; SQLite has none, so there they are the same linear interpolation over window-function
row numbers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from laughter.v1 import results_pb2

from laughter_server.store import schema

R = schema.results.c
E = schema.events.c
S = schema.stages.c
EMOTION_ENUM = {"angry": 1, "disgust": 2, "fear": 3, "happy": 4, "sad": 5, "surprise": 6, "neutral": 7}
PERCENTILES = (0.5, 0.95)


def filters(owner: str, message: results_pb2.ResultFilter) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses for the owner and a ``ResultFilter``."""
    where: list[sa.ColumnElement[bool]] = [R.owner == owner]
    if message.HasField("start_time"):
        where.append(R.created_ms >= message.start_time.ToMilliseconds())
    if message.HasField("end_time"):
        where.append(R.created_ms < message.end_time.ToMilliseconds())
    if message.kind:
        where.append(R.kind == int(message.kind))
    else:
        where.append(R.kind != results_pb2.RESULT_KIND_SHADOW)
    if message.laughter == results_pb2.LAUGHTER_FILTER_DETECTED:
        where.append(R.laughter_detected.is_(True))
    elif message.laughter == results_pb2.LAUGHTER_FILTER_NOT_DETECTED:
        where.append(R.laughter_detected.is_(False))
    if message.filter_client_id:
        where.append(R.client_id == message.filter_client_id)
    if message.audio_model_version:
        where.append(R.audio_model_version == message.audio_model_version)
    return where


def _per_minute(events: float, media_s: float) -> float:
    return float(events) * 60.0 / media_s if media_s > 0 else 0.0


def _percentiles(
    connection: sa.Connection, where: Sequence[sa.ColumnElement[bool]]
) -> dict[str, tuple[float, float]]:
    """p50 and p95 of processing seconds per media second, per audio model version."""
    ratio = R.processing_s / R.media_s
    clauses = [*where, R.media_s > 0]
    if connection.dialect.name == "postgresql":
        query = (
            sa.select(
                R.audio_model_version, *(sa.func.percentile_cont(p).within_group(ratio) for p in PERCENTILES)
            )
            .where(*clauses)
            .group_by(R.audio_model_version)
        )
        return {row[0]: (float(row[1]), float(row[2])) for row in connection.execute(query)}
    ordered = (
        sa.select(
            R.audio_model_version.label("v"),
            ratio.label("x"),
            (sa.func.row_number().over(partition_by=R.audio_model_version, order_by=ratio) - 1).label("rn"),
            sa.func.count().over(partition_by=R.audio_model_version).label("n"),
        )
        .where(*clauses)
        .subquery()
    )
    columns: list[Any] = []
    for p in PERCENTILES:
        position = p * (ordered.c.n - 1)
        low = sa.cast(position, sa.Integer)
        columns += [
            sa.func.max(sa.case((ordered.c.rn == low, ordered.c.x))),
            sa.func.max(sa.case((ordered.c.rn == low + 1, ordered.c.x))),
            sa.func.max(position - low),
        ]
    bounds = sa.select(ordered.c.v, *columns).group_by(ordered.c.v).subquery()
    values = [
        bounds.c[1 + 3 * i]
        + bounds.c[3 + 3 * i]
        * (sa.func.coalesce(bounds.c[2 + 3 * i], bounds.c[1 + 3 * i]) - bounds.c[1 + 3 * i])
        for i in range(len(PERCENTILES))
    ]
    query = sa.select(bounds.c.v, *values)
    return {row[0]: (float(row[1]), float(row[2])) for row in connection.execute(query)}


def model_versions(
    connection: sa.Connection, where: Sequence[sa.ColumnElement[bool]]
) -> list[results_pb2.ModelVersionStats]:
    """Per audio model version: detection rate, confidence, events per minute, percentiles, stage means."""
    query = (
        sa.select(
            R.audio_model_version,
            sa.func.count(),
            sa.func.avg(sa.case((R.laughter_detected.is_(True), 1.0), else_=0.0)),
            sa.func.avg(R.overall_confidence),
            sa.func.sum(R.event_count),
            sa.func.sum(R.media_s),
        )
        .where(*where)
        .group_by(R.audio_model_version)
        .order_by(R.audio_model_version)
    )
    percentiles = _percentiles(connection, where)
    stage_query = (
        sa.select(R.audio_model_version, S.stage, sa.func.avg(S.seconds))
        .select_from(schema.stages.join(schema.results, S.result_id == R.result_id))
        .where(*where)
        .group_by(R.audio_model_version, S.stage)
        .order_by(R.audio_model_version, S.stage)
    )
    stage_means: dict[str, list[results_pb2.StageStats]] = {}
    for version, stage, mean in connection.execute(stage_query):
        stage_means.setdefault(version, []).append(
            results_pb2.StageStats(stage=stage, mean_seconds=float(mean))
        )
    out = []
    for version, count, rate, confidence, events, media_s in connection.execute(query):
        p50, p95 = percentiles.get(version, (0.0, 0.0))
        out.append(
            results_pb2.ModelVersionStats(
                audio_model_version=version,
                result_count=int(count),
                detection_rate=float(rate),
                mean_confidence=float(confidence),
                events_per_minute=_per_minute(float(events or 0), float(media_s or 0.0)),
                processing_per_media_second_p50=p50,
                processing_per_media_second_p95=p95,
                stages=stage_means.get(version, []),
            )
        )
    return out


def _bucket_types(
    connection: sa.Connection,
    where: Sequence[sa.ColumnElement[bool]],
    bucket_ms: int,
    buckets: dict[int, results_pb2.TimeBucket],
) -> None:
    """Each bucket's events per laughter type (laughter types over time), most events first."""
    bucket = sa.cast(R.created_ms // bucket_ms, sa.BigInteger)
    query = (
        sa.select(
            bucket, E.laughter_type, sa.func.count(), sa.func.sum(E.duration_s), sa.func.avg(E.duration_s)
        )
        .select_from(schema.events.join(schema.results, E.result_id == R.result_id))
        .where(*where)
        .group_by(bucket, E.laughter_type)
        .order_by(bucket, sa.func.count().desc(), E.laughter_type)
    )
    for index, kind, n, total_s, mean_s in connection.execute(query):
        item = buckets[int(index)].laughter_types.add(laughter_type=kind, event_count=int(n))
        item.total_duration.FromMilliseconds(round(float(total_s) * 1000))
        item.mean_duration.FromMilliseconds(round(float(mean_s) * 1000))


def analytics(
    connection: sa.Connection, where: Sequence[sa.ColumnElement[bool]], bucket_ms: int
) -> results_pb2.GetAnalyticsResponse:
    """Every aggregate of ``GetAnalyticsResponse`` over the results matching ``where``."""
    count, events, media_s = connection.execute(
        sa.select(sa.func.count(), sa.func.sum(R.event_count), sa.func.sum(R.media_s)).where(*where)
    ).one()
    reply = results_pb2.GetAnalyticsResponse(result_count=int(count), event_count=int(events or 0))
    reply.media_duration.FromMilliseconds(round(float(media_s or 0.0) * 1000))
    with_faces = [*where, R.emotion_neutral.is_not(None)]
    means = connection.execute(
        sa.select(sa.func.count(), *(sa.func.avg(c) for c in schema.EMOTION_COLUMNS)).where(*with_faces)
    ).one()
    if means[0]:
        for column, mean in zip(schema.EMOTION_COLUMNS, means[1:], strict=True):
            emotion = EMOTION_ENUM[column.name.removeprefix("emotion_")]
            reply.emotions.add(emotion=emotion, mean_score=float(mean))
    joined = schema.events.join(schema.results, E.result_id == R.result_id)
    type_query = (
        sa.select(E.laughter_type, sa.func.count(), sa.func.sum(E.duration_s), sa.func.avg(E.duration_s))
        .select_from(joined)
        .where(*where)
        .group_by(E.laughter_type)
        .order_by(sa.func.count().desc(), E.laughter_type)
    )
    for kind, n, total_s, mean_s in connection.execute(type_query):
        item = reply.laughter_types.add(laughter_type=kind, event_count=int(n))
        item.total_duration.FromMilliseconds(round(float(total_s) * 1000))
        item.mean_duration.FromMilliseconds(round(float(mean_s) * 1000))
    bucket = (R.created_ms // bucket_ms).label("bucket")
    bucket_query = (
        sa.select(
            sa.cast(bucket, sa.BigInteger),
            sa.func.count(),
            sa.func.sum(R.event_count),
            sa.func.sum(R.media_s),
            sa.func.avg(R.overall_confidence),
        )
        .where(*where)
        .group_by(sa.cast(bucket, sa.BigInteger))
        .order_by(sa.cast(bucket, sa.BigInteger))
    )
    by_index: dict[int, results_pb2.TimeBucket] = {}
    for index, n, bucket_events, bucket_media_s, confidence in connection.execute(bucket_query):
        bucket_item = reply.buckets.add(
            result_count=int(n),
            event_count=int(bucket_events or 0),
            laughs_per_minute=_per_minute(float(bucket_events or 0), float(bucket_media_s or 0.0)),
            mean_confidence=float(confidence),
        )
        bucket_item.start_time.FromMilliseconds(int(index) * bucket_ms)
        by_index[int(index)] = bucket_item
    _bucket_types(connection, where, bucket_ms, by_index)
    hour_query = (
        sa.select(E.hour_of_day, sa.func.count())
        .select_from(joined)
        .where(*where)
        .group_by(E.hour_of_day)
        .order_by(E.hour_of_day)
    )
    for hour, n in connection.execute(hour_query):
        reply.hours.add(hour=int(hour), event_count=int(n))
    reply.model_versions.extend(model_versions(connection, where))
    return reply
