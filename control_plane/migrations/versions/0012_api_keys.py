"""api keys: scoped keys, stored hashed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import control_plane.columns

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_STR = sqlmodel.sql.sqltypes.AutoString
_UTC = control_plane.columns.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", _STR(), nullable=False),
        sa.Column("name", _STR(), nullable=False),
        sa.Column("scope", _STR(), nullable=False),
        sa.Column("key_hash", _STR(), nullable=False),
        sa.Column("prefix", _STR(), nullable=False),
        sa.Column("created", _UTC(timezone=True), nullable=False),
        sa.Column("expires", _UTC(timezone=True), nullable=True),
        sa.Column("revoked", _UTC(timezone=True), nullable=True),
        sa.Column("last_used", _UTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_key_name"), ["name"], unique=True)
        batch_op.create_index(batch_op.f("ix_api_key_key_hash"), ["key_hash"], unique=True)


def downgrade() -> None:
    op.drop_table("api_key")
