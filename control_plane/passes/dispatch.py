"""The dispatch pass: claim due runs (see claims.py: SCHEDULED -> PENDING before any
adapter is called, so no two dispatchers submit one run), then hand each to its pool's
adapter with a provider idempotency token derived from the run id and attempt.

A retryable provider error (throttling, capacity) sends the run back to SCHEDULED with
backoff, within a budget; after that, or on any other error, the run is CRASHED with the
provider's message. These infrastructure retries are separate from the flow's retries."""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from control_plane import attempts, runs
from control_plane.auth import derive_run_token
from control_plane.blocks import keyring_for, references
from control_plane.claims import Claim, ClaimedRun, claim_due
from control_plane.columns import utcnow
from control_plane.errors import ServiceUnavailableError
from control_plane.id_sets import id_in, is_postgres, per_row_values
from control_plane.models import Deployment, FlowRun, Pool
from control_plane.orchestration import policy
from control_plane.orchestration.policy import CLAIMED, INFRA_PENDING, RESUBMITTING
from control_plane.services import Services
from control_plane.settings import Settings
from push_pools.base import InfraPhase, InfraRef, InfraStatus, RunSpec, parse_job
from push_pools.errors import JobConfigError, ProviderUnavailableError, PushPoolError
from runtime.states import State, StateType

log = logging.getLogger("pushflow.dispatcher")


def dispatch_due(
    services: Services, *, limit: int | None = None, max_batches: int = 50, deadline: float | None = None
) -> int:
    """Claim and submit every run that is due now (batch by batch); return how many.
    Stops between batches at `deadline` (a `time.monotonic()` value)."""
    batch = limit or services.settings.dispatch_batch
    total = 0
    for _ in range(max_batches):
        if deadline is not None and time.monotonic() >= deadline:
            break
        with Session(services.engine, expire_on_commit=False) as session:
            claims = claim_due(session, utcnow(), batch, services.run_token_secret)
            context = _load_context(session, claims) if claims else None
            session.commit()
        if claims:
            submit_all(services, claims, context)
        total += len(claims)
        if len(claims) < batch:
            break
    return total


def dispatch_run(services: Services, run_id: str) -> bool:
    """Claim and submit one run now, if it is due and its pool and deployment have room
    (the API calls this when it creates a run, so no loop is needed to start it). Returns
    once the provider accepted the submission; False if the run was not claimable (not
    due, held by a limit, or claimed by someone else)."""
    with Session(services.engine, expire_on_commit=False) as session:
        claims = claim_due(session, utcnow(), 1, services.run_token_secret, run_ids=[run_id])
        context = _load_context(session, claims) if claims else None
        session.commit()
    if not claims:
        return False
    submit_all(services, claims, context)
    return True


def dispatch_now(services: Services, run: FlowRun) -> bool:
    """The API's trigger path: submit a run that is due now in this request (never
    failing the request: a run not submitted here is picked up by the next pass). False
    when the run was left alone (not due, or dispatch on trigger is off): it is unchanged."""
    if not services.settings.dispatch_on_trigger or run.state_type is not StateType.SCHEDULED:
        return False
    if run.expected_start_time is not None and run.expected_start_time > utcnow():
        return False
    try:
        dispatch_run(services, run.id)
    except Exception:
        log.exception("dispatching run %s on trigger failed; the next pass will", run.id)
    services.wake(full=False)
    return True


Context = tuple[dict[str, Pool], dict[str, Deployment]]


