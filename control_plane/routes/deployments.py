from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from control_plane import runs
from control_plane.columns import utcnow
from control_plane.deps import AdminDep, ServicesDep, SessionDep
from control_plane.errors import InvalidInputError, NotFoundError
from control_plane.models import (
    Deployment,
    DeploymentCreate,
    DeploymentPublic,
    DeploymentUpdate,
    FlowRunCreate,
    FlowRunPublic,
)
from control_plane.parameters import check_parameters
from control_plane.routes.pools import get_pool
from control_plane.schedule_sync import ScheduleUpdate, replace_schedules
from control_plane.schedules import Schedule, SchedulePublic
from push_pools.base import parse_job
from push_pools.errors import JobConfigError

router = APIRouter(prefix="/deployments", tags=["deployments"])


@router.post("")
def upsert_deployment(
    body: DeploymentCreate, session: SessionDep, services: ServicesDep, _: AdminDep
) -> DeploymentPublic:
    """Create a deployment, or replace the one with the same flow and name."""
    pool = _existing_pool(session, body.pool)
    # Defaults may leave out required parameters (given per run), not mistype them.
    if body.parameter_schema:
        check_parameters({**body.parameter_schema, "required": []}, body.parameters)
    _check_job(services, pool, body.job_variables, {})
    deployment = session.exec(
        select(Deployment).where(Deployment.flow_name == body.flow_name, Deployment.name == body.name)
    ).first()
    fields = body.model_dump(exclude={"schedules"})
    if deployment is None:
        deployment = Deployment.model_validate(fields)
    else:
        for key, value in fields.items():
            setattr(deployment, key, value)
        deployment.updated = utcnow()
    session.add(deployment)
    session.flush()
    if body.schedules is not None:
        replace_schedules(session, deployment.id, body.schedules)
    session.commit()
    services.wake()
    return _public(session, deployment)


@router.patch("/{deployment_id}")
def update_deployment(
    deployment_id: str, body: DeploymentUpdate, session: SessionDep, services: ServicesDep, _: AdminDep
) -> DeploymentPublic:
    """Pause or resume a deployment (a paused one is neither scheduled nor dispatched),
    or change its concurrency limit or retries."""
    deployment = get_deployment(session, deployment_id)
    for key, value in body.model_dump(exclude_unset=True).items():
        if value is not None or key == "concurrency_limit":
            setattr(deployment, key, value)
    deployment.updated = utcnow()
    session.add(deployment)
    session.commit()
    services.wake()
    return _public(session, deployment)


@router.patch("/{deployment_id}/schedules/{schedule_id}")
def update_schedule(
    deployment_id: str, schedule_id: str, body: ScheduleUpdate, session: SessionDep, services: ServicesDep, _: AdminDep
) -> SchedulePublic:
    """Pause (`active: false`) or resume one schedule, or change its catch-up policy."""
    schedule = session.get(Schedule, schedule_id)
    if schedule is None or schedule.deployment_id != deployment_id:
        raise NotFoundError(f"schedule {schedule_id!r} of deployment {deployment_id!r} not found")
    for key, value in body.model_dump(exclude_unset=True, mode="json").items():
        if value is not None:
            setattr(schedule, key, value)
    session.add(schedule)
    session.commit()
    services.wake()
    return SchedulePublic.model_validate(schedule)


@router.get("/by-name/{flow_name}/{name}")
def read_deployment_by_name(flow_name: str, name: str, session: SessionDep, _: AdminDep) -> DeploymentPublic:
    deployment = session.exec(
        select(Deployment).where(Deployment.flow_name == flow_name, Deployment.name == name)
    ).first()
    if deployment is None:
        raise NotFoundError(f"deployment '{flow_name}/{name}' not found")
    return _public(session, deployment)


@router.get("/{deployment_id}")
def read_deployment(deployment_id: str, session: SessionDep, _: AdminDep) -> DeploymentPublic:
    return _public(session, get_deployment(session, deployment_id))


def _public(session: SessionDep, deployment: Deployment) -> DeploymentPublic:
    schedules = session.exec(
        select(Schedule).where(Schedule.deployment_id == deployment.id).order_by(col(Schedule.created))
    ).all()
    return DeploymentPublic.model_validate(
        {**deployment.model_dump(), "schedules": [SchedulePublic.model_validate(s) for s in schedules]}
    )


@router.post("/{deployment_id}/runs", status_code=status.HTTP_201_CREATED)
def create_flow_run(
    deployment_id: str,
    body: FlowRunCreate,
    response: Response,
    session: SessionDep,
    services: ServicesDep,
    _: AdminDep,
) -> FlowRunPublic:
    """Trigger a run. A repeated `idempotency_key` returns the run it created (200)."""
    deployment = get_deployment(session, deployment_id)
    if body.idempotency_key:
        existing = runs.find_by_idempotency_key(session, deployment.id, body.idempotency_key)
        if existing is not None:
            response.status_code = status.HTTP_200_OK
            return FlowRunPublic.of(existing)
    check_parameters(deployment.parameter_schema, {**deployment.parameters, **body.parameters})
    pool = _existing_pool(session, deployment.pool)
    _check_job(services, pool, deployment.job_variables, body.job_variables)
    run = runs.create_flow_run(session, deployment, body)
    try:
        session.commit()
    except IntegrityError:  # the same idempotency key, created concurrently
        session.rollback()
        existing = runs.find_by_idempotency_key(session, deployment.id, body.idempotency_key or "")
        if existing is None:
            raise
        response.status_code = status.HTTP_200_OK
        return FlowRunPublic.of(existing)
    services.wake()
    return FlowRunPublic.of(run)


def get_deployment(session: SessionDep, deployment_id: str) -> Deployment:
    deployment = session.get(Deployment, deployment_id)
    if deployment is None:
        raise NotFoundError(f"deployment {deployment_id!r} not found")
    return deployment


def _existing_pool(session: SessionDep, name: str) -> Any:
    try:
        return get_pool(session, name)
    except NotFoundError as exc:
        raise InvalidInputError(exc.detail) from None


def _check_job(services: ServicesDep, pool: Any, deployment_vars: dict, run_vars: dict) -> None:
    job_cls = services.adapters.adapter_class(pool.type).Job
    try:
        parse_job(job_cls, pool.defaults, deployment_vars, run_vars)
    except JobConfigError as exc:
        raise InvalidInputError({"message": str(exc), "errors": exc.errors}) from None
