"""The reconciler: asks pools about runs whose infrastructure may be alive, stops the
infrastructure of runs being cancelled, and marks runs whose infrastructure ended
without a final report CRASHED with the provider's reason. No run stays RUNNING forever."""

from __future__ import annotations

import logging

from sqlmodel import Session

from control_plane import runs
from control_plane.models import FlowRun
from control_plane.services import Services
from push_pools.base import InfraRef
from push_pools.errors import PushPoolError
from runtime.states import State, StateType

log = logging.getLogger("pushflow.reconciler")


class Reconciler:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._cancel_sent: set[str] = set()

    def reconcile(self) -> int:
        """One pass; returns how many runs changed state."""
        with Session(self.services.engine, expire_on_commit=False) as session:
            watched = list(runs.active_runs(session))
        changed = 0
        for run in watched:
            try:
                changed += self._reconcile_run(run)
            except PushPoolError as exc:  # the provider is unreachable: try next pass
                log.warning("cannot check run %s: %s", run.id, exc)
        return changed

    def _reconcile_run(self, run: FlowRun) -> int:
        adapter = self.services.adapters.get(run.infra_provider or "")
        ref = InfraRef(provider=run.infra_provider or "", id=run.infra_id or "", console_url=run.infra_console_url)
        if run.state_type is StateType.CANCELLING and run.id not in self._cancel_sent:
            adapter.cancel(ref)
            self._cancel_sent.add(run.id)
        status = adapter.status(ref)
        if not status.ended:
            return 0
        self._cancel_sent.discard(run.id)
        with Session(self.services.engine, expire_on_commit=False) as session:
            current = session.get(FlowRun, run.id)
            if current is None or current.state_type.is_terminal:
                return 0  # it reported its final state itself
            if current.state_type is StateType.CANCELLING:
                state = State(StateType.CANCELLED, message="cancelled; infrastructure stopped")
            else:
                reason = status.reason or f"infrastructure {status.phase.value}"
                state = State(StateType.CRASHED, message=f"{reason} before the run reported a final state")
            result = runs.set_state(session, current, state)
            session.commit()
            return 1 if result.status == "ACCEPT" else 0
