"""Tag-based task concurrency limits, and the slots a runtime takes and gives back."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field
from sqlmodel import col, select

from control_plane import tag_limits
from control_plane.columns import Count
from control_plane.deps import AdminDep, PrincipalDep, SessionDep
from control_plane.errors import ConflictError, NotFoundError
from control_plane.models import FlowRun
from control_plane.tag_limits import TagLimit, TagLimitPublic
from runtime.states import StateType

router = APIRouter(tags=["concurrency limits"])


class LimitBody(BaseModel):
    """A concurrency limit for a tag."""

    limit: Count = Field(description="How many task runs with the tag may run at once (0 blocks them)")


class SlotRequest(BaseModel):
    """A task run asking for slots on its tags."""

    task_run_id: str = Field(min_length=1)
    tags: list[str]


class SlotAnswer(BaseModel):
    """Whether the slots were granted, and which tags were full."""

    acquired: bool
    full: list[str] = Field(default=[], description="Tags whose limit is reached; ask again later")


@router.put("/concurrency-limits/{tag}")
def set_limit(tag: str, body: LimitBody, session: SessionDep, _: AdminDep) -> TagLimitPublic:
    """Create or change the limit of a tag."""
    limit = session.get(TagLimit, tag) or TagLimit(tag=tag, limit=body.limit)
    limit.limit = body.limit
    session.add(limit)
    session.commit()
    return TagLimitPublic(tag=tag, limit=body.limit, active_slots=tag_limits.active_slot_counts(session).get(tag, 0))


@router.get("/concurrency-limits")
def list_limits(session: SessionDep, _: AdminDep) -> list[TagLimitPublic]:
    """Every tag concurrency limit, with the slots in use."""
    used = tag_limits.active_slot_counts(session)
    rows = session.exec(select(TagLimit).order_by(col(TagLimit.tag)))
    return [TagLimitPublic(tag=r.tag, limit=r.limit, active_slots=used.get(r.tag, 0)) for r in rows]


@router.delete("/concurrency-limits/{tag}", status_code=status.HTTP_204_NO_CONTENT)
def delete_limit(tag: str, session: SessionDep, _: AdminDep) -> None:
    """Remove a tag's concurrency limit."""
    limit = session.get(TagLimit, tag)
    if limit is None:
        raise NotFoundError(f"no concurrency limit on tag {tag!r}")
    session.delete(limit)
    session.commit()


@router.post("/flow-runs/{flow_run_id}/concurrency-slots")
def acquire_slots(
    flow_run_id: str, body: SlotRequest, response: Response, session: SessionDep, principal: PrincipalDep
) -> SlotAnswer:
    """Take a slot on every limited tag of a task run, all or none. `acquired: false`
    names the full tags: wait and ask again. Slots are freed by DELETE, or when the flow
    run reaches any final state."""
    principal.require_run(flow_run_id)
    run = session.get(FlowRun, flow_run_id)
    if run is None:
        raise NotFoundError(f"flow run {flow_run_id!r} not found")
    if run.state_type.is_terminal:
        raise ConflictError(f"flow run {run.name!r} is already {run.state_type.value}; it cannot take slots")
    if run.state_type is StateType.SCHEDULED:  # its tasks run once it does (runs.set_state relies on this)
        raise ConflictError(f"flow run {run.name!r} is SCHEDULED; its tasks take slots once it is PENDING or RUNNING")
    full = tag_limits.acquire_slots(session, flow_run_id, body.task_run_id, body.tags)
    session.commit()
    return SlotAnswer(acquired=not full, full=full)


@router.delete("/flow-runs/{flow_run_id}/concurrency-slots/{task_run_id}", status_code=status.HTTP_204_NO_CONTENT)
def release_slots(flow_run_id: str, task_run_id: str, session: SessionDep, principal: PrincipalDep) -> None:
    """Give back the slots a task run holds (when it ends)."""
    principal.require_run(flow_run_id)
    tag_limits.release_slots(session, flow_run_id=flow_run_id, task_run_id=task_run_id)
    session.commit()
