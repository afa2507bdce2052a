"""The results store's tables (SQLAlchemy Core). Every column the analytics filter or aggregate on is its own
column; the whole result is kept apart, as its serialized ``laughter.v1.StoredResult``, so that scans for the
analytics read compact rows. The event and stage rows repeat the result's filter columns (``SCOPE``), so their
aggregates filter without a join; ``per_media_s`` (processing seconds per media second) is computed once, when
the result is stored."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()


def scope_columns() -> list[sa.Column[object]]:
    """The columns every analytics filter reads, as the event and stage rows repeat them."""
    return [
        sa.Column("owner", sa.String(200), nullable=False, server_default=""),
        sa.Column("client_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("kind", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("created_ms", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("laughter_detected", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("audio_model_version", sa.String(32), nullable=False, server_default=""),
    ]


SCOPE = ("owner", "client_id", "kind", "created_ms", "laughter_detected", "audio_model_version")

results = sa.Table(
    "results",
    metadata,
    sa.Column("result_id", sa.String(32), primary_key=True),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("client_id", sa.String(128), nullable=False, server_default=""),
    sa.Column("kind", sa.SmallInteger, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("cache_key", sa.String(64), nullable=True),
    sa.Column("laughter_detected", sa.Boolean, nullable=False),
    sa.Column("overall_confidence", sa.Float, nullable=False),
    sa.Column("event_count", sa.Integer, nullable=False),
    sa.Column("laughter_s", sa.Float, nullable=False),
    sa.Column("media_s", sa.Float, nullable=False),
    sa.Column("processing_s", sa.Float, nullable=False),
    sa.Column("audio_model_version", sa.String(32), nullable=False, server_default=""),
    sa.Column("per_media_s", sa.Float, nullable=True),  # processing_s / media_s; NULL when media_s is 0
    *(
        sa.Column(f"emotion_{name}", sa.Float, nullable=True)
        for name in ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    ),
    sa.Index("ix_results_owner_created", "owner", "created_ms"),
    sa.Index("ix_results_owner_cache_created", "owner", "cache_key", "created_ms"),
    sa.Index("ix_results_created", "created_ms"),
    sa.Index(  # covers the per-version figures and reads per_media_s in order for the percentiles
        "ix_results_owner_version",
        "owner",
        "audio_model_version",
        "per_media_s",
        "kind",
        "laughter_detected",
        "overall_confidence",
        "event_count",
        "media_s",
    ),
)

payloads = sa.Table(
    "result_payloads",
    metadata,
    sa.Column("result_id", sa.String(32), primary_key=True),
    sa.Column("payload", sa.LargeBinary, nullable=False),
)

events = sa.Table(
    "result_events",
    metadata,
    sa.Column("result_id", sa.String(32), nullable=False),
    sa.Column("idx", sa.Integer, nullable=False),
    sa.Column("laughter_type", sa.SmallInteger, nullable=False),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("hour_of_day", sa.SmallInteger, nullable=False),
    *scope_columns(),
    sa.PrimaryKeyConstraint("result_id", "idx"),
    sa.Index("ix_result_events_owner_created", "owner", "created_ms"),
)

stages = sa.Table(
    "result_stages",
    metadata,
    sa.Column("result_id", sa.String(32), nullable=False),
    sa.Column("stage", sa.String(64), nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    *scope_columns(),
    sa.PrimaryKeyConstraint("result_id", "stage"),
    sa.Index("ix_result_stages_owner_created", "owner", "created_ms"),
    sa.Index("ix_result_stages_owner_version", "owner", "audio_model_version", "stage", "kind", "seconds"),
)

EMOTION_COLUMNS = tuple(c for c in results.columns if c.name.startswith("emotion_"))
