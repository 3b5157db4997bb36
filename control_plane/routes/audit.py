"""GET /api/audit: the audit log, newest first (admin scope)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import col, select

from control_plane.audit import AuditEntry, AuditEntryPublic
from control_plane.columns import INT64_MAX
from control_plane.deps import AdminDep, SessionDep

router = APIRouter(tags=["audit"])


@router.get("/audit")
def read_audit(
    session: SessionDep,
    _: AdminDep,
    before: Annotated[int | None, Query(ge=1, le=INT64_MAX, description="Only entries older than this id")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    status: Annotated[
        int | None, Query(ge=100, le=599, description="Only entries answered with this status (401: refused keys)")
    ] = None,
) -> list[AuditEntryPublic]:
    """Every state-changing request made with an API key, and every refused key (401, any
    method, failed UI sign-ins included): who, what, when, the answer. Page back with
    `before` = the last id seen."""
    query = select(AuditEntry)
    if before is not None:
        query = query.where(col(AuditEntry.id) < before)
    if status is not None:
        query = query.where(col(AuditEntry.status) == status)
    rows = session.exec(query.order_by(col(AuditEntry.id).desc()).limit(limit))
    return [AuditEntryPublic.model_validate(r, from_attributes=True) for r in rows]
