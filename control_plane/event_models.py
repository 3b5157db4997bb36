"""The wire form of events (`GET /api/events`, a run's timeline, automation payloads).

Apart from the routes, so a pass that renders an event (automations) does not import
FastAPI: a Lambda tick never serves HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from control_plane.events import Event


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
