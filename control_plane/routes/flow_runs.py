from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import bindparam
from sqlalchemy import select as select_columns
from sqlalchemy.orm import load_only
from sqlmodel import col, select

from control_plane import limits, passes, runs
from control_plane.auth import mint_run_token
from control_plane.blocks import redaction
from control_plane.columns import INT64_MAX, JsonDateTime
from control_plane.deps import AdminDep, PrincipalDep, ReadEngineDep, ServicesDep, SessionDep
from control_plane.errors import ConflictError, NotFoundError
from control_plane.json_batches import JsonBatchRoute
from control_plane.models import (
    FLOW_RUN_PUBLIC_COLUMNS,
    Deployment,
    FlowRun,
    FlowRunPage,
    FlowRunPublic,
    HeartbeatResult,
    Log,
    LogCreate,
    LogPublic,
    OrchestrationResult,
    StateProposal,
    TaskRun,
    TaskRunPublic,
    TaskRunReport,
)
from control_plane.models.logs import LogCreateFromRuntime
from control_plane.models.task_runs import TaskRunReportFromRuntime
from control_plane.orchestration import policy
from control_plane.responses import model_json
from control_plane.run_listing import RunFilter, RunOrder, encode_cursor, page_query
from runtime.states import StateType

router = APIRouter(prefix="/flow-runs", tags=["flow runs"])


class RunListQuery(BaseModel):
    """GET /api/flow-runs's query parameters, validated as one model: one pydantic-core
    call instead of FastAPI solving and validating ten parameters one by one on the event
    loop. FastAPI documents each field as a query parameter, so the OpenAPI document, the
    422 answers (their `loc`s are the parameters') and what each parameter accepts are the
    same as when they were the route's own arguments."""

    deployment_id: str | None = None
    flow_name: str | None = None
    state: list[StateType] | None = Field(default=None, description="Keep runs in these state types")
    name: str | None = Field(default=None, description="Keep runs with exactly this name")
    id_prefix: str | None = Field(default=None, description="Keep runs whose id starts with this")
    expected_before: JsonDateTime | None = Field(
        default=None, description="Keep runs due to start at or before this (with a time zone)"
    )
    expected_after: JsonDateTime | None = Field(
        default=None, description="Keep runs due to start after this (with a time zone)"
    )
    sort: RunOrder = Field(default=RunOrder.CREATED_DESC, description="Order of the runs")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(
        default=None, description="The `next_cursor` of the previous page", json_schema_extra={"format": "cursor"}
    )


@router.get("", response_model=FlowRunPage)
def list_flow_runs(reads: ReadEngineDep, _: AdminDep, query: Annotated[RunListQuery, Query()]) -> Response:
    """Runs, newest first by default; pass `next_cursor` back as `cursor` (with the same
    filters and sort) for the next page."""
    where = RunFilter(
        query.deployment_id,
        query.flow_name,
        query.state,
        query.name,
        query.id_prefix,
        query.expected_before,
        query.expected_after,
    )
    limit, sort = query.limit, query.sort
    with reads.connect() as connection:  # plain rows, no ORM
        rows = connection.execute(page_query(where, sort, limit, query.cursor)).all()
    next_cursor = encode_cursor(rows[limit - 1], sort) if len(rows) > limit else None
    return Response(FlowRunPage.json_of_rows(rows[:limit], next_cursor), media_type="application/json")


@router.get("/{flow_run_id}", response_model=FlowRunPublic)
def read_flow_run(flow_run_id: str, reads: ReadEngineDep, principal: PrincipalDep) -> Response:
    """One flow run: its state, parameters, pool, infrastructure and timing."""
    principal.require_run(flow_run_id)
    with reads.connect() as connection:
        found = connection.execute(_read_query(), {"flow_run_id": flow_run_id}).first()
    if found is None:
        raise NotFoundError(f"flow run {flow_run_id!r} not found")
    return Response(FlowRunPublic.json_of_row(found[:-1], found[-1]), media_type="application/json")


@functools.cache
def _read_query() -> Any:
    """The columns a FlowRunPublic shows and its deployment's name (what
    pushflow.runtime.deployment.name shows), in one query of plain rows (no ORM object);
    built once, on first use."""
    return (
        select_columns(*FLOW_RUN_PUBLIC_COLUMNS, col(Deployment.name))
        .outerjoin(Deployment, col(Deployment.id) == col(FlowRun.deployment_id))
        .where(col(FlowRun.id) == bindparam("flow_run_id"))
    )


def _public(run: FlowRun, deployment_name: str | None) -> FlowRunPublic:
    public = FlowRunPublic.of(run)
    public.deployment_name = deployment_name
    return public


