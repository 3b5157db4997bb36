"""The reconciler: makes the store agree with the world, so no run hangs.

- asks pools about runs whose infrastructure may be alive: infrastructure that ended
  without a final report -> CRASHED with the provider's reason (or, before the run
  started, an infrastructure retry when the provider says the failure is retryable);
- stops the infrastructure of runs being cancelled, then -> CANCELLED;
- RUNNING runs whose heartbeats stopped past the timeout -> CRASHED, with the reason;
- due runs not started after `late_after` -> SCHEDULED "Late" (still runnable);
- runs a dispatcher claimed but never handed over (it crashed) -> submitted again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session, col, select

from control_plane import runs
from control_plane.columns import utcnow
from control_plane.dispatcher import resubmit_stranded, retry_or_crash
from control_plane.models import FlowRun
from control_plane.orchestration.rules import LATE
from control_plane.services import Services
from push_pools.base import InfraRef, InfraStatus
from push_pools.errors import PushPoolError
from runtime.states import State, StateType

log = logging.getLogger("pushflow.reconciler")


class Reconciler:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._cancel_sent: set[str] = set()

    def reconcile(self) -> int:
        """One pass; returns how many runs changed state."""
        changed = resubmit_stranded(self.services)
        changed += self.mark_late()
        changed += self.crash_silent_runs()
        changed += self.finish_cancels_without_infrastructure()
        with Session(self.services.engine, expire_on_commit=False) as session:
            watched = list(runs.active_runs(session))
        for run in watched:
            try:
                changed += self._reconcile_run(run)
            except PushPoolError as exc:  # the provider is unreachable: try next pass
                log.warning("cannot check run %s: %s", run.id, exc)
        return changed

    def mark_late(self) -> int:
        late_after = self.services.settings.late_after
        cutoff = utcnow() - timedelta(seconds=late_after)
        with Session(self.services.engine, expire_on_commit=False) as session:
            ids = session.exec(
                select(FlowRun.id)
                .where(
                    FlowRun.state_type == StateType.SCHEDULED,
                    FlowRun.state_name == "Scheduled",
                    col(FlowRun.expected_start_time) < cutoff,
                )
                .limit(1000)
            ).all()
            state = State(
                StateType.SCHEDULED, name=LATE, message=f"not started {late_after:g}s after its scheduled time"
            )
            moved = runs.transition_many(session, ids, StateType.SCHEDULED, ["Scheduled"], state)
            session.commit()
        return len(moved)

    def crash_silent_runs(self) -> int:
        """RUNNING runs that heartbeated, then stopped: stop their infrastructure, CRASHED."""
        timeout = self.services.settings.heartbeat_timeout
        cutoff = utcnow() - timedelta(seconds=timeout)
        changed = 0
        with Session(self.services.engine, expire_on_commit=False) as session:
            silent = session.exec(
                select(FlowRun).where(
                    FlowRun.state_type == StateType.RUNNING,
                    col(FlowRun.heartbeat_time).is_not(None),
                    col(FlowRun.heartbeat_time) < cutoff,
                )
            ).all()
            for run in silent:
                last = run.heartbeat_time.isoformat(timespec="seconds") if run.heartbeat_time else "never"
                message = (
                    f"no heartbeat for {timeout:g}s (last at {last}): the runtime hung, was killed "
                    "or lost its connection to the API; its infrastructure was stopped"
                )
                if runs.set_state(session, run, State(StateType.CRASHED, message=message)).status == "ACCEPT":
                    changed += 1
                    self._stop_infrastructure(run)
            session.commit()
        return changed

    def finish_cancels_without_infrastructure(self) -> int:
        """CANCELLING runs that never got infrastructure (cancelled mid-submit, and the
        submit failed or its dispatcher stopped): nothing to stop -> CANCELLED."""
        cutoff = utcnow() - timedelta(seconds=self.services.settings.submit_timeout)
        with Session(self.services.engine, expire_on_commit=False) as session:
            ids = session.exec(
                select(FlowRun.id).where(
                    FlowRun.state_type == StateType.CANCELLING,
                    col(FlowRun.infra_id).is_(None),
                    col(FlowRun.state_timestamp) < cutoff,
                )
            ).all()
            state = State(StateType.CANCELLED, message="cancelled; it never got infrastructure")
            moved = runs.transition_many(session, ids, StateType.CANCELLING, None, state)
            session.commit()
        return len(moved)

    def _stop_infrastructure(self, run: FlowRun) -> None:
        if not run.infra_id:
            return
        try:
            self._adapter(run).cancel(self._ref(run), grace_seconds=self.services.settings.cancel_grace)
        except (PushPoolError, KeyError) as exc:
            log.warning("cannot stop the infrastructure of run %s: %s", run.id, exc)

    def _adapter(self, run: FlowRun):  # type: ignore[no-untyped-def]
        return self.services.adapters.get(run.infra_provider or "")

    @staticmethod
    def _ref(run: FlowRun) -> InfraRef:
        return InfraRef(provider=run.infra_provider or "", id=run.infra_id or "", console_url=run.infra_console_url)

    def _reconcile_run(self, run: FlowRun) -> int:
        adapter = self._adapter(run)
        ref = self._ref(run)
        if run.state_type is StateType.CANCELLING and run.id not in self._cancel_sent:
            adapter.cancel(ref, grace_seconds=self.services.settings.cancel_grace)
            self._cancel_sent.add(run.id)
        status = adapter.status(ref)
        if not status.ended:
            return 0
        self._cancel_sent.discard(run.id)
        with Session(self.services.engine, expire_on_commit=False) as session:
            current = session.get(FlowRun, run.id)
            if current is None or current.state_type.is_terminal or current.infra_id != run.infra_id:
                return 0  # it reported its final state itself, or moved on to new infrastructure
            changed = self._after_infrastructure_ended(session, current, status)
            session.commit()
            return changed

    def _after_infrastructure_ended(self, session: Session, run: FlowRun, status: InfraStatus) -> int:
        reason = status.reason or f"infrastructure {status.phase.value}"
        if run.state_type is StateType.CANCELLING:
            state = State(StateType.CANCELLED, message="cancelled; infrastructure stopped")
        elif run.state_type is StateType.PENDING and status.retryable:
            # The flow never started: a provider failure (capacity, spot) is worth another try.
            retry_or_crash(session, self.services.settings, run, reason, retryable=True)
            return 1
        else:
            state = State(StateType.CRASHED, message=f"{reason} before the run reported a final state")
        return 1 if runs.set_state(session, run, state).status == "ACCEPT" else 0