def submit_all(services: Services, claims: list[Claim], context: Context | None = None) -> None:
    """Submit claimed runs (concurrently: cloud APIs are slow), then record where each went.
    `context`: their pools and deployments, when the claim's transaction read them already."""
    if context is None:
        with Session(services.engine, expire_on_commit=False) as session:
            context = _load_context(session, claims)
    outcomes = _submit_each(services, claims, *context)
    submitted = [(c.run.id, ref) for c, ref in zip(claims, outcomes, strict=True) if isinstance(ref, InfraRef)]
    failed = [(c.run, err) for c, err in zip(claims, outcomes, strict=True) if isinstance(err, PushPoolError)]
    numbers = {c.run.id: c.run.dispatch_count for c in claims}
    with Session(services.engine, expire_on_commit=False) as session:
        attempts.record(session, [(i, numbers[i], ref) for i, ref in submitted])
        record_infrastructure(session, submitted)
        for run, error in failed:
            if error.ref is not None:  # it left something behind (a Cloud Run job whose
                # create failed): an attempt that has already ended, for the release pass
                ended = InfraStatus(InfraPhase.EXITED, reason=str(error))
                attempts.record(session, [(run.id, run.dispatch_count, error.ref)], ended=ended)
            current = session.get(FlowRun, run.id)
            if current is not None:
                retry_or_crash(session, services.settings, current, str(error), retryable=error.retryable)
        session.commit()


def _submit_each(
    services: Services, claims: list[Claim], pools: dict[str, Pool], deployments: dict[str, Deployment]
) -> list[InfraRef | PushPoolError]:
    """Each claim's outcome, in order. Up to `submit_concurrency` threads each take the next
    claim until none is left: one task per thread rather than one future per run, whose
    hand-off cost as much as a no-op submit (a batch is hundreds of runs)."""
    if len(claims) == 1:
        return [_submit(services, claims[0], pools, deployments)]
    outcomes: list[InfraRef | PushPoolError | None] = [None] * len(claims)
    left = collections.deque(enumerate(claims))  # popleft is thread-safe

    def work() -> None:
        while True:
            try:
                n, claim = left.popleft()
            except IndexError:
                return
            outcomes[n] = _submit(services, claim, pools, deployments)

    workers = min(services.settings.submit_concurrency, len(claims))
    for future in [services.submit_executor.submit(work) for _ in range(workers)]:
        future.result()
    return [outcome for outcome in outcomes if outcome is not None]  # every one is set


def _load_context(session: Session, claims: list[Claim]) -> Context:
    """The claimed runs' pools and deployments (read in the claim's own transaction by
    the dispatch pass: no second session and round trips per batch)."""
    names = {c.run.pool for c in claims if c.run.pool}
    ids = {c.run.deployment_id for c in claims if c.run.deployment_id}
    pools = {p.name: p for p in session.exec(select(Pool).where(col(Pool.name).in_(names)))}
    deps = {d.id: d for d in session.exec(select(Deployment).where(col(Deployment.id).in_(ids)))}
    return pools, deps


def _submit(
    services: Services, claim: Claim, pools: dict[str, Pool], deployments: dict[str, Deployment]
) -> InfraRef | PushPoolError:
    run = claim.run
    try:
        pool = pools.get(run.pool or "")
        if pool is None:
            raise PushPoolError(f"pool {run.pool!r} no longer exists; create it or redeploy to another pool")
        adapter = services.adapters.get(pool.type)
        deployment = deployments.get(run.deployment_id or "")
        layers = (pool.defaults, deployment.job_variables if deployment else {}, run.job_variables)
        job = parse_job(adapter.Job, *_with_blocks(services, layers))
        spec = RunSpec(
            run_id=run.id,
            attempt=run.dispatch_count,
            env={"PUSHFLOW_FLOW_RUN_ID": run.id, "PUSHFLOW_API_URL": services.settings.callback_api_url},
            secret_env={"PUSHFLOW_RUN_TOKEN": claim.token},
            labels={"pushflow.flow": run.flow_name, "pushflow.flow-run": run.id},
        )
        return adapter.submit(spec, job, timeout=services.settings.submit_timeout)
    except PushPoolError as exc:
        log.warning("submitting run %s to pool %r failed: %s", run.id, run.pool, exc)
        return exc
    except Exception as exc:  # an adapter bug must not leave the run claimed forever
        log.exception("submitting run %s failed unexpectedly", run.id)
        return PushPoolError(f"{type(exc).__name__}: {exc}")


