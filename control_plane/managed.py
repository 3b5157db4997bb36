"""The control plane's side of managed pools (push_pools/managed.py): what authors may
set, and the quotas, enforced where runs are dispatched and reconciled.

- concurrent runs: the pool's `concurrency_limit` (claims.py holds the rest as
  "AwaitingConcurrencySlot");
- `max_run_seconds`: a run active longer is stopped and CRASHED, "exceeded the pool's 1 h
  limit";
- `cpu_hours_per_day`: once the pool's runs used that many vCPU-hours since 00:00 UTC,
  due runs wait as "AwaitingQuota" until the next day.

Everything is read from the store on each pass: no process remembers anything.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, or_, select

from control_plane import attempts, runs
from control_plane.attempts import ref_of
from control_plane.columns import utcnow
from control_plane.db import read_only
from control_plane.errors import InvalidInputError
from control_plane.models import Deployment, FlowRun, Pool
from push_pools.managed import SIZES, ManagedJob
from runtime.states import State, StateType

log = logging.getLogger("pushflow.managed")

AWAITING_QUOTA = "AwaitingQuota"


def check_author_variables(adapter_cls: Any, *layers: Mapping[str, Any]) -> None:
    """A deployment or run on a managed pool may set only what authors own."""
    allowed = getattr(adapter_cls, "author_variables", None)
    if allowed is None:
        return
    for layer in layers:
        extra = sorted(set(layer) - allowed)
        if extra:
            raise InvalidInputError(
                f"job variable(s) {', '.join(extra)} belong to the managed pool's operator; "
                f"a deployment or run may set only {', '.join(sorted(allowed))}"
            )


def describe_seconds(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600:g} h"
    if seconds % 60 == 0:
        return f"{seconds // 60:g} min"
    return f"{seconds:g} s"


def _managed_pools(session: Session) -> list[tuple[Pool, ManagedJob]]:
    pools = session.exec(select(Pool).where(Pool.type == "managed")).all()
    return [(pool, ManagedJob.model_validate(pool.defaults)) for pool in pools]


# Run time ------------------------------------------------------------------------------


def enforce_run_time_limits(services: Any) -> int:
    """Crash and stop runs of managed pools active past their pool's `max_run_seconds`.
    The provider is called outside any transaction: no database lock waits on a cloud API."""
    now = utcnow()
    overdue: list[tuple[FlowRun, str, int]] = []
    with Session(read_only(services.engine), expire_on_commit=False) as session:
        for pool, job in _managed_pools(session):
            if job.max_run_seconds is None:
                continue
            cutoff = now - timedelta(seconds=job.max_run_seconds)
            found = session.exec(
                select(FlowRun).where(
                    FlowRun.pool == pool.name,
                    col(FlowRun.state_type).in_([StateType.RUNNING, StateType.CANCELLING]),
                    col(FlowRun.start_time) < cutoff,
                )
            ).all()
            overdue += [(run, pool.name, job.max_run_seconds) for run in found]
    if not overdue:
        return 0
    # Crash first, then stop: a stopped runtime reports its own SIGTERM at once, and the
    # run must end saying why the pool stopped it.
    crashed = 0
    with Session(services.engine, expire_on_commit=False) as session:
        for run, pool_name, seconds in overdue:
            current = session.get(FlowRun, run.id)
            if current is None:
                continue
            limit = describe_seconds(seconds)
            message = f"exceeded the pool's {limit} limit (pool {pool_name!r} stops runs after {limit})"
            result = runs.set_state(session, current, State(StateType.CRASHED, message=message))
            crashed += result.status == "ACCEPT"
        session.commit()
    for run, _, _ in overdue:
        _stop(services, run)
    return crashed


def _stop(services: Any, run: FlowRun) -> None:
    if not run.infra_id:
        return
    with Session(services.engine) as session:
        attempt = attempts.latest(session, [run.id]).get(run.id)
    if attempt is None:
        return
    try:
        services.adapters.get("managed").cancel(ref_of(attempt), grace=services.settings.cancel_grace)
    except Exception:  # crash it anyway; the reconciler keeps asking about its infrastructure
        log.exception("stopping run %s past its pool's time limit failed", run.id)


# CPU-hours -----------------------------------------------------------------------------


def pools_over_daily_quota(session: Session, now: datetime) -> dict[str, str]:
    """Managed pools whose runs used their `cpu_hours_per_day` today, with why."""
    held: dict[str, str] = {}
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for pool, job in _managed_pools(session):
        if job.cpu_hours_per_day is None:
            continue
        used = _cpu_hours_since(session, pool, job, midnight, now)
        if used >= job.cpu_hours_per_day:
            held[pool.name] = (
                f"waiting: pool {pool.name!r} used its {job.cpu_hours_per_day:g} CPU-hours for today "
                f"({used:.3g} used); runs start again after 00:00 UTC"
            )
    return held


def _cpu_hours_since(session: Session, pool: Pool, job: ManagedJob, since: datetime, now: datetime) -> float:
    rows = session.exec(
        select(FlowRun, Deployment)
        .join(Deployment, col(Deployment.id) == col(FlowRun.deployment_id), isouter=True)
        .where(
            FlowRun.pool == pool.name,
            col(FlowRun.start_time).is_not(None),
            or_(col(FlowRun.end_time).is_(None), col(FlowRun.end_time) >= since),
        )
    ).all()
    total = 0.0
    for run, deployment in rows:
        size = run.job_variables.get("size") or (deployment.job_variables if deployment else {}).get("size") or job.size
        vcpus = SIZES[job.inner].get(size, SIZES[job.inner][job.size])[0]
        if run.start_time is None:
            continue
        start = max(run.start_time, since)
        end = run.end_time or now
        total += max((end - start).total_seconds(), 0.0) / 3600 * vcpus
    return total


def mark_awaiting_quota(session: Session, now: datetime, held: dict[str, str]) -> None:
    """Due runs of a pool over its quota say so, instead of merely looking late."""
    for pool_name, reason in held.items():
        ids = list(
            session.exec(
                select(FlowRun.id).where(
                    FlowRun.pool == pool_name,
                    FlowRun.state_type == StateType.SCHEDULED,
                    col(FlowRun.expected_start_time) <= now,
                    FlowRun.state_name != AWAITING_QUOTA,
                )
            )
        )
        if ids:
            state = State(StateType.SCHEDULED, name=AWAITING_QUOTA, message=reason)
            runs.transition_many(session, ids, StateType.SCHEDULED, None, state)
