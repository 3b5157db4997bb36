"""code sources: where a deployment's (and each run's) code comes from

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("deployment", "flow_run"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("source", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in ("deployment", "flow_run"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("source")
