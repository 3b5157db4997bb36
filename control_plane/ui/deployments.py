"""Deployments: the list with schedules and last runs; one deployment with its Run form
(generated from the parameter schema), pause/resume and its schedules."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session, col, select

from control_plane.deps import ServicesDep, SessionDep
from control_plane.errors import ControlPlaneError
from control_plane.masking import mask_secrets
from control_plane.models import Deployment, DeploymentUpdate, FlowRun, FlowRunCreate
from control_plane.routes import deployments as deployment_routes
from control_plane.routes import schedules as schedule_routes
from control_plane.schedule_sync import ScheduleUpdate
from control_plane.schedules import Schedule
from control_plane.ui import paramform, queries
from control_plane.ui.deps import FormDep, UiSessionDep, allowed
from control_plane.ui.render import error_text, render
from control_plane.ui.session import UiSession

router = APIRouter(include_in_schema=False)
CanTrigger = Annotated[UiSession, allowed("POST", "/deployments/{deployment_id}/runs")]
CanChange = Annotated[UiSession, allowed("PATCH", "/deployments/{deployment_id}")]
CanChangeSchedule = Annotated[UiSession, allowed("PATCH", "/deployments/{deployment_id}/schedules/{schedule_id}")]
LAST_RUNS = 5


def _schedules(session: Session, deployment_id: str) -> list[Schedule]:
    query = select(Schedule).where(Schedule.deployment_id == deployment_id).order_by(col(Schedule.created))
    return list(session.exec(query))


def _last_runs(session: Session, deployment_id: str, limit: int = LAST_RUNS) -> list[FlowRun]:
    query = (
        select(FlowRun)
        .where(FlowRun.deployment_id == deployment_id)
        .order_by(col(FlowRun.created).desc(), col(FlowRun.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))


@router.get("/ui/deployments")
def deployments_page(request: Request, session: SessionDep, ui: UiSessionDep) -> Response:
    rows = [(d, _schedules(session, d.id), _last_runs(session, d.id)) for d in queries.deployments(session)]
    return render(request, "deployments.html", session=ui, rows=rows)


def _detail(
    request: Request,
    session: Session,
    ui: UiSession,
    deployment: Deployment,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problems: list[str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    fields = paramform.fields_for(deployment.parameter_schema, deployment.parameters)
    if form is not None:  # show what was submitted, not the defaults
        fields = [
            paramform.Field(**{**f.__dict__, "value": form.get(f.input_name, "")})  # type: ignore[arg-type]
            for f in fields
        ]
    return render(
        request,
        "deployment.html",
        session=ui,
        status_code=status_code,
        deployment=deployment,
        source=mask_secrets(deployment.source) if deployment.source else None,
        fields=fields,
        errors=errors or {},
        problems=problems or [],
        notice=notice,
        schedules=_schedules(session, deployment.id),
        runs=_last_runs(session, deployment.id, 20),
    )


@router.get("/ui/deployments/{deployment_id}")
def deployment_page(
    request: Request, deployment_id: str, session: SessionDep, ui: UiSessionDep, notice: str | None = None
) -> Response:
    deployment = session.get(Deployment, deployment_id)
    if deployment is None:
        message = f"deployment {deployment_id!r} not found"
        return render(request, "not_found.html", session=ui, status_code=404, message=message)
    return _detail(request, session, ui, deployment, notice=notice)


@router.post("/ui/deployments/{deployment_id}/run", status_code=303)
def run_deployment(
    request: Request,
    deployment_id: str,
    session: SessionDep,
    services: ServicesDep,
    ui: CanTrigger,
    form: FormDep,
) -> Response:
    """Trigger a run from the form; on a problem, the form again with each one named."""
    deployment = deployment_routes.get_deployment(session, deployment_id)
    fields = paramform.fields_for(deployment.parameter_schema, deployment.parameters)
    parameters, errors = paramform.parse_form(fields, form)
    if errors:
        return _detail(request, session, ui, deployment, form=form, errors=errors, status_code=422)
    body = FlowRunCreate(parameters=parameters)
    try:
        run, _ = deployment_routes.trigger_run(deployment_id, body, session, services)
    except ControlPlaneError as exc:
        detail = exc.detail
        problems = detail.get("errors") if isinstance(detail, dict) else None
        problems = problems or [error_text(exc)]
        return _detail(request, session, ui, deployment, form=form, problems=problems, status_code=exc.status_code)
    return RedirectResponse(f"/ui/runs/{run.id}", status_code=303)


@router.post("/ui/deployments/{deployment_id}/pause", status_code=303)
def pause_deployment(
    deployment_id: str, session: SessionDep, services: ServicesDep, ui: CanChange, form: FormDep
) -> Response:
    paused = form.get("paused") == "true"
    try:
        changes = DeploymentUpdate(paused=paused)
        deployment_routes.update_deployment(deployment_id, changes, session, services, ui.principal)
    except ControlPlaneError as exc:
        return _back(deployment_id, error_text(exc))
    return _back(deployment_id, "Deployment paused." if paused else "Deployment resumed.")


@router.post("/ui/deployments/{deployment_id}/schedules/{schedule_id}/active", status_code=303)
def toggle_schedule(
    deployment_id: str,
    schedule_id: str,
    session: SessionDep,
    services: ServicesDep,
    ui: CanChangeSchedule,
    form: FormDep,
) -> Response:
    active = form.get("active") == "true"
    try:
        schedule_routes.update_schedule(
            deployment_id, schedule_id, ScheduleUpdate(active=active), session, services, ui.principal
        )
    except ControlPlaneError as exc:
        return _back(deployment_id, error_text(exc))
    return _back(deployment_id, "Schedule resumed." if active else "Schedule paused.")


def _back(deployment_id: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/ui/deployments/{deployment_id}?notice={quote(notice)}", status_code=303)
