"""flow run results: a completed run's persisted return value

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from control_plane.columns import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flow_run_result",
        sa.Column("flow_run_id", sqlmodel.sql.sqltypes.AutoString(), sa.ForeignKey("flow_run.id"), primary_key=True),
        sa.Column("serializer", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("inline", sa.Boolean(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("storage", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("flow_run_result")
