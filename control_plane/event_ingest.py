"""Events sent to the control plane (POST /api/events, incoming webhooks, the SDK's
`emit_event`): checked, bounded and queued on the session like every other event, so
they join the one ordered stream (control_plane/events.py) when the session commits.

Names under `pushflow.` are the control plane's own (run transitions, pool and
deployment changes) and cannot be sent. A run token may send events only about its own
run: the run is added as a `flow-run` related resource, and no other `pushflow.`
resource may be named.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from control_plane.columns import JsonDateTime, utcnow
from control_plane.errors import ForbiddenError, InvalidInputError, PayloadTooLargeError, TooManyRequestsError
from control_plane.events import Event, record
from control_plane.settings import Settings

RESERVED_PREFIX = "pushflow."


class ResourceIn(BaseModel):
    """What an event is about: an id and any labels (strings)."""

    id: str = Field(min_length=1, max_length=500, description="e.g. s3.bucket.landing, acme.customer.42")
    labels: dict[str, str] = {}


class RelatedIn(BaseModel):
    """Another resource the event concerns, and its role (e.g. {"id": "acme.customer.42", "role": "customer"})."""

    id: str = Field(min_length=1, max_length=500)
    role: str = Field(min_length=1, max_length=100)


class EventCreate(BaseModel):
    """A custom event. `occurred` defaults to when the control plane received it."""

    event: str = Field(min_length=1, max_length=200, description="e.g. acme.file.landed (not pushflow.*)")
    resource: ResourceIn
    related: list[RelatedIn] = Field(default_factory=list, max_length=50)
    payload: dict[str, Any] = {}
    occurred: JsonDateTime | None = Field(default=None, description="With a time zone, e.g. 2026-12-01T15:00:00Z")


def accept_events(
    session: Session, settings: Settings, events: list[EventCreate], *, run_id: str | None = None
) -> None:
    """Check `events` (size, names, who may send them, the rate limit) and queue them.
    `run_id` is the run of the run token that sent them (None for an admin key)."""
    for item in events:
        size = len(json.dumps(item.model_dump(mode="json")))
        if size > settings.event_max_bytes:
            raise PayloadTooLargeError(
                f"event {item.event!r} is {size} bytes; at most {settings.event_max_bytes} are accepted "
                "(PUSHFLOW_EVENT_MAX_BYTES): put large data elsewhere and send a reference"
            )
        if item.event.startswith(RESERVED_PREFIX):
            raise InvalidInputError(
                f"event name {item.event!r} is reserved: pushflow.* events come from the control plane; "
                "name yours after your domain, e.g. acme.file.landed"
            )
        if run_id is not None:
            _check_run_scope(item, run_id)
    check_rate(session, settings, len(events))
    now = utcnow()
    for item in events:
        related = [r.model_dump() for r in item.related]
        if run_id is not None and not any(r["id"] == f"pushflow.flow-run.{run_id}" for r in related):
            related.append({"id": f"pushflow.flow-run.{run_id}", "role": "flow-run"})
        record(
            session,
            {
                "occurred": item.occurred or now,
                "received": now,
                "event": item.event,
                "resource_id": item.resource.id,
                "resource": item.resource.labels,
                "related": related,
                "payload": item.payload,
            },
        )


def check_rate(session: Session, settings: Settings, adding: int) -> None:
    """Refuse (429) when accepting `adding` more events would pass the limit of events
    received in the last `event_rate_window` seconds (counted in the store, so every
    control-plane process shares the one limit)."""
    since = utcnow() - timedelta(seconds=settings.event_rate_window)
    received = session.exec(select(func.count()).select_from(Event).where(col(Event.received) >= since)).one()
    if received + adding > settings.event_rate_limit:
        raise TooManyRequestsError(
            f"too many events: {received} received in the last {settings.event_rate_window:g} s, the limit is "
            f"{settings.event_rate_limit} (PUSHFLOW_EVENT_RATE_LIMIT); slow down and retry"
        )


def _check_run_scope(item: EventCreate, run_id: str) -> None:
    own = f"pushflow.flow-run.{run_id}"
    for resource_id in [item.resource.id, *(r.id for r in item.related)]:
        if resource_id.startswith(RESERVED_PREFIX) and resource_id != own:
            raise ForbiddenError(f"a run token may only send events about its own run ({own}), not {resource_id!r}")
