"""The event stream (every run transition and pool/deployment/schedule change, in commit
order) and a run's timeline. See control_plane/events.py for how the order is kept."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import or_
from sqlmodel import col, select

from control_plane.columns import INT64_MAX
from control_plane.deps import AdminDep, PrincipalDep, SessionDep
from control_plane.errors import InvalidInputError, NotFoundError
from control_plane.event_filters import like_pattern, parse_labels, resource_matches
from control_plane.events import Event
from control_plane.models import FlowRun

router = APIRouter(tags=["events"])
_LABEL_SCAN = 5000  # rows a label-filtered page reads at most


class Resource(BaseModel):
    """What an event is about."""

    id: str = Field(description="e.g. pushflow.flow-run.<id>, pushflow.deployment.<id>, pushflow.pool.<name>")
    labels: dict[str, Any] = {}


class RelatedResource(BaseModel):
    """Another resource the event concerns, and its role."""

    id: str
    role: str = Field(description="deployment, pool, flow, ...")


class EventPublic(BaseModel):
    """One event: a run's transition, or a change of a pool, deployment or schedule."""

    id: int = Field(description="Increases in commit order; pass the last one seen as `after`")
    occurred: datetime
    event: str = Field(description="e.g. pushflow.flow-run.Completed, pushflow.deployment.updated")
    resource: Resource
    related: list[RelatedResource] = []
    payload: dict[str, Any] = Field(
        default_factory=dict, description="For a run's transition: flow_run_id, attempt, from, to, message"
    )

    @classmethod
    def of(cls, row: Event) -> EventPublic:
        payload = dict(row.payload)
        if row.to_type is not None:
            payload.update(
                flow_run_id=row.flow_run_id,
                attempt=row.attempt,
                to={"type": row.to_type.value, "name": row.to_name},
                message=row.message,
            )
            payload["from"] = {"type": row.from_type.value, "name": row.from_name} if row.from_type else None
        return cls(
            id=row.id or 0,
            occurred=row.occurred,
            event=row.event,
            resource=Resource(id=row.resource_id, labels=row.resource),
            related=[RelatedResource(**r) for r in row.related],
            payload=payload,
        )


class EventPage(BaseModel):
    """Events in commit order, and the cursor for the ones that follow."""

    items: list[EventPublic]
    next_cursor: str = Field(description="Pass back as `after` for the events that follow (the same when none did)")


@router.get("/events")
def read_events(
    session: SessionDep,
    _: AdminDep,
    after: Annotated[str | None, Query(description="A `next_cursor` from an earlier page; leave out to start")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    event: Annotated[
        list[str] | None, Query(description="Event names to keep; `*` matches anything (pushflow.flow-run.*)")
    ] = None,
    resource_id: Annotated[str | None, Query(description="Resource id to keep; `*` matches anything")] = None,
    label: Annotated[
        list[str] | None, Query(description="key=value resource labels to keep (value may hold `*`), e.g. env=prod")
    ] = None,
) -> EventPage:
    """Every event in commit order, optionally filtered. A reader that keeps passing
    `next_cursor` back sees each matching event exactly once, even while events are being
    written (with filters, a page may be short or empty before the end: keep paging until
    `next_cursor` stops moving)."""
    start = _parse_cursor(after)
    try:
        labels = parse_labels(label or [])
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from exc
    query = select(Event).where(col(Event.id) > start).order_by(col(Event.id))
    if event:
        query = query.where(or_(*(col(Event.event).like(like_pattern(p), escape="\\") for p in event)))
    if resource_id:
        query = query.where(col(Event.resource_id).like(like_pattern(resource_id), escape="\\"))
    if not labels:
        rows = session.exec(query.limit(limit)).all()
        last = rows[-1].id if rows else start
        return EventPage(items=[EventPublic.of(r) for r in rows], next_cursor=str(last))
    # Labels live in a JSON column: filter here, over a bounded scan, and say how far it got.
    kept: list[Event] = []
    last = start
    for scanned in session.exec(query.limit(_LABEL_SCAN)).all():
        last = scanned.id or last
        if resource_matches(labels, {"labels": scanned.resource}):
            kept.append(scanned)
            if len(kept) == limit:
                break
    return EventPage(items=[EventPublic.of(r) for r in kept], next_cursor=str(last))


@router.get("/flow-runs/{flow_run_id}/events")
def read_flow_run_events(flow_run_id: str, session: SessionDep, principal: PrincipalDep) -> list[EventPublic]:
    """A run's timeline: each of its state changes, oldest first."""
    principal.require_run(flow_run_id)
    if session.get(FlowRun, flow_run_id) is None:
        raise NotFoundError(f"flow run {flow_run_id!r} not found")
    rows = session.exec(select(Event).where(Event.flow_run_id == flow_run_id).order_by(col(Event.id))).all()
    return [EventPublic.of(r) for r in rows]


def _parse_cursor(after: str | None) -> int:
    if after is None or after == "":
        return 0
    try:
        value = int(after)
    except ValueError:
        value = -1
    if not 0 <= value <= INT64_MAX:
        raise InvalidInputError(f"invalid cursor {after!r}: pass back the next_cursor of an earlier page")
    return value
