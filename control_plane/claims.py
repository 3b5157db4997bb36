"""Claiming due runs: the step that makes dispatch exactly-once.

A claim moves a batch of due runs SCHEDULED -> PENDING "Submitting" in one transaction,
before any adapter is called. On PostgreSQL the candidates are locked with
`FOR UPDATE SKIP LOCKED`, so concurrent dispatchers (server processes, Lambda
invocations) take disjoint batches without waiting on each other; on SQLite the
transaction holds the write lock (BEGIN IMMEDIATE). The update itself is a
compare-and-set on the state, so a run is claimed by at most one dispatcher.

Runs of paused pools or deployments are not candidates. Runs beyond a pool's or a
deployment's concurrency limit stay SCHEDULED as "AwaitingConcurrencySlot"; counting
the active runs is serialised per limited pool/deployment by locking its row.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy import select as select_columns
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from control_plane.auth import derive_run_token
from control_plane.managed import mark_awaiting_quota, pools_over_daily_quota
from control_plane.models import Deployment, FlowRun, Pool
from control_plane.orchestration import policy
from control_plane.orchestration.policy import AWAITING_SLOT, CLAIMED
from control_plane.orchestration.rules import ACTIVE_TYPES
from control_plane.runs import EVENT_COLUMNS, transition_many
from runtime.states import State, StateType


@dataclasses.dataclass(frozen=True)
class ClaimedRun:
    """What submitting a claimed run needs to know of it (a plain record: the hot path
    builds no ORM objects)."""

    id: str
    flow_name: str
    pool: str | None
    deployment_id: str | None
    job_variables: dict[str, Any]
    dispatch_count: int  # this submission's attempt number

    @classmethod
    def of(cls, run: Any) -> ClaimedRun:
        return cls(run.id, run.flow_name, run.pool, run.deployment_id, run.job_variables or {}, run.dispatch_count)


@dataclasses.dataclass(frozen=True)
class Claim:
    run: ClaimedRun
    token: str  # the run token handed to its infrastructure


# A candidate's columns: those its transition event needs, and those its submission needs.
_CANDIDATE_COLUMNS = [*EVENT_COLUMNS, col(FlowRun.state_message), col(FlowRun.job_variables)]


def claim_due(
    session: Session, now: datetime, limit: int, server_secret: str, *, run_ids: Sequence[str] | None = None
) -> list[Claim]:
    """Claim up to `limit` due runs (only among `run_ids` when given); the caller
    commits, then submits them."""
    postgres = session.get_bind().dialect.name == "postgresql"
    limits, managed = session.execute(_FEATURES).one()  # one query, not one per feature
    over_quota: dict[str, str] = {}
    if managed:
        over_quota = pools_over_daily_quota(session, now)  # managed pools' CPU-hours per day
        mark_awaiting_quota(session, now, over_quota)
    held_pools, held_deployments = _held()
    if limits:
        _mark_waiting_at_limit(session, now, held_pools, held_deployments)
    query = (
        select_columns(*_CANDIDATE_COLUMNS)
        .where(
            col(FlowRun.state_type) == StateType.SCHEDULED,
            col(FlowRun.expected_start_time) <= now,
            col(FlowRun.pool).not_in(held_pools),
            col(FlowRun.pool).not_in(list(over_quota)),
            or_(col(FlowRun.deployment_id).is_(None), col(FlowRun.deployment_id).not_in(held_deployments)),
        )
        .order_by(col(FlowRun.expected_start_time))
        .limit(limit)
    )
    if run_ids is not None:
        query = query.where(col(FlowRun.id).in_(list(run_ids)))
    if postgres:
        query = query.with_for_update(skip_locked=True, of=FlowRun)  # type: ignore[arg-type]
    candidates = list(session.execute(query))
    if not candidates:
        return []
    if not limits:
        return _claim(session, candidates, server_secret)
    admitted, waiting = _admit(session, candidates, postgres)
    if waiting:
        _mark_waiting(session, waiting)
    return _claim(session, admitted, server_secret)


# Whether any pool or deployment has a concurrency limit, and whether any pool is managed
# (CPU-hours quota): most stores have neither, and a dispatch batch then skips their queries.
_FEATURES = select_columns(
    or_(
        select_columns(col(Pool.name)).where(col(Pool.concurrency_limit).is_not(None)).exists(),
        select_columns(col(Deployment.id)).where(col(Deployment.concurrency_limit).is_not(None)).exists(),
    ),
    select_columns(col(Pool.name)).where(col(Pool.type) == "managed").exists(),
)


@functools.cache
def _held() -> tuple[Any, Any]:
    """SQL: the pools and the deployments whose runs are held (paused, or at their
    concurrency limit). Built once: building them (an aliased FlowRun each) cost more
    per dispatch batch than running them."""
    pools = select(Pool.name).where(or_(col(Pool.paused).is_(True), _at_limit(Pool, FlowRun.pool, Pool.name)))
    deployments = select(Deployment.id).where(
        or_(col(Deployment.paused).is_(True), _at_limit(Deployment, FlowRun.deployment_id, Deployment.id))
    )
    return pools, deployments


def _at_limit(table: Any, run_column: Any, key: Any) -> Any:
    """SQL: this pool/deployment has a limit and as many active runs as it allows."""
    other = aliased(FlowRun)
    active = (
        select(func.count())
        .select_from(other)
        .where(
            getattr(other, run_column.key) == key,
            col(other.state_type).in_(ACTIVE_TYPES),
            col(other.parent_flow_run_id).is_(None),  # subflows run inside their parent: no slot
        )
        .scalar_subquery()
    )
    return and_(col(table.concurrency_limit).is_not(None), active >= table.concurrency_limit)


def _mark_waiting_at_limit(session: Session, now: datetime, held_pools: Any, held_deployments: Any) -> None:
    """Due runs held back by a full pool or deployment say so (not merely "Late")."""
    due = select(FlowRun.id).where(
        FlowRun.state_type == StateType.SCHEDULED,
        col(FlowRun.expected_start_time) <= now,
        FlowRun.state_name != AWAITING_SLOT,
    )
    pools_at_limit = held_pools.where(col(Pool.paused).is_(False))
    deps_at_limit = held_deployments.where(col(Deployment.paused).is_(False))
    for reason, query in (
        ("its pool is at its concurrency limit", due.where(col(FlowRun.pool).in_(pools_at_limit))),
        ("its deployment is at its concurrency limit", due.where(col(FlowRun.deployment_id).in_(deps_at_limit))),
    ):
        ids = list(session.exec(query.limit(1000)))
        if ids:
            state = policy.waiting_for_slot(reason)
            transition_many(session, ids, StateType.SCHEDULED, None, state, skip_locked=True)


def _admit(session: Session, candidates: list[Any], postgres: bool) -> tuple[list[Any], list[tuple[Any, str]]]:
    """Split candidates into those with a free slot and those that must wait (with why)."""
    pool_names = sorted({r.pool for r in candidates if r.pool})
    deployment_ids = sorted({r.deployment_id for r in candidates if r.deployment_id})
    pool_q = select(Pool).where(col(Pool.name).in_(pool_names), col(Pool.concurrency_limit).is_not(None))
    dep_q = select(Deployment).where(
        col(Deployment.id).in_(deployment_ids), col(Deployment.concurrency_limit).is_not(None)
    )
    if postgres:  # serialise counting per limited pool/deployment; always pools first, by key
        pool_q = pool_q.order_by(col(Pool.name)).with_for_update()
        dep_q = dep_q.order_by(col(Deployment.id)).with_for_update()
    pool_limits = {p.name: p.concurrency_limit for p in session.exec(pool_q)}
    dep_limits = {d.id: d.concurrency_limit for d in session.exec(dep_q)}
    if not pool_limits and not dep_limits:
        return candidates, []
    pool_used = _active_counts(session, FlowRun.pool, list(pool_limits))
    dep_used = _active_counts(session, FlowRun.deployment_id, list(dep_limits))
    admitted: list[Any] = []
    waiting: list[tuple[Any, str]] = []
    for run in candidates:
        pool_limit = pool_limits.get(run.pool or "")
        dep_limit = dep_limits.get(run.deployment_id or "")
        if pool_limit is not None and pool_used[run.pool] >= pool_limit:
            waiting.append((run, f"pool {run.pool!r} is at its concurrency limit ({pool_limit} active runs)"))
        elif dep_limit is not None and dep_used[run.deployment_id] >= dep_limit:
            waiting.append((run, f"the deployment is at its concurrency limit ({dep_limit} active runs)"))
        else:
            pool_used[run.pool] += 1
            dep_used[run.deployment_id] += 1
            admitted.append(run)
    return admitted, waiting


def _active_counts(session: Session, column: object, keys: list[str]) -> Counter:
    if not keys:
        return Counter()
    rows = session.exec(
        select(column, func.count())  # type: ignore[call-overload]
        .where(
            col(column).in_(keys), col(FlowRun.state_type).in_(ACTIVE_TYPES), col(FlowRun.parent_flow_run_id).is_(None)
        )  # type: ignore[arg-type]
        .group_by(column)
    )
    return Counter({key: count for key, count in rows})


def _mark_waiting(session: Session, waiting: list[tuple[Any, str]]) -> None:
    by_reason: dict[str, list[str]] = {}
    for run, reason in waiting:
        if run.state_name != AWAITING_SLOT or run.state_message != reason:
            by_reason.setdefault(reason, []).append(run.id)
    for reason, ids in by_reason.items():
        state = policy.waiting_for_slot(reason)
        transition_many(session, ids, StateType.SCHEDULED, None, state, skip_locked=True)


def _claim(session: Session, runs: Sequence[Any], server_secret: str) -> list[Claim]:
    """One UPDATE moves the locked candidates to PENDING "Submitting" and stores each
    one's run-token hash (derived from the attempt number it is about to get)."""
    tokens = {run.id: derive_run_token(server_secret, run.id, run.dispatch_count + 1) for run in runs}
    if not tokens:
        return []
    moved = set(
        transition_many(
            session,
            list(tokens),
            StateType.SCHEDULED,
            None,
            State(StateType.PENDING, name=CLAIMED),
            locked=runs,
            dispatch_count=FlowRun.dispatch_count + 1,  # type: ignore[operator]
            infra_provider=None,
            infra_id=None,
            infra_console_url=None,
            heartbeat_time=None,
            per_row={"token_hash": {i: h for i, (_, h) in tokens.items()}},
        )
    )
    return [
        Claim(
            ClaimedRun(run.id, run.flow_name, run.pool, run.deployment_id, run.job_variables, run.dispatch_count + 1),
            tokens[run.id][0],
        )
        for run in runs
        if run.id in moved
    ]
