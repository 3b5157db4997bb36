"""POST /api/events: custom events into the one stream (see control_plane/event_ingest.py)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from control_plane.deps import PrincipalDep, ServicesDep, SessionDep
from control_plane.errors import ErrorBody
from control_plane.event_ingest import EventCreate, accept_events
from control_plane.passes.automations import automations_on_trigger

router = APIRouter(tags=["events"])


@router.post(
    "/events",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        403: {"model": ErrorBody, "description": "A run token naming another run"},
        413: {"model": ErrorBody, "description": "An event past PUSHFLOW_EVENT_MAX_BYTES"},
        429: {"model": ErrorBody, "description": "Past PUSHFLOW_EVENT_RATE_LIMIT"},
    },
)
def create_events(
    body: EventCreate | list[EventCreate], session: SessionDep, services: ServicesDep, principal: PrincipalDep
) -> Response:
    """Send one event or a list of them (admin key, or a run token for events about its
    own run). They join the stream in order when accepted; automations see them on their
    next pass."""
    events = body if isinstance(body, list) else [body]
    accept_events(session, services.settings, events, run_id=None if principal.admin else principal.run_id)
    session.commit()
    services.wake(full=False)
    automations_on_trigger(services)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
