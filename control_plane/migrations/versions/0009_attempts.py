"""attempts: one row per submission of a run (its InfraRef, how it ended, its release)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import control_plane.columns

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow_run_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("infra_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("locator", sa.JSON(), nullable=False),
        sa.Column("console_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("submitted", control_plane.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended", control_plane.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("infra_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("release_claimed", control_plane.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released", control_plane.columns.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("flow_run_id", "number", name="uq_attempt_run_number"),
    )
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attempt_flow_run_id"), ["flow_run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attempt_released"), ["released"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attempt_released"))
        batch_op.drop_index(batch_op.f("ix_attempt_flow_run_id"))
    op.drop_table("attempt")