@router.post("/{flow_run_id}/state", response_model=OrchestrationResult)
def set_flow_run_state(
    flow_run_id: str,
    body: StateProposal,
    session: SessionDep,
    services: ServicesDep,
    principal: PrincipalDep,
) -> Response:
    """Propose a state; refused with 409 and the reason when the rules forbid it. Sending
    the same `transition_id` again repeats nothing and answers as the first time. A FAILED
    proposal for a run with retries left answers with the SCHEDULED "AwaitingRetry" state.
    With `with_run`, the answer carries the run as read after the change (`run`); with
    `heartbeat`, the change also counts as a heartbeat."""
    # The columns a proposal reads, unless the answer shows the whole run (`with_run`).
    run = _get_run(session, flow_run_id, principal, _RUN_BY_ID if body.with_run else _RUN_TO_PROPOSE)
    if body.force:
        principal.require_admin()
    result = runs.propose_state(
        session, run, body.state, force=body.force, transition_id=body.transition_id, heartbeat=body.heartbeat
    )
    if result.status != "ACCEPT":
        raise ConflictError(result.reason)
    if body.with_run:  # read in the transaction that changed it: exactly the run that was moved
        named = select(Deployment.name).where(col(Deployment.id) == run.deployment_id)
        result.run = _public(run, session.exec(named).first() if run.deployment_id else None)
    session.commit()
    if result.state.type is StateType.SCHEDULED:
        passes.dispatch_now(services, run)  # a retry due now starts without waiting for a pass
    if result.state.is_terminal() or result.state.type is StateType.SCHEDULED:
        services.wake(full=False)  # a slot was freed, or a retry is scheduled
    return model_json(result)


@router.post("/{flow_run_id}/heartbeat")
def heartbeat(flow_run_id: str, session: SessionDep, principal: PrincipalDep) -> HeartbeatResult:
    """The runtime says it is alive. A RUNNING run whose heartbeats stop for longer than
    the server's heartbeat timeout is marked CRASHED. The answer carries the run's state,
    so a runtime learns it is being cancelled."""
    run = _get_run(session, flow_run_id, principal)
    runs.heartbeat(session, run)
    session.commit()
    return HeartbeatResult(state=run.state)


@router.post("/{flow_run_id}/cancel")
def cancel_flow_run(flow_run_id: str, session: SessionDep, services: ServicesDep, _: AdminDep) -> FlowRunPublic:
    """Cancel a run: at once if it has not been submitted, else through CANCELLING: its
    pool is asked to stop the infrastructure in this request, and the run is CANCELLED
    when the infrastructure has stopped."""
    run = _get_run(session, flow_run_id, None)
    target = policy.on_cancel_request(run.state_type)
    if target is None:
        raise ConflictError(f"run {run.name!r} is already {run.state_type.value}; nothing to cancel")
    result = runs.set_state(session, run, target)
    if result.status != "ACCEPT":
        raise ConflictError(result.reason)
    session.commit()
    passes.cancel_now(services, run.id)  # the pool is asked to stop it before we answer
    services.wake()
    session.refresh(run)
    return FlowRunPublic.of(run)


@router.get("/{flow_run_id}/task-runs")
def read_task_runs(flow_run_id: str, session: SessionDep, principal: PrincipalDep) -> list[TaskRunPublic]:
    """The run's task runs, in the order they started."""
    _get_run(session, flow_run_id, principal)
    rows = session.exec(
        select(TaskRun).where(TaskRun.flow_run_id == flow_run_id).order_by(col(TaskRun.start_time), col(TaskRun.id))
    )
    return [TaskRunPublic.of(r) for r in rows]


def report_task_runs(flow_run_id: str, body: list[TaskRunReport], session: SessionDep, principal: PrincipalDep) -> None:
    """Create or update task runs (the runtime reports them in batches)."""
    _require_run(session, flow_run_id, principal)
    runs.record_task_runs(session, flow_run_id, body)
    session.commit()


# A runtime's batches: validated from the request's bytes in one pass (json_batches.py).
router.add_api_route(
    "/{flow_run_id}/task-runs",
    report_task_runs,
    methods=["POST"],
    status_code=204,
    route_class_override=JsonBatchRoute.of(list[TaskRunReportFromRuntime]),
)


