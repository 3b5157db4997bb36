"""The event stream (every run transition and pool/deployment/schedule change, in commit
order) and a run's timeline. See control_plane/events.py for how the order is kept."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import WithJsonSchema
from sqlalchemy import or_
from sqlmodel import col, select

from control_plane.deps import AdminDep, PrincipalDep, SessionDep
from control_plane.errors import InvalidInputError, NotFoundError
from control_plane.event_filters import like_pattern, parse_labels, resource_matches
from control_plane.event_models import EventPage, EventPublic
from control_plane.events import Event
from control_plane.models import FlowRun

router = APIRouter(tags=["events"])
_LABEL_SCAN = 5000  # rows a label-filtered page reads at most
# An event id as `after`: at most 18 digits, so every one fits the store's BIGINT.
_CURSOR = re.compile(r"^[0-9]{0,18}$")


@router.get("/events")
def read_events(
    session: SessionDep,
    _: AdminDep,
    # At most 18 digits: every such number is an id the store can hold (BIGINT).
    after: Annotated[
        str | None,
        Query(
            description="A `next_cursor` from an earlier page; leave out to start",
            json_schema_extra={"pattern": _CURSOR.pattern},  # checked in _parse_cursor, which says what to pass
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    event: Annotated[
        list[str] | None, Query(description="Event names to keep; `*` matches anything (pushflow.flow-run.*)")
    ] = None,
    resource_id: Annotated[str | None, Query(description="Resource id to keep; `*` matches anything")] = None,
    label: Annotated[
        # The pattern is documented; parse_labels checks it and says what to pass.
        list[Annotated[str, WithJsonSchema({"type": "string", "pattern": "^[^=]+="})]] | None,
        Query(description="key=value resource labels to keep (value may hold `*`), e.g. env=prod"),
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
    if not _CURSOR.fullmatch(after):
        raise InvalidInputError(f"invalid cursor {after!r}: pass back the next_cursor of an earlier page")
    return int(after)
