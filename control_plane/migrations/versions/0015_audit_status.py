"""audit log: an index on (status, id) for GET /api/audit?status=

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 23:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entry_status_id", ["status", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_status_id")
