"""orchestration: schedules, tag limits, retries, heartbeats, concurrency limits

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 07:59:46.744240
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import control_plane.columns

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tag_limit",
        sa.Column("tag", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("created", control_plane.columns.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tag"),
    )
    op.create_table(
        "tag_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tag", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("flow_run_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("task_run_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("acquired", control_plane.columns.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tag", "task_run_id", name="uq_tag_slot_task_run"),
    )
    with op.batch_alter_table("tag_slot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tag_slot_flow_run_id"), ["flow_run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tag_slot_tag"), ["tag"], unique=False)

    op.create_table(
        "schedule",
        sa.Column("cron", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("interval_seconds", sa.Float(), nullable=True),
        sa.Column("anchor", control_plane.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rrule", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("catchup", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("deployment_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("last_slot", control_plane.columns.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created", control_plane.columns.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployment.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedule_deployment_id"), ["deployment_id"], unique=False)

    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("concurrency_limit", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("retries", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("retry_delay_seconds", sa.Float(), nullable=False, server_default="0"))

    with op.batch_alter_table("flow_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_transition_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("schedule_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(
            sa.Column("scheduled_time", control_plane.columns.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("heartbeat_time", control_plane.columns.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("dispatch_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("infra_retries", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_unique_constraint(
            "uq_flow_run_schedule_slot", ["deployment_id", "schedule_id", "scheduled_time"]
        )

    with op.batch_alter_table("pool", schema=None) as batch_op:
        batch_op.add_column(sa.Column("concurrency_limit", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pool", schema=None) as batch_op:
        batch_op.drop_column("concurrency_limit")

    with op.batch_alter_table("flow_run", schema=None) as batch_op:
        batch_op.drop_constraint("uq_flow_run_schedule_slot", type_="unique")
        batch_op.drop_column("infra_retries")
        batch_op.drop_column("dispatch_count")
        batch_op.drop_column("heartbeat_time")
        batch_op.drop_column("scheduled_time")
        batch_op.drop_column("schedule_id")
        batch_op.drop_column("last_transition_id")

    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.drop_column("retry_delay_seconds")
        batch_op.drop_column("retries")
        batch_op.drop_column("concurrency_limit")

    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedule_deployment_id"))

    op.drop_table("schedule")
    with op.batch_alter_table("tag_slot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tag_slot_tag"))
        batch_op.drop_index(batch_op.f("ix_tag_slot_flow_run_id"))

    op.drop_table("tag_slot")
    op.drop_table("tag_limit")
