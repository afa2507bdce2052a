"""The cache lookup's index also orders by time, so the newest match is found without scanning the owner's
results (SQLite otherwise walked the owner's (owner, created_ms) index).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Replace ix_results_owner_cache by (owner, cache_key, created_ms)."""
    op.drop_index("ix_results_owner_cache", table_name="results")
    op.create_index("ix_results_owner_cache_created", "results", ["owner", "cache_key", "created_ms"])


def downgrade() -> None:
    """Back to (owner, cache_key)."""
    op.drop_index("ix_results_owner_cache_created", table_name="results")
    op.create_index("ix_results_owner_cache", "results", ["owner", "cache_key"])
