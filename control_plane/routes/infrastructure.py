"""What the infrastructure itself says about a run: its attempts (one per submission,
with how each ended), and the container's own output straight from the provider (e.g.
the ECS task's CloudWatch stream), for runs whose runtime never reported (image pull
errors, crashes at startup)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from control_plane import attempts
from control_plane.attempts import AttemptPublic, ref_of
from control_plane.deps import AdminDep, ServicesDep, SessionDep
from control_plane.errors import NotFoundError
from control_plane.models import FlowRun

router = APIRouter(prefix="/flow-runs", tags=["flow runs"])


class InfrastructureLogs(BaseModel):
    """What a run's infrastructure logged (the provider's own logs)."""

    provider: str
    id: str
    console_url: str | None
    lines: list[str]


@router.get("/{flow_run_id}/attempts")
def read_attempts(flow_run_id: str, session: SessionDep, _: AdminDep) -> list[AttemptPublic]:
    """Every submission of the run to its pool, oldest first: where it went, how its
    infrastructure ended (exit code, the provider's reason) and when it was released."""
    if session.get(FlowRun, flow_run_id) is None:
        raise NotFoundError(f"flow run {flow_run_id!r} not found")
    return [AttemptPublic.of(row) for row in attempts.for_run(session, flow_run_id)]


@router.get("/{flow_run_id}/infrastructure-logs")
def read_infrastructure_logs(
    flow_run_id: str,
    session: SessionDep,
    services: ServicesDep,
    _: AdminDep,
    limit: Annotated[int, Query(ge=1, le=10000)] = 200,
) -> InfrastructureLogs:
    """The last `limit` lines the run's current attempt logged, as its provider keeps them."""
    run = session.get(FlowRun, flow_run_id)
    if run is None:
        raise NotFoundError(f"flow run {flow_run_id!r} not found")
    attempt = attempts.latest(session, [run.id]).get(run.id)
    if attempt is None:
        raise NotFoundError(f"flow run {flow_run_id!r} has not reached any infrastructure yet")
    ref = ref_of(attempt)
    lines = services.adapters.get(ref.provider).logs(ref, limit=limit)
    return InfrastructureLogs(provider=ref.provider, id=ref.id, console_url=ref.console_url, lines=lines)
