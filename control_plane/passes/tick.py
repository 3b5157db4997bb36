"""One tick: every pass once, within a time budget (what a Lambda tick or a replica's
timer runs; the local loop runs the same passes)."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

from control_plane.passes.automations import evaluate_automations, run_due_actions
from control_plane.passes.dispatch import dispatch_due
from control_plane.passes.reconcile import reconcile
from control_plane.passes.retention import trim_events
from control_plane.passes.schedule import schedule_runs
from control_plane.release import release_ended
from control_plane.services import Services

log = logging.getLogger("pushflow.tick")


@dataclasses.dataclass
class TickReport:
    """What one tick did: runs created by schedules, runs submitted, runs whose state the
    reconciler changed, ended attempts whose resources were released, the passes that
    failed (logged), and whether the budget ran out before every pass finished (the next
    tick carries on)."""

    scheduled: int = 0
    dispatched: int = 0
    reconciled: int = 0
    trimmed: int = 0
    fired: int = 0
    actions: int = 0
    released: int = 0
    failed: list[str] = dataclasses.field(default_factory=list)
    out_of_budget: bool = False
    seconds: float = 0.0


def tick(services: Services, budget_seconds: float = 50.0) -> TickReport:
    """Run schedule, dispatch, reconcile and event retention once (dispatch again if reconciling freed
    slots or scheduled retries). Each pass stops between items when the budget is spent."""
    started = time.monotonic()
    deadline = started + budget_seconds
    report = TickReport()

    def run(name: str, step: Callable[[], int]) -> int:
        if time.monotonic() >= deadline:
            report.out_of_budget = True
            return 0
        try:
            return step()
        except Exception:  # a failed pass must not stop the others
            log.exception("the %s pass failed", name)
            report.failed.append(name)
            return 0

    report.scheduled = run("schedule", lambda: schedule_runs(services, deadline=deadline))
    report.dispatched = run("dispatch", lambda: dispatch_due(services, deadline=deadline))
    report.reconciled = run("reconcile", lambda: reconcile(services, deadline=deadline))
    if report.reconciled:
        report.dispatched += run("dispatch", lambda: dispatch_due(services, deadline=deadline))
    report.fired = run("automations", lambda: evaluate_automations(services, deadline=deadline))
    report.actions = run("actions", lambda: run_due_actions(services, deadline=deadline))
    report.trimmed = run("retention", lambda: trim_events(services, deadline=deadline))
    report.released = run("release", lambda: release_ended(services))
    report.out_of_budget = report.out_of_budget or time.monotonic() >= deadline
    report.seconds = time.monotonic() - started
    return report
