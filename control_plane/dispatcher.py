"""The dispatcher: claim due runs (SCHEDULED -> PENDING, a compare-and-set, so no two
dispatchers submit one run), then push each to its pool's adapter."""

from __future__ import annotations

import logging

from sqlmodel import Session

from control_plane import runs
from control_plane.auth import mint_run_token
from control_plane.columns import utcnow
from control_plane.models import Deployment, FlowRun, Pool
from control_plane.services import Services
from push_pools.base import RunSpec, parse_job
from push_pools.errors import PushPoolError
from runtime.states import State, StateType
from sqlmodel import select

log = logging.getLogger("pushflow.dispatcher")


def dispatch_due(services: Services, *, limit: int = 100) -> int:
    """Submit every run that is due now; return how many were submitted."""
    claimed: list[tuple[FlowRun, str]] = []
    with Session(services.engine, expire_on_commit=False) as session:
        for run in runs.due_runs(session, utcnow(), limit):
            token, token_hash = mint_run_token(run.id)
            result = runs.set_state(
                session, run, State(StateType.PENDING, name="Submitting"), token_hash=token_hash
            )
            if result.status == "ACCEPT":
                claimed.append((run, token))
        session.commit()
    for run, token in claimed:
        submit(services, run, token)
    return len(claimed)


def submit(services: Services, run: FlowRun, token: str) -> None:
    with Session(services.engine, expire_on_commit=False) as session:
        pool = session.exec(select(Pool).where(Pool.name == run.pool)).first()
        deployment = session.get(Deployment, run.deployment_id) if run.deployment_id else None
    try:
        if pool is None:
            raise PushPoolError(f"pool {run.pool!r} no longer exists")
        adapter = services.adapters.get(pool.type)
        job = parse_job(
            adapter.Job, pool.defaults, deployment.job_variables if deployment else {}, run.job_variables
        )
        spec = RunSpec(
            run_id=run.id,
            env={
                "PUSHFLOW_FLOW_RUN_ID": run.id,
                "PUSHFLOW_API_URL": services.settings.callback_api_url,
            },
            secret_env={"PUSHFLOW_RUN_TOKEN": token},
            labels={"pushflow.flow": run.flow_name, "pushflow.flow-run": run.id},
        )
        ref = adapter.submit(spec, job)
    except PushPoolError as exc:
        log.warning("submitting run %s failed: %s", run.id, exc)
        _finish(services, run, State(StateType.CRASHED, message=f"could not submit to pool {run.pool!r}: {exc}"))
        return
    with Session(services.engine, expire_on_commit=False) as session:
        current = session.get(FlowRun, run.id)
        if current is None:
            return
        columns = {"infra_provider": ref.provider, "infra_id": ref.id, "infra_console_url": ref.console_url}
        if current.state_type is StateType.PENDING:
            runs.set_state(session, current, State(StateType.PENDING, name="InfrastructurePending"), **columns)
        else:  # the runtime already reported in: just record where it runs
            session.execute(
                FlowRun.__table__.update().where(FlowRun.__table__.c.id == run.id).values(**columns)  # type: ignore[attr-defined]
            )
        session.commit()


def _finish(services: Services, run: FlowRun, state: State) -> None:
    with Session(services.engine, expire_on_commit=False) as session:
        current = session.get(FlowRun, run.id)
        if current is not None:
            runs.set_state(session, current, state)
            session.commit()
