"""Events: the control plane's event stream (every run transition and every pool,
deployment and schedule change, plus events sent to `POST /api/events`), newest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import col, select

from control_plane.deps import SessionDep
from control_plane.events import Event
from control_plane.ui import history
from control_plane.ui.deps import UiSessionDep
from control_plane.ui.render import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100
KINDS = {"flow-run": "run transitions", "deployment": "deployments", "pool": "pools", "schedule": "schedules"}
_LINKS = {"flow-run": "/ui/runs/", "deployment": "/ui/deployments/", "pool": "/ui/pools/"}


def resource_link(event: Event) -> str | None:
    """The UI page of the event's resource (`pushflow.<kind>.<key>`), or of the deployment
    it belongs to (a schedule's), when there is one."""
    for resource_id in [event.resource_id, *(r["id"] for r in event.related if r.get("role") == "deployment")]:
        for kind, prefix in _LINKS.items():
            head = f"pushflow.{kind}."
            if resource_id.startswith(head):
                return prefix + resource_id[len(head) :]
    return None


@router.get("/ui/events")
def events_page(
    request: Request,
    session: SessionDep,
    ui: UiSessionDep,
    kind: str = "",
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    fragment: bool = False,
) -> Response:
    kind = kind if kind in KINDS else ""
    query = select(Event)
    if kind:
        query = query.where(col(Event.event).startswith(f"pushflow.{kind}.", autoescape=True))
    if before is not None:
        query = query.where(col(Event.id) < before)
    rows = list(session.exec(query.order_by(col(Event.id).desc()).limit(PAGE_SIZE + 1)))
    older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    context: dict[str, Any] = {
        "events": rows[:PAGE_SIZE],
        "kind": kind,
        "kinds": KINDS,
        "before": before,
        "older": older,
        "link": resource_link,
        "last_event": history.last_event_id(session),
    }
    return render(request, "events_live.html" if fragment else "events.html", session=ui, **context)