def record_infrastructure(session: Session, submitted: list[tuple[str, InfraRef]]) -> None:
    """Write where each run went, and move the ones still "Submitting" to
    "InfrastructurePending" (a runtime that already reported RUNNING keeps its state).
    One UPDATE for the batch (each run its own values: id_sets.py), and a second only
    for runs that had moved on already."""
    if not submitted:
        return

    def infra(pairs: list[tuple[str, InfraRef]]) -> dict[str, dict[str, str | None]]:
        return {
            "infra_provider": {i: r.provider for i, r in pairs},
            "infra_id": {i: r.id for i, r in pairs},
            "infra_console_url": {i: r.console_url for i, r in pairs},
        }

    ids = [i for i, _ in submitted]
    state = State(StateType.PENDING, name=INFRA_PENDING)
    moved = set(
        runs.transition_many(session, ids, StateType.PENDING, [CLAIMED, RESUBMITTING], state, per_row=infra(submitted))
    )
    rest = [(i, r) for i, r in submitted if i not in moved]
    if rest:
        postgres = is_postgres(session)
        rest_ids = [i for i, _ in rest]
        values, joined = per_row_values(col(FlowRun.id), rest_ids, infra(rest), postgres)
        where = joined if joined is not None else id_in(col(FlowRun.id), rest_ids, postgres)
        statement = update(FlowRun).where(where).values(**values)
        session.execute(statement.execution_options(synchronize_session=False))


def retry_or_crash(session: Session, settings: Settings, run: FlowRun, reason: str, *, retryable: bool) -> bool:
    """After the provider failed a run's infrastructure (orchestration/policy.py decides):
    back to SCHEDULED with backoff, or CRASHED with the provider's message. Returns True
    when the run was rescheduled."""
    outcome = policy.after_submit_error(
        reason,
        retryable=retryable,
        pool=run.pool,
        retries_used=run.infra_retries,
        budget=settings.infra_retries,
        base=settings.infra_retry_backoff,
        cap=settings.infra_retry_backoff_cap,
    )
    extra = {"infra_retries": run.infra_retries + 1} if outcome.resubmits else {}
    result = runs.apply_outcome(session, run, outcome, **extra)
    return outcome.resubmits and result.status == "ACCEPT"


def resubmit_stranded(services: Services) -> int:
    """Runs claimed by a dispatcher that stopped before recording their infrastructure
    (a crash between claim and submit): take each over with a compare-and-set and submit
    again with the same token and idempotency token, so the provider starts it at most once."""
    cutoff = utcnow() - timedelta(seconds=services.settings.submit_timeout)
    claims: list[Claim] = []
    with Session(services.engine, expire_on_commit=False) as session:
        stranded = session.exec(
            select(FlowRun)
            .where(
                FlowRun.state_type == StateType.PENDING,
                col(FlowRun.state_name).in_([CLAIMED, RESUBMITTING]),
                col(FlowRun.infra_id).is_(None),
                col(FlowRun.state_timestamp) < cutoff,
            )
            .limit(services.settings.dispatch_batch)
        ).all()
        for run in stranded:
            state = State(StateType.PENDING, name=RESUBMITTING, message="its dispatcher stopped mid-submit")
            if runs.set_state(session, run, state).status == "ACCEPT":
                claims.append(Claim(ClaimedRun.of(run), _token_of(services, run)))
        session.commit()
    if claims:
        submit_all(services, claims)
    return len(claims)


def _token_of(services: Services, run: FlowRun) -> str:
    return derive_run_token(services.run_token_secret, run.id, run.dispatch_count)[0]


def _with_blocks(services: Services, layers: tuple[Mapping[str, Any], ...]) -> list[Mapping[str, Any]]:
    """Job variables with their `{"$block": ...}` references resolved, here at submit only."""
    if not any(references.has_references(layer) for layer in layers):
        return list(layers)
    try:
        return references.resolve_layers(services.engine, keyring_for(services.settings), *layers)
    except references.BlockReferenceError as exc:
        raise JobConfigError(str(exc)) from None
    except ServiceUnavailableError as exc:  # AWS KMS unreachable or throttling: back off, retry
        raise ProviderUnavailableError(exc.detail) from None
