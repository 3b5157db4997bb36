"""The reconcile pass: makes the store agree with the world, so no run hangs.

- asks pools about runs whose infrastructure may be alive: infrastructure that ended
  without a final report -> CRASHED with the provider's reason (or, before the run
  started, an infrastructure retry when the provider says the failure is retryable);
- stops the infrastructure of runs being cancelled (once: `cancel_sent_time` records
  that the stop was sent), then -> CANCELLED;
- RUNNING runs whose heartbeats stopped past the timeout -> CRASHED, with the reason;
- due runs not started after `late_after` -> SCHEDULED "Late" (still runnable);
- runs a dispatcher claimed but never handed over (it crashed) -> submitted again.

It reaches each run's infrastructure through its latest attempt's ref (id + locator, see
attempts.py), reading many at once where the adapter can (ECS: 100 tasks per call).

Stateless: everything it knows is in the store, so any number of processes may run it.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from control_plane import attempts, runs
from control_plane.attempts import Attempt, ref_of
from control_plane.columns import utcnow
from control_plane.managed import enforce_run_time_limits
from control_plane.models import Deployment, FlowRun
from control_plane.orchestration import policy
from control_plane.passes.dispatch import resubmit_stranded, retry_or_crash
from control_plane.services import Services
from push_pools.base import BatchedStatus, InfraRef, InfraStatus, PushPool
from push_pools.errors import PushPoolError
from runtime.states import State, StateType

log = logging.getLogger("pushflow.reconciler")


def reconcile(services: Services, *, deadline: float | None = None) -> int:
    """One pass; returns how many runs changed state. Stops between runs at `deadline`
    (a `time.monotonic()` value); the next pass carries on."""
    changed = 0
    steps = (
        resubmit_stranded,
        enforce_run_time_limits,  # managed pools' max_run_seconds
        mark_late,
        crash_silent_runs,
        finish_cancels_without_infrastructure,
    )
    for step in steps:
        try:
            changed += step(services)
        except Exception:  # one failing step must not stop the others, nor the per-run checks
            log.exception("reconcile step %s failed", step.__name__)
    changed += watch_infrastructure(services, deadline=deadline)
    return changed


def watch_infrastructure(services: Services, *, deadline: float | None = None) -> int:
    """Ask each pool about the current attempt of every run whose infrastructure may be
    alive (sending pending cancels first); returns how many runs changed state."""
    with Session(services.engine, expire_on_commit=False) as session:
        watched = list(runs.active_runs(session))
        current = attempts.latest(session, [r.id for r in watched])
    by_kind: dict[str, list[tuple[FlowRun, Attempt]]] = {}
    for run in watched:
        attempt = current.get(run.id)
        if attempt is not None and attempt.infra_id == run.infra_id:
            by_kind.setdefault(attempt.provider, []).append((run, attempt))
    changed = 0
    for kind, members in by_kind.items():
        if deadline is not None and time.monotonic() >= deadline:
            break
        try:
            adapter = services.adapters.get(kind)
            for run, attempt in members:
                send_cancel(services, run, ref_of(attempt))
            statuses = _statuses(adapter, [ref_of(a) for _, a in members])
        except (PushPoolError, KeyError) as exc:  # the provider is unreachable: try next pass
            log.warning("cannot check %d %s run(s): %s", len(members), kind, exc)
            continue
        for run, attempt in members:
            try:
                changed += _reconcile_run(services, run, attempt, statuses.get(attempt.infra_id))
            except Exception:  # one broken run must not stop the pass for the others
                log.exception("reconciling run %s failed", run.id)
    return changed


def _statuses(adapter: PushPool[Any], refs: list[InfraRef]) -> dict[str, InfraStatus]:
    if isinstance(adapter, BatchedStatus):
        out: dict[str, InfraStatus] = {}
        for start in range(0, len(refs), adapter.max_batch):
            out.update(adapter.statuses(refs[start : start + adapter.max_batch]))
        return out
    return {ref.id: adapter.status(ref) for ref in refs}


def mark_late(services: Services) -> int:
    late_after = services.settings.late_after
    cutoff = utcnow() - timedelta(seconds=late_after)
    with Session(services.engine, expire_on_commit=False) as session:
        ids = session.exec(
            select(FlowRun.id)
            .where(
                FlowRun.state_type == StateType.SCHEDULED,
                FlowRun.state_name == policy.SCHEDULED,
                col(FlowRun.expected_start_time) < cutoff,
            )
            .limit(1000)
        ).all()
        state = policy.late(late_after)
        moved = runs.transition_many(session, ids, StateType.SCHEDULED, [policy.SCHEDULED], state, skip_locked=True)
        session.commit()
    return len(moved)


def crash_silent_runs(services: Services) -> int:
    """RUNNING runs that heartbeated, then stopped: stop their infrastructure; CRASHED, or
    re-submitted if the deployment allows crash retries."""
    timeout = services.settings.heartbeat_timeout
    cutoff = utcnow() - timedelta(seconds=timeout)
    changed = 0
    with Session(services.engine, expire_on_commit=False) as session:
        silent = session.exec(
            select(FlowRun).where(
                FlowRun.state_type == StateType.RUNNING,
                col(FlowRun.heartbeat_time).is_not(None),
                col(FlowRun.heartbeat_time) < cutoff,
            )
        ).all()
        crashed: list[tuple[str, InfraRef]] = []
        current = attempts.latest(session, [r.id for r in silent])
        for run in silent:
            last = run.heartbeat_time.isoformat(timespec="seconds") if run.heartbeat_time else "never"
            attempt = current.get(run.id)
            ref = ref_of(attempt) if attempt is not None and attempt.infra_id == run.infra_id else None
            outcome = policy.after_crash(policy.silent_run(timeout, last), *_crash_budget(session, run))
            if runs.apply_outcome(session, run, outcome).status == "ACCEPT":
                changed += 1
                if ref is not None:
                    crashed.append((run.id, ref))
        session.commit()
    for run_id, ref in crashed:
        _stop_infrastructure(services, run_id, ref)
    return changed


def finish_cancels_without_infrastructure(services: Services) -> int:
    """CANCELLING runs that never got infrastructure (cancelled mid-submit, and the
    submit failed or its dispatcher stopped): nothing to stop -> CANCELLED."""
    cutoff = utcnow() - timedelta(seconds=services.settings.submit_timeout)
    with Session(services.engine, expire_on_commit=False) as session:
        ids = session.exec(
            select(FlowRun.id).where(
                FlowRun.state_type == StateType.CANCELLING,
                col(FlowRun.infra_id).is_(None),
                col(FlowRun.state_timestamp) < cutoff,
            )
        ).all()
        state = State(StateType.CANCELLED, message="cancelled; it never got infrastructure")
        moved = runs.transition_many(session, ids, StateType.CANCELLING, None, state, skip_locked=True)
        session.commit()
    return len(moved)


def send_cancel(services: Services, run: FlowRun, ref: InfraRef | None = None) -> bool:
    """Ask the pool to stop a CANCELLING run's infrastructure, once across all processes:
    `cancel_sent_time` is set with a compare-and-set before the call (and cleared again if
    the provider could not be reached, so a later pass retries). True if this call sent it.
    `ref`: the run's current attempt's, when the caller has it."""
    if run.state_type is not StateType.CANCELLING or not run.infra_id or run.cancel_sent_time is not None:
        return False
    ref = ref or _current_ref(services, run)
    if ref is None:
        return False
    with Session(services.engine) as session:
        taken = session.execute(
            update(FlowRun)
            .where(
                col(FlowRun.id) == run.id,
                col(FlowRun.state_type) == StateType.CANCELLING,
                col(FlowRun.infra_id) == run.infra_id,
                col(FlowRun.cancel_sent_time).is_(None),
            )
            .values(cancel_sent_time=utcnow())
        )
        session.commit()
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return False  # another process sent it
    try:
        services.adapters.get(ref.provider).cancel(ref, grace=services.settings.cancel_grace)
    except Exception:
        with Session(services.engine) as session:
            session.execute(update(FlowRun).where(col(FlowRun.id) == run.id).values(cancel_sent_time=None))
            session.commit()
        raise
    return True


def cancel_now(services: Services, run_id: str) -> None:
    """The API's cancel path: ask the pool to stop the run's infrastructure in this
    request (never failing it: a stop not sent here is sent by the next pass)."""
    if not services.settings.dispatch_on_trigger:
        return
    try:
        with Session(services.engine, expire_on_commit=False) as session:
            run = session.get(FlowRun, run_id)
        if run is not None:
            send_cancel(services, run)
    except Exception:
        log.exception("sending the cancel of run %s failed; the next pass will", run_id)


def _stop_infrastructure(services: Services, run_id: str, ref: InfraRef) -> None:
    try:
        services.adapters.get(ref.provider).cancel(ref, grace=services.settings.cancel_grace)
    except (PushPoolError, KeyError) as exc:
        log.warning("cannot stop the infrastructure of run %s: %s", run_id, exc)


def _crash_budget(session: Session, run: FlowRun) -> tuple[int, int, float]:
    """(crash retries used, allowed, delay) for `run`, from its deployment."""
    deployment = session.get(Deployment, run.deployment_id) if run.deployment_id else None
    if deployment is None:
        return runs.crash_retries_used(run), 0, 0.0
    return runs.crash_retries_used(run), deployment.retries, deployment.retry_delay_seconds


def _current_ref(services: Services, run: FlowRun) -> InfraRef | None:
    """The run's latest attempt's ref: its infrastructure, with the locator to reach it."""
    with Session(services.engine) as session:
        attempt = attempts.latest(session, [run.id]).get(run.id)
    return ref_of(attempt) if attempt is not None and attempt.infra_id == run.infra_id else None


def _reconcile_run(services: Services, run: FlowRun, attempt: Attempt, status: InfraStatus | None) -> int:
    if status is None or not status.ended:
        return 0
    with Session(services.engine, expire_on_commit=False) as session:
        if attempt.id is not None:
            attempts.mark_ended(session, attempt.id, status)
        current = session.get(FlowRun, run.id)
        if current is None or current.state_type.is_terminal or current.infra_id != run.infra_id:
            session.commit()
            return 0  # it reported its final state itself, or moved on to new infrastructure
        changed = _after_infrastructure_ended(services, session, current, status)
        session.commit()
        return changed


def _after_infrastructure_ended(services: Services, session: Session, run: FlowRun, status: InfraStatus) -> int:
    reason = status.reason or f"infrastructure {status.phase.value}"
    if run.state_type is StateType.PENDING and status.retryable:
        # The flow never started: a provider failure (capacity, spot) is worth another try.
        retry_or_crash(session, services.settings, run, reason, retryable=True)
        return 1
    used, allowed, delay = _crash_budget(session, run)
    outcome = policy.after_infrastructure_ended(
        run.state_type, reason=reason, crash_retries_used=used, crash_retries=allowed, delay=delay
    )
    return 1 if runs.apply_outcome(session, run, outcome).status == "ACCEPT" else 0
