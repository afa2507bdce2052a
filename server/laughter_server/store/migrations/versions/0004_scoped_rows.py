"""Event and stage rows repeat their result's filter columns, so the analytics aggregate them without a join;
results get ``per_media_s`` (processing seconds per media second), computed when stored; indexes cover the
per-version figures (the percentiles read ``per_media_s`` in order from one) and the stage means.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCOPE = ("owner", "client_id", "kind", "created_ms", "laughter_detected", "audio_model_version")
TABLES = ("result_events", "result_stages")
VERSION_INDEX = [  # covers the per-version figures; reads per_media_s in order for the percentiles
    "owner",
    "audio_model_version",
    "per_media_s",
    "kind",
    "laughter_detected",
    "overall_confidence",
    "event_count",
    "media_s",
]


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("owner", sa.String(200), nullable=False, server_default=""),
        sa.Column("client_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("kind", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("created_ms", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("laughter_detected", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("audio_model_version", sa.String(32), nullable=False, server_default=""),
    ]


def upgrade() -> None:
    """Add the columns, fill them from results, index (owner, created_ms)."""
    op.add_column("results", sa.Column("per_media_s", sa.Float, nullable=True))
    op.execute("UPDATE results SET per_media_s = CASE WHEN media_s > 0 THEN processing_s / media_s END")
    op.create_index("ix_results_owner_version", "results", VERSION_INDEX)
    for table in TABLES:
        for column in _columns():
            op.add_column(table, column)
        for name in SCOPE:
            op.execute(
                f"UPDATE {table} SET {name} = "
                f"(SELECT r.{name} FROM results r WHERE r.result_id = {table}.result_id)"
            )
        op.create_index(f"ix_{table}_owner_created", table, ["owner", "created_ms"])
    op.create_index(
        "ix_result_stages_owner_version",
        "result_stages",
        ["owner", "audio_model_version", "stage", "kind", "seconds"],
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_index("ix_result_stages_owner_version", table_name="result_stages")
    for table in TABLES:
        op.drop_index(f"ix_{table}_owner_created", table_name=table)
        with op.batch_alter_table(table) as batch:
            for name in SCOPE:
                batch.drop_column(name)
    op.drop_index("ix_results_owner_version", table_name="results")
    with op.batch_alter_table("results") as batch:
        batch.drop_column("per_media_s")
