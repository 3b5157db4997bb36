from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from sqlalchemy import bindparam, update
from sqlalchemy import select as select_columns
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from control_plane import limits, passes, runs
from control_plane.blocks import keyring_for, references
from control_plane.columns import utcnow
from control_plane.deps import AdminDep, ServicesDep, SessionDep
from control_plane.errors import ConflictError, InvalidInputError, NotFoundError
from control_plane.job_variables import check_job
from control_plane.managed import check_author_variables
from control_plane.masking import refuse_mask, restore_masked
from control_plane.models import (
    Deployment,
    DeploymentCreate,
    DeploymentPublic,
    DeploymentUpdate,
    FlowRun,
    FlowRunCreate,
    FlowRunPublic,
    Pool,
)
from control_plane.parameters import check_parameters
from control_plane.routes.pools import get_pool
from control_plane.schedule_sync import remove_unstarted_runs, replace_schedules
from control_plane.schedules import Schedule, SchedulePublic
from control_plane.services import Services
from control_plane.sources import check_source
from runtime.states import State, StateType

router = APIRouter(prefix="/deployments", tags=["deployments"])


@router.post("")
def upsert_deployment(
    body: DeploymentCreate, session: SessionDep, services: ServicesDep, _: AdminDep
) -> DeploymentPublic:
    """Create a deployment, or replace the one with the same flow and name."""
    limits.check_parameters(body.parameters, services.settings.max_parameters_bytes)
    pool = get_pool(session, body.pool)  # 404 naming it, as for a pool in a path
    # Defaults may leave out required parameters (given per run), not mistype them.
    if body.parameter_schema:
        check_parameters({**body.parameter_schema, "required": []}, body.parameters)
    deployment = session.exec(
        select(Deployment).where(Deployment.flow_name == body.flow_name, Deployment.name == body.name)
    ).first()
    # A deployment read back masked and sent again keeps its secrets (not the mask).
    body.job_variables = restore_masked(body.job_variables, deployment.job_variables if deployment else None)
    refuse_mask(body.job_variables, "job_variables")
    _check_job(services, pool.type, pool.defaults, body.job_variables, {})
    check_source(services, body.source, pool.type)
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


@router.get("")
def list_deployments(
    session: SessionDep, _: AdminDep, flow_name: str | None = None, pool: str | None = None
) -> list[DeploymentPublic]:
    """Every deployment (optionally of one flow or on one pool), by flow and name."""
    query = select(Deployment).order_by(col(Deployment.flow_name), col(Deployment.name))
    if flow_name:
        query = query.where(Deployment.flow_name == flow_name)
    if pool:
        query = query.where(Deployment.pool == pool)
    return [_public(session, d) for d in session.exec(query).all()]


