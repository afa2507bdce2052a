"""The serialized results move to a table of their own, so the analytics scan compact rows (on SQLite a scan
read every payload with its row).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create result_payloads, copy the payloads over, drop results.payload."""
    op.create_table(
        "result_payloads",
        sa.Column("result_id", sa.String(32), primary_key=True),
        sa.Column("payload", sa.LargeBinary, nullable=False),
    )
    op.execute("INSERT INTO result_payloads (result_id, payload) SELECT result_id, payload FROM results")
    op.drop_column("results", "payload")


def downgrade() -> None:
    """Put the payloads back into results."""
    op.add_column("results", sa.Column("payload", sa.LargeBinary, nullable=True))
    op.execute(
        "UPDATE results SET payload = (SELECT p.payload FROM result_payloads p WHERE p.result_id = results.result_id)"
    )
    op.drop_table("result_payloads")
