"""Results, their events and stage timings.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def upgrade() -> None:
    """Create the three tables and their indexes."""
    op.create_table(
        "results",
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
        *(sa.Column(f"emotion_{name}", sa.Float, nullable=True) for name in EMOTIONS),
        sa.Column("payload", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_results_owner_created", "results", ["owner", "created_ms"])
    op.create_index("ix_results_owner_cache", "results", ["owner", "cache_key"])
    op.create_index("ix_results_created", "results", ["created_ms"])
    op.create_table(
        "result_events",
        sa.Column("result_id", sa.String(32), nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("laughter_type", sa.SmallInteger, nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("hour_of_day", sa.SmallInteger, nullable=False),
        sa.PrimaryKeyConstraint("result_id", "idx"),
    )
    op.create_table(
        "result_stages",
        sa.Column("result_id", sa.String(32), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("result_id", "stage"),
    )


def downgrade() -> None:
    """Drop everything."""
    op.drop_table("result_stages")
    op.drop_table("result_events")
    op.drop_table("results")
