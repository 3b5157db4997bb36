"""blocks: typed configuration, secret fields encrypted

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 16:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import control_plane.columns

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_STR = sqlmodel.sql.sqltypes.AutoString
_UTC = control_plane.columns.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "block",
        sa.Column("id", _STR(), nullable=False),
        sa.Column("type", _STR(), nullable=False),
        sa.Column("name", _STR(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("sealed", _STR(), nullable=True),
        sa.Column("created", _UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("type", "name", name="uq_block_type_name"),
    )


def downgrade() -> None:
    op.drop_table("block")
