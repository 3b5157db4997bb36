"""What the infrastructure itself says about a run: the container's own output, straight
from the provider (e.g. the ECS task's CloudWatch stream), for runs whose runtime never
reported (image pull errors, crashes at startup)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from control_plane.deps import AdminDep, ServicesDep, SessionDep
from control_plane.errors import NotFoundError
from control_plane.models import FlowRun
from push_pools.base import InfraRef

router = APIRouter(prefix="/flow-runs", tags=["flow runs"])


class InfrastructureLogs(BaseModel):
    """What a run's infrastructure logged (the provider's own logs)."""

    provider: str
    id: str
    console_url: str | None
    lines: list[str]


@router.get("/{flow_run_id}/infrastructure-logs")
def read_infrastructure_logs(
    flow_run_id: str,
    session: SessionDep,
    services: ServicesDep,
    _: AdminDep,
    limit: Annotated[int, Query(ge=1, le=10000)] = 200,
) -> InfrastructureLogs:
    """The last `limit` lines the run's infrastructure logged, as its provider keeps them."""
    run = session.get(FlowRun, flow_run_id)
    if run is None:
        raise NotFoundError(f"flow run {flow_run_id!r} not found")
    if not run.infra_provider or not run.infra_id:
        raise NotFoundError(f"flow run {flow_run_id!r} has not reached any infrastructure yet")
    ref = InfraRef(provider=run.infra_provider, id=run.infra_id, console_url=run.infra_console_url)
    lines = services.adapters.get(ref.provider).logs(ref, limit=limit)
    return InfrastructureLogs(provider=ref.provider, id=ref.id, console_url=ref.console_url, lines=lines)
