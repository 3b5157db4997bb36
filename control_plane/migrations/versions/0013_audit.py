"""audit: every state-changing request made with an API key

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import control_plane.columns

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_STR = sqlmodel.sql.sqltypes.AutoString
_UTC = control_plane.columns.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", _UTC(timezone=True), nullable=False),
        sa.Column("actor", _STR(), nullable=False),
        sa.Column("scope", _STR(), nullable=False),
        sa.Column("method", _STR(), nullable=False),
        sa.Column("path", _STR(), nullable=False),
        sa.Column("route", _STR(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entry_at"), ["at"], unique=False)


def downgrade() -> None:
    op.drop_table("audit_entry")
