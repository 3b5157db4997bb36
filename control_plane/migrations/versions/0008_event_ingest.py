"""event ingest: when a posted event was received (the rate limit counts it), and an
index on occurred for the retention pass

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import control_plane.columns

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received", control_plane.columns.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_event_received"), ["received"], unique=False)
        batch_op.create_index("ix_event_occurred", ["occurred"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_occurred")
        batch_op.drop_index(batch_op.f("ix_event_received"))
        batch_op.drop_column("received")