@router.delete("/{deployment_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_deployment(deployment_id: str, session: SessionDep, _: AdminDep) -> Response:
    """Delete a deployment, its schedules and its runs that have not started. Finished
    runs are kept (they keep their flow name; their deployment id becomes null). Refused
    (409) while a run of it is active: cancel those first."""
    deployment = get_deployment(session, deployment_id)
    active = session.exec(
        select(FlowRun.name).where(
            FlowRun.deployment_id == deployment.id,
            col(FlowRun.state_type).in_([StateType.PENDING, StateType.RUNNING, StateType.CANCELLING, StateType.PAUSED]),
        )
    ).all()
    if active:
        raise ConflictError(
            f"deployment '{deployment.flow_name}/{deployment.name}' has {len(active)} active run(s) "
            f"({', '.join(active[:3])}); cancel them (`pushflow runs cancel NAME`) or wait, then delete it"
        )
    label = f"{deployment.flow_name}/{deployment.name}"
    remove_unstarted_runs(session, f"deployment {label} was deleted", col(FlowRun.deployment_id) == deployment.id)
    retries = session.exec(
        select(FlowRun.id).where(FlowRun.deployment_id == deployment.id, FlowRun.state_type == StateType.SCHEDULED)
    ).all()
    gone = State(StateType.CANCELLED, message="its deployment was deleted before the retry started")
    runs.transition_many(session, list(retries), StateType.SCHEDULED, None, gone)
    session.execute(update(FlowRun).where(col(FlowRun.deployment_id) == deployment.id).values(deployment_id=None))
    # One by one through the session, so each deletion is seen as a change (the event log).
    for schedule in session.exec(select(Schedule).where(Schedule.deployment_id == deployment.id)).all():
        session.delete(schedule)
    session.flush()
    session.delete(deployment)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/by-name/{flow_name}/{name}")
def read_deployment_by_name(flow_name: str, name: str, session: SessionDep, _: AdminDep) -> DeploymentPublic:
    """One deployment by its flow's name and its own."""
    deployment = session.exec(
        select(Deployment).where(Deployment.flow_name == flow_name, Deployment.name == name)
    ).first()
    if deployment is None:
        raise NotFoundError(f"deployment '{flow_name}/{name}' not found")
    return _public(session, deployment)


@router.get("/{deployment_id}")
def read_deployment(deployment_id: str, session: SessionDep, _: AdminDep) -> DeploymentPublic:
    """One deployment, with its schedules."""
    return _public(session, get_deployment(session, deployment_id))


def _public(session: SessionDep, deployment: Deployment) -> DeploymentPublic:
    schedules = session.exec(
        select(Schedule).where(Schedule.deployment_id == deployment.id).order_by(col(Schedule.created))
    ).all()
    return DeploymentPublic.model_validate(
        {**deployment.model_dump(), "schedules": [SchedulePublic.model_validate(s) for s in schedules]}
    )


@router.post(
    "/{deployment_id}/runs",
    status_code=status.HTTP_201_CREATED,
    response_model=FlowRunPublic,
    responses={200: {"model": FlowRunPublic, "description": "The run made earlier with this idempotency_key"}},
)
def create_flow_run(
    deployment_id: str,
    body: FlowRunCreate,
    session: SessionDep,
    services: ServicesDep,
    _: AdminDep,
) -> Response:
    """Trigger a run. A run due now is handed to its pool before the answer (which does
    not wait for the provider to provision it). A repeated `idempotency_key` returns the
    run it created (200)."""
    run, created = trigger_run(deployment_id, body, session, services)
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(FlowRunPublic.json_of(run), status_code=code, media_type="application/json")


def trigger_run(deployment_id: str, body: FlowRunCreate, session: Session, services: Services) -> tuple[FlowRun, bool]:
    """The run `body` asks for, and True; or the run an earlier trigger with the same
    `idempotency_key` made, and False (the API's trigger route and the UI's)."""
    # The deployment's columns a trigger uses and its pool's in one query of plain values
    # (no ORM objects to load); a missing pool is still refused only after the checks
    # below, as before.
    deployment = session.connection().execute(_TRIGGER_COLUMNS, {"deployment_id": deployment_id}).first()
    if deployment is None:
        raise NotFoundError(f"deployment {deployment_id!r} not found")
    if body.idempotency_key:
        existing = runs.find_by_idempotency_key(session, deployment.id, body.idempotency_key)
        if existing is not None:
            return existing, False
    limits.check_parameters(body.parameters, services.settings.max_parameters_bytes)
    check_parameters(deployment.parameter_schema, {**deployment.parameters, **body.parameters})
    pool_type, pool_defaults = deployment.pool_type, deployment.pool_defaults
    if deployment.pool_id is None:
        pool = get_pool(session, deployment.pool)  # its 404, naming the pool
        pool_type, pool_defaults = pool.type, pool.defaults
    refuse_mask(body.job_variables, "job_variables")
    _check_job(services, pool_type, pool_defaults, deployment.job_variables, body.job_variables)
    try:
        run = runs.create_flow_run(session, deployment, body)
        session.commit()
    except IntegrityError:  # the same idempotency key, created concurrently
        session.rollback()
        existing = runs.find_by_idempotency_key(session, deployment.id, body.idempotency_key or "")
        if existing is None:
            raise
        return existing, False
    if passes.dispatch_now(services, run):  # submitted before we answer; no loop needed
        session.refresh(run)
    return run, True


# Built once, not per trigger (its construction and cache-key walk cost more than its
# rows): what new_run_values and the checks read of a deployment, and its pool's type
# and defaults (pool_id None: no such pool).
_DEPLOYMENT, _POOL = Deployment.__table__.c, Pool.__table__.c  # type: ignore[attr-defined]
_TRIGGER_COLUMNS = (
    select_columns(
        *(_DEPLOYMENT[name] for name in ("id", "name", "flow_name", "pool", "entrypoint", "working_dir")),
        *(_DEPLOYMENT[name] for name in ("source", "parameters", "parameter_schema", "job_variables")),
        _POOL.id.label("pool_id"),
        _POOL.type.label("pool_type"),
        _POOL.defaults.label("pool_defaults"),
    )
    .outerjoin(Pool.__table__, _POOL.name == _DEPLOYMENT.pool)  # type: ignore[attr-defined]
    .where(_DEPLOYMENT.id == bindparam("deployment_id"))
)


def get_deployment(session: SessionDep, deployment_id: str) -> Deployment:
    deployment = session.get(Deployment, deployment_id)
    if deployment is None:
        raise NotFoundError(f"deployment {deployment_id!r} not found")
    return deployment


def _check_job(
    services: ServicesDep, pool_type: str, pool_defaults: dict, deployment_vars: dict, run_vars: dict
) -> None:
    adapter_cls = services.adapters.adapter_class(pool_type)
    check_author_variables(adapter_cls, deployment_vars, run_vars)
    layers: tuple[Any, ...] = (pool_defaults, deployment_vars, run_vars)
    if any(references.has_references(layer) for layer in layers):  # checked resolved, stored as given
        try:
            layers = tuple(references.resolve_layers(services.engine, keyring_for(services.settings), *layers))
        except references.BlockReferenceError as exc:
            raise InvalidInputError(str(exc)) from None
    check_job(adapter_cls.Job, *layers)