@router.get("/{flow_run_id}/logs")
def read_logs(
    flow_run_id: str,
    session: SessionDep,
    principal: PrincipalDep,
    after: Annotated[
        int | None, Query(ge=0, le=INT64_MAX, description="Only logs with a greater id (for following)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[LogPublic]:
    """The run's logs in order; pass the last id as `after` to follow."""
    _get_run(session, flow_run_id, principal)
    query = select(Log).where(Log.flow_run_id == flow_run_id)
    if after is not None:
        query = query.where(col(Log.id) > after)
    rows = session.exec(query.order_by(col(Log.id)).limit(limit))
    return [LogPublic.model_validate(r, from_attributes=True) for r in rows]


def send_logs(
    flow_run_id: str, body: list[LogCreate], session: SessionDep, services: ServicesDep, principal: PrincipalDep
) -> None:
    """Record log lines (the runtime sends them in batches)."""
    principal.require_run(flow_run_id)
    layers = redaction.run_layers(session, flow_run_id)
    if layers is None:
        raise NotFoundError(f"flow run {flow_run_id!r} not found")
    limits.check_log_batch(body, services.settings.log_batch_max_lines, services.settings.log_line_max_bytes)
    redaction.redact(body, redaction.run_secrets(services, layers))
    runs.record_logs(session, flow_run_id, body)
    session.commit()


router.add_api_route(
    "/{flow_run_id}/logs",
    send_logs,
    methods=["POST"],
    status_code=204,
    route_class_override=JsonBatchRoute.of(list[LogCreateFromRuntime]),
)


class SubflowRunCreate(BaseModel):
    """A child run of a RUNNING run."""

    flow_name: str = Field(min_length=1, max_length=200)
    name: str | None = None
    parameters: dict[str, Any] = {}
    parent_task_run_id: str | None = None


class SubflowRunCreated(BaseModel):
    """The child run and a token scoped to it."""

    flow_run: FlowRunPublic
    token: str = Field(description="A run token for the child run only")


@router.post("/{flow_run_id}/subflow-runs", status_code=201)
def create_subflow_run(
    flow_run_id: str, body: SubflowRunCreate, session: SessionDep, services: ServicesDep, principal: PrincipalDep
) -> SubflowRunCreated:
    """Record a subflow as a child run of a RUNNING run. A run token may create children
    of its own run only; each child gets its own token, scoped to the child."""
    parent = _get_run(session, flow_run_id, principal)
    if parent.state_type is not StateType.RUNNING:
        raise ConflictError(f"run {parent.name!r} is {parent.state_type.value}; only a RUNNING run can start subflows")
    limits.check_parameters(body.parameters, services.settings.max_parameters_bytes)
    limits.check_children(session, parent.id, services.settings.max_children_per_run)
    child = runs.create_subflow_run(
        session,
        parent,
        body.flow_name,
        name=body.name,
        parameters=body.parameters,
        parent_task_run_id=body.parent_task_run_id,
    )
    token, child.token_hash = mint_run_token(child.id)
    session.commit()
    return SubflowRunCreated(flow_run=FlowRunPublic.of(child), token=token)


_RUN_EXISTS = select_columns(col(FlowRun.id)).where(col(FlowRun.id) == bindparam("flow_run_id"))


def _require_run(session: SessionDep, flow_run_id: str, principal: PrincipalDep) -> None:
    """As _get_run, where only the run's existence matters: one id read, not a run object
    loaded (~0.5M instructions, most of a small batch's request)."""
    principal.require_run(flow_run_id)
    if session.execute(_RUN_EXISTS, {"flow_run_id": flow_run_id}).first() is None:
        raise NotFoundError(f"flow run {flow_run_id!r} not found")


def _get_run(session: SessionDep, flow_run_id: str, principal: PrincipalDep | None, statement: Any = None) -> FlowRun:
    if principal is not None:
        principal.require_run(flow_run_id)
    found = session.execute(_RUN_BY_ID if statement is None else statement, {"flow_run_id": flow_run_id})
    run: FlowRun | None = found.scalar_one_or_none()
    if run is None:
        raise NotFoundError(f"flow run {flow_run_id!r} not found")
    return run


# Built once: Session.get builds its query and annotates its criteria on every call (a
# request's session is new, so its identity map never has the run already).
_RUN_BY_ID = select(FlowRun).where(col(FlowRun.id) == bindparam("flow_run_id"))
# A proposal's run: the columns runs.set_state, its event and passes.dispatch_now read
# (15 of 35), the others deferred (an access would load it: correct, one query more). Its
# load was the biggest part of a proposal's SELECT: each column a cursor description
# entry, a result processor and an attribute to set.
_RUN_TO_PROPOSE = _RUN_BY_ID.options(
    load_only(
        *(getattr(FlowRun, name) for name in ("id", "name", "flow_name", "deployment_id", "pool")),
        *(getattr(FlowRun, name) for name in ("state_type", "state_name", "state_message", "state_timestamp")),
        *(getattr(FlowRun, name) for name in ("state_version", "last_transition_id", "run_count")),
        *(getattr(FlowRun, name) for name in ("start_time", "expected_start_time", "dispatch_count")),
    )
)
