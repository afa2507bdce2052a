"""Aggregates over stored results, computed in SQL (no per-row work in Python). Event and stage aggregates
read their own rows, which repeat the result's filter columns (no join); percentiles read the precomputed
``per_media_s``. PostgreSQL has ``percentile_cont``; SQLite has none, so there they are the same linear
interpolation over window-function row numbers."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from laughter.v1 import results_pb2

from laughter_server.store import schema

R = schema.results.c
E = schema.events.c
S = schema.stages.c
EMOTION_ENUM = {"angry": 1, "disgust": 2, "fear": 3, "happy": 4, "sad": 5, "surprise": 6, "neutral": 7}
PERCENTILES = (0.5, 0.95)


@dataclasses.dataclass(frozen=True)
class Scope:
    """Which results an aggregate covers: the owner's, matching ``filter``, stored at or after
    ``since_ms`` when given. ``on(table)`` gives the WHERE clauses for results, events or stages alike."""

    owner: str
    filter: results_pb2.ResultFilter = dataclasses.field(default_factory=results_pb2.ResultFilter)
    since_ms: int | None = None

    def on(self, table: sa.Table = schema.results) -> list[sa.ColumnElement[bool]]:
        c = table.c
        message = self.filter
        where: list[sa.ColumnElement[bool]] = [c.owner == self.owner]
        if message.HasField("start_time"):
            where.append(c.created_ms >= message.start_time.ToMilliseconds())
        if message.HasField("end_time"):
            where.append(c.created_ms < message.end_time.ToMilliseconds())
        if self.since_ms is not None:
            where.append(c.created_ms >= self.since_ms)
        if message.kind:
            where.append(c.kind == int(message.kind))
        else:
            where.append(c.kind != results_pb2.RESULT_KIND_SHADOW)
        if message.laughter == results_pb2.LAUGHTER_FILTER_DETECTED:
            where.append(c.laughter_detected.is_(True))
        elif message.laughter == results_pb2.LAUGHTER_FILTER_NOT_DETECTED:
            where.append(c.laughter_detected.is_(False))
        if message.filter_client_id:
            where.append(c.client_id == message.filter_client_id)
        if message.audio_model_version:
            where.append(c.audio_model_version == message.audio_model_version)
        if message.laughter_type:
            with_type = sa.select(E.result_id).where(
                E.owner == self.owner, E.laughter_type == int(message.laughter_type)
            )
            where.append(c.result_id.in_(with_type))
        return where


def filters(owner: str, message: results_pb2.ResultFilter) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses on results for the owner and a ``ResultFilter`` (the owner's clause first)."""
    return Scope(owner, message).on(schema.results)


def _per_minute(events: float, media_s: float) -> float:
    return float(events) * 60.0 / media_s if media_s > 0 else 0.0


def _percentiles(connection: sa.Connection, scope: Scope) -> dict[str, tuple[float, float]]:
    """p50 and p95 of processing seconds per media second, per audio model version."""
    ratio = R.per_media_s
    clauses = [*scope.on(schema.results), R.per_media_s.is_not(None)]
    if connection.dialect.name == "postgresql":
        query = (
            sa.select(
                R.audio_model_version, *(sa.func.percentile_cont(p).within_group(ratio) for p in PERCENTILES)
            )
            .where(*clauses)
            .group_by(R.audio_model_version)
        )
        return {row[0]: (float(row[1]), float(row[2])) for row in connection.execute(query)}
    # SQLite: per version, the two rows around each percentile's position, read in order from the
    # ix_results_owner_version index, interpolated in SQL
    counts = connection.execute(
        sa.select(R.audio_model_version, sa.func.count()).where(*clauses).group_by(R.audio_model_version)
    ).all()
    out: dict[str, tuple[float, float]] = {}
    for version, n in counts:
        values = []
        for p in PERCENTILES:
            position = p * (int(n) - 1)
            low = int(position)
            pair = (
                sa.select(ratio.label("x"))
                .where(*clauses, R.audio_model_version == version)
                .order_by(ratio)
                .limit(2)
                .offset(low)
                .subquery()
            )
            low_x, high_x = sa.func.min(pair.c.x), sa.func.max(pair.c.x)
            values.append(
                float(connection.execute(sa.select(low_x + (position - low) * (high_x - low_x))).scalar_one())
            )
        out[version] = (values[0], values[1])
    return out


def model_versions(connection: sa.Connection, scope: Scope) -> list[results_pb2.ModelVersionStats]:
    """Per audio model version: detection rate, confidence, events per minute, percentiles, stage means."""
    where = scope.on(schema.results)
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
    percentiles = _percentiles(connection, scope)
    stage_query = (
        sa.select(S.audio_model_version, S.stage, sa.func.avg(S.seconds))
        .where(*scope.on(schema.stages))
        .group_by(S.audio_model_version, S.stage)
        .order_by(S.audio_model_version, S.stage)
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
    scope: Scope,
    bucket_ms: int,
    buckets: dict[int, results_pb2.TimeBucket],
) -> None:
    """Each bucket's events per laughter type (laughter types over time), most events first."""
    bucket = sa.cast(E.created_ms // bucket_ms, sa.BigInteger)
    query = (
        sa.select(
            bucket, E.laughter_type, sa.func.count(), sa.func.sum(E.duration_s), sa.func.avg(E.duration_s)
        )
        .where(*scope.on(schema.events))
        .group_by(bucket, E.laughter_type)
        .order_by(bucket, sa.func.count().desc(), E.laughter_type)
    )
    for index, kind, n, total_s, mean_s in connection.execute(query):
        item = buckets[int(index)].laughter_types.add(laughter_type=kind, event_count=int(n))
        item.total_duration.FromMilliseconds(round(float(total_s) * 1000))
        item.mean_duration.FromMilliseconds(round(float(mean_s) * 1000))


def analytics(connection: sa.Connection, scope: Scope, bucket_ms: int) -> results_pb2.GetAnalyticsResponse:
    """Every aggregate of ``GetAnalyticsResponse`` over the results in ``scope``."""
    where = scope.on(schema.results)
    with_faces = R.emotion_neutral.is_not(None)
    totals = connection.execute(
        sa.select(
            sa.func.count(),
            sa.func.sum(R.event_count),
            sa.func.sum(R.media_s),
            sa.func.count(R.emotion_neutral),
            *(sa.func.avg(sa.case((with_faces, c))) for c in schema.EMOTION_COLUMNS),
        ).where(*where)
    ).one()
    count, events, media_s, faces = totals[:4]
    reply = results_pb2.GetAnalyticsResponse(result_count=int(count), event_count=int(events or 0))
    reply.media_duration.FromMilliseconds(round(float(media_s or 0.0) * 1000))
    if faces:
        for column, mean in zip(schema.EMOTION_COLUMNS, totals[4:], strict=True):
            emotion = EMOTION_ENUM[column.name.removeprefix("emotion_")]
            reply.emotions.add(emotion=emotion, mean_score=float(mean))
    event_where = scope.on(schema.events)
    type_query = (
        sa.select(E.laughter_type, sa.func.count(), sa.func.sum(E.duration_s), sa.func.avg(E.duration_s))
        .where(*event_where)
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
    _bucket_types(connection, scope, bucket_ms, by_index)
    hour_query = (
        sa.select(E.hour_of_day, sa.func.count())
        .where(*event_where)
        .group_by(E.hour_of_day)
        .order_by(E.hour_of_day)
    )
    for hour, n in connection.execute(hour_query):
        reply.hours.add(hour=int(hour), event_count=int(n))
    reply.model_versions.extend(model_versions(connection, scope))
    return reply
