"""events: the transition log (a row per state change and per pool/deployment/schedule change)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import control_plane.columns

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_STATE = sa.Enum(
    "SCHEDULED",
    "PENDING",
    "RUNNING",
    "COMPLETED",
    "FAILED",
    "CRASHED",
    "CANCELLING",
    "CANCELLED",
    "PAUSED",
    name="statetype",
    native_enum=False,
    create_constraint=False,
    length=16,
)


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("occurred", control_plane.columns.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("resource_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("resource", sa.JSON(), nullable=False),
        sa.Column("related", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("flow_run_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("from_type", _STATE, nullable=True),
        sa.Column("from_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("to_type", _STATE, nullable=True),
        sa.Column("to_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_flow_run", ["flow_run_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_resource_id"), ["resource_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_resource_id"))
        batch_op.drop_index("ix_event_flow_run")
    op.drop_table("event")
