"""automations: automations, their trigger state, the evaluator cursor, firings and action runs

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import control_plane.columns

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_STR = sqlmodel.sql.sqltypes.AutoString
_UTC = control_plane.columns.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "automation",
        sa.Column("id", _STR(), nullable=False),
        sa.Column("name", _STR(), nullable=False),
        sa.Column("description", _STR(), nullable=False),
        sa.Column("trigger", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created", _UTC(timezone=True), nullable=False),
        sa.Column("watching_since", _UTC(timezone=True), nullable=False),
        sa.Column("since_event", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("automation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_automation_name"), ["name"], unique=True)
    op.create_table(
        "automation_state",
        sa.Column("automation_id", _STR(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("automation_id"),
    )
    op.create_table(
        "evaluator_cursor",
        sa.Column("name", _STR(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "automation_firing",
        sa.Column("id", _STR(), nullable=False),
        sa.Column("automation_id", _STR(), nullable=False),
        sa.Column("fired", _UTC(timezone=True), nullable=False),
        sa.Column("reason", _STR(), nullable=False),
        sa.Column("event", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("automation_firing", schema=None) as batch_op:
        batch_op.create_index("ix_automation_firing_automation", ["automation_id", "fired"], unique=False)
    op.create_table(
        "automation_action_run",
        sa.Column("id", _STR(), nullable=False),
        sa.Column("firing_id", _STR(), nullable=False),
        sa.Column("automation_id", _STR(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.Column("status", _STR(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", _UTC(timezone=True), nullable=False),
        sa.Column("claimed_until", _UTC(timezone=True), nullable=True),
        sa.Column("result", _STR(), nullable=True),
        sa.Column("error", _STR(), nullable=True),
        sa.Column("updated", _UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("automation_action_run", schema=None) as batch_op:
        batch_op.create_index("ix_automation_action_run_due", ["status", "next_attempt"], unique=False)
        batch_op.create_index(batch_op.f("ix_automation_action_run_firing_id"), ["firing_id"], unique=False)


def downgrade() -> None:
    for table in ("automation_action_run", "automation_firing", "evaluator_cursor", "automation_state", "automation"):
        op.drop_table(table)
