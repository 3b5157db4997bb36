"""subflow parents on flow runs

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flow_run") as batch:
        batch.add_column(sa.Column("parent_flow_run_id", sa.String(), nullable=True))
        batch.add_column(sa.Column("parent_task_run_id", sa.String(), nullable=True))
        batch.create_index("ix_flow_run_parent_flow_run_id", ["parent_flow_run_id"])


def downgrade() -> None:
    with op.batch_alter_table("flow_run") as batch:
        batch.drop_index("ix_flow_run_parent_flow_run_id")
        batch.drop_column("parent_task_run_id")
        batch.drop_column("parent_flow_run_id")
