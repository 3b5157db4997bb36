"""Runs: the filtered list with counts per state, and one run's page (state, parameters,
infrastructure, task-run timeline, logs) with Cancel and Retry. Both have a fragment the
page's script polls for live updates."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlmodel import Session, col, select

from control_plane.deps import ServicesDep, SessionDep
from control_plane.errors import ControlPlaneError, NotFoundError
from control_plane.models import Deployment, FlowRun, FlowRunCreate, Log, TaskRun
from control_plane.routes import deployments as deployment_routes
from control_plane.routes import flow_runs as run_routes
from control_plane.ui import charts, history, queries
from control_plane.ui.deps import UiSessionDep, allowed
from control_plane.ui.render import error_text, render
from control_plane.ui.session import UiSession

router = APIRouter(include_in_schema=False)
LOG_PAGE = 1000
# Each action needs what the API route it stands for needs (control_plane/scopes.py).
CanCancel = Annotated[UiSession, allowed("POST", "/flow-runs/{flow_run_id}/cancel")]
CanTrigger = Annotated[UiSession, allowed("POST", "/deployments/{deployment_id}/runs")]


@router.get("/ui/runs")
def runs_page(
    request: Request,
    session: SessionDep,
    ui: UiSessionDep,
    cursor: str | None = None,
    fragment: bool = False,
) -> Response:
    f = queries.RunFilter.of(request.query_params)
    rows, next_cursor = queries.run_page(session, f, cursor)
    all_deployments = queries.deployments(session)
    context: dict[str, Any] = {
        "filter": f,
        "runs": rows,
        "cursor": cursor,
        "next_cursor": next_cursor,
        "counts": queries.state_counts(session, f),
        "deployments": {d.id: d for d in all_deployments},
        "pools": queries.pool_names(session),
        "tags": sorted({t for d in all_deployments for t in d.tags or []}),
        "last_event": history.last_event_id(session),
    }
    template = "runs_live.html" if fragment else "runs.html"
    return render(request, template, session=ui, **context)


@router.get("/ui/events/last")
def last_event(session: SessionDep, _: UiSessionDep) -> JSONResponse:
    """The newest event's id, for pages that re-read themselves when something changed."""
    return JSONResponse({"id": history.last_event_id(session)}, headers={"Cache-Control": "no-store"})


def _run_context(session: Session, run: FlowRun) -> dict[str, Any]:
    task_runs = list(session.exec(select(TaskRun).where(TaskRun.flow_run_id == run.id)))
    rows, height = charts.gantt(task_runs)
    deployment = session.get(Deployment, run.deployment_id) if run.deployment_id else None
    events = history.transitions(session, run.id)
    return {
        "run": run,
        "deployment": deployment,
        "task_runs": sorted(task_runs, key=lambda t: (t.start_time is None, t.start_time, t.name)),
        "events": events,
        "attempts": history.attempts(session, run.id, events),
        "gantt": rows,
        "gantt_height": height,
        "chart_width": charts.CHART_WIDTH,
        "label_width": charts.LABEL_WIDTH,
    }


def _get_run(session: Session, run_id: str) -> FlowRun:
    run = session.get(FlowRun, run_id)
    if run is None:
        raise NotFoundError(f"flow run {run_id!r} not found")
    return run


@router.get("/ui/runs/{run_id}")
def run_page(
    request: Request, run_id: str, session: SessionDep, ui: UiSessionDep, notice: str | None = None
) -> Response:
    try:
        run = _get_run(session, run_id)
    except NotFoundError as exc:
        return render(request, "not_found.html", session=ui, status_code=404, message=exc.detail)
    logs = list(session.exec(select(Log).where(Log.flow_run_id == run_id).order_by(col(Log.id)).limit(LOG_PAGE)))
    return render(request, "run.html", session=ui, logs=logs, notice=notice, **_run_context(session, run))


@router.get("/ui/runs/{run_id}/live")
def run_live(request: Request, run_id: str, session: SessionDep, ui: UiSessionDep) -> Response:
    return render(request, "run_live.html", session=ui, **_run_context(session, _get_run(session, run_id)))


@router.get("/ui/runs/{run_id}/logs")
def run_logs(
    run_id: str,
    session: SessionDep,
    _: UiSessionDep,
    after: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    """Log lines after `after` (a log id), for the page's follow mode."""
    query = select(Log).where(Log.flow_run_id == run_id, col(Log.id) > after).order_by(col(Log.id)).limit(LOG_PAGE)
    lines = [
        {"id": r.id, "level": r.level, "time": r.timestamp.isoformat(), "name": r.name, "message": r.message}
        for r in session.exec(query)
    ]
    return JSONResponse(lines, headers={"Cache-Control": "no-store"})


@router.post("/ui/runs/{run_id}/cancel", status_code=303)
def cancel_run(run_id: str, session: SessionDep, services: ServicesDep, ui: CanCancel) -> RedirectResponse:
    try:
        run_routes.cancel_flow_run(run_id, session, services, ui.principal)
    except ControlPlaneError as exc:
        return _back(run_id, error_text(exc))
    return _back(run_id, "Cancellation requested.")


@router.post("/ui/runs/{run_id}/retry", status_code=303)
def retry_run(run_id: str, session: SessionDep, services: ServicesDep, ui: CanTrigger) -> RedirectResponse:
    """A new run of the same deployment with the same parameters and job variables (a
    finished run's state is final, so it is never reopened)."""
    try:
        run = _get_run(session, run_id)
        if run.deployment_id is None:
            return _back(run_id, "Only runs of a deployment can be retried from here.")
        body = FlowRunCreate(parameters=run.parameters, job_variables=run.job_variables)
        new, _ = deployment_routes.trigger_run(run.deployment_id, body, session, services)
    except ControlPlaneError as exc:
        return _back(run_id, error_text(exc))
    return _back(new.id, f"Retry of {run.name}.")


def _back(run_id: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/ui/runs/{run_id}?notice={quote(notice)}", status_code=303)
