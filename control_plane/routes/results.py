"""A flow run's result: the runtime records it (with the run's token) before it reports
COMPLETED; anyone with a key reads it back."""

from __future__ import annotations

from fastapi import APIRouter

from control_plane.deps import PrincipalDep, SessionDep
from control_plane.errors import ConflictError, InvalidInputError, NotFoundError
from control_plane.models import FlowRun, FlowRunResult, FlowRunResultBase, FlowRunResultPublic
from runtime.states import StateType

router = APIRouter(prefix="/flow-runs", tags=["flow runs"])

MAX_INLINE_BYTES = 256 * 1024


@router.put("/{flow_run_id}/result", status_code=204)
def record_result(flow_run_id: str, body: FlowRunResultBase, session: SessionDep, principal: PrincipalDep) -> None:
    """Record (or replace) the run's persisted result; the runtime calls this once the
    body returned, before it proposes COMPLETED."""
    run = _get_run(session, flow_run_id, principal)
    if run.state_type.is_terminal:
        raise ConflictError(f"flow run {flow_run_id!r} is already {run.state_type.value}; its result is final")
    if body.inline and len(_json_size(body.value)) > MAX_INLINE_BYTES:
        raise InvalidInputError(
            f"an inline result holds at most {MAX_INLINE_BYTES} bytes of JSON; send inline=false with its storage key"
        )
    row = session.get(FlowRunResult, flow_run_id) or FlowRunResult(
        flow_run_id=flow_run_id, serializer=body.serializer, inline=body.inline
    )
    for field, value in body.model_dump().items():
        setattr(row, field, value)
    session.add(row)
    session.commit()


@router.get("/{flow_run_id}/result")
def read_result(flow_run_id: str, session: SessionDep, principal: PrincipalDep) -> FlowRunResultPublic:
    """The run's return value, when its flow persists results (`@flow(persist_result=True)`)."""
    run = _get_run(session, flow_run_id, principal)
    row = session.get(FlowRunResult, flow_run_id)
    if row is not None and run.state_type is StateType.COMPLETED:
        return FlowRunResultPublic(flow_run_id=flow_run_id, **row.model_dump(exclude={"flow_run_id", "created"}))
    if not run.state_type.is_terminal:
        raise ConflictError(f"flow run {flow_run_id!r} is {run.state_type.value}; it has a result once it completes")
    if run.state_type is not StateType.COMPLETED:
        raise NotFoundError(f"flow run {flow_run_id!r} ended {run.state_type.value}, so it has no result")
    raise NotFoundError(
        f"flow run {flow_run_id!r} completed without persisting its result; "
        "decorate the flow with @flow(persist_result=True) to keep it"
    )


def _get_run(session: SessionDep, flow_run_id: str, principal: PrincipalDep) -> FlowRun:
    principal.require_run(flow_run_id)
    run = session.get(FlowRun, flow_run_id)
    if run is None:
        raise NotFoundError(f"flow run {flow_run_id!r} not found")
    return run


def _json_size(value: object) -> bytes:
    import json

    return json.dumps(value).encode()
