"""Automations: each with its trigger and actions, paused or not, and its firings (why it
fired and how each action went); pause and resume."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import func
from sqlmodel import col, select

from control_plane.automations.models import Automation, AutomationFiring
from control_plane.deps import ServicesDep, SessionDep
from control_plane.errors import ControlPlaneError, NotFoundError
from control_plane.masking import mask_secrets
from control_plane.routes import automations as automation_routes
from control_plane.ui.deps import FormDep, UiSessionDep, allowed
from control_plane.ui.render import error_text, render
from control_plane.ui.session import UiSession

router = APIRouter(include_in_schema=False)
CanChange = Annotated[UiSession, allowed("POST", "/automations/{ref}/pause")]
FIRINGS = 50


@router.get("/ui/automations")
def automations_page(request: Request, session: SessionDep, ui: UiSessionDep) -> Response:
    rows = list(session.exec(select(Automation).order_by(col(Automation.name))))
    last_fired = dict(
        session.exec(
            select(AutomationFiring.automation_id, func.max(AutomationFiring.fired)).group_by(
                col(AutomationFiring.automation_id)
            )
        ).all()
    )
    return render(request, "automations.html", session=ui, automations=rows, last_fired=last_fired)


@router.get("/ui/automations/{automation_id}")
def automation_page(
    request: Request, automation_id: str, session: SessionDep, ui: UiSessionDep, notice: str | None = None
) -> Response:
    try:
        automation = automation_routes.get_automation(session, automation_id)
    except NotFoundError as exc:
        return render(request, "not_found.html", session=ui, status_code=404, message=error_text(exc))
    firings = automation_routes.read_firings(automation.id, session, ui.principal, limit=FIRINGS)
    return render(
        request,
        "automation.html",
        session=ui,
        automation=automation,
        trigger=mask_secrets(automation.trigger),
        actions=mask_secrets(automation.actions),
        firings=firings,
        notice=notice,
    )


@router.post("/ui/automations/{automation_id}/enabled", status_code=303)
def toggle_automation(
    automation_id: str, session: SessionDep, services: ServicesDep, ui: CanChange, form: FormDep
) -> RedirectResponse:
    enabled = form.get("enabled") == "true"
    try:
        if enabled:
            automation_routes.resume_automation(automation_id, session, services, ui.principal)
        else:
            automation_routes.pause_automation(automation_id, session, ui.principal)
        notice = "Automation resumed: it reacts to events from now on." if enabled else "Automation paused."
    except ControlPlaneError as exc:
        notice = error_text(exc)
    return RedirectResponse(f"/ui/automations/{quote(automation_id)}?notice={quote(notice)}", status_code=303)
