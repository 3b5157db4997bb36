"""The control plane's one-shot passes as the Lambda edge calls them.

Interim: until `control_plane.passes` (issue 12) lands, the tick runs the same passes the
local loop runs, and a queued run is dispatched by a dispatch pass (which claims it, and
anything else due, with a compare-and-set)."""

from __future__ import annotations

import dataclasses
import time

from control_plane.dispatcher import dispatch_due
from control_plane.reconciler import Reconciler
from control_plane.scheduler import schedule_runs
from control_plane.services import Services


@dataclasses.dataclass
class TickReport:
    scheduled: int = 0
    dispatched: int = 0
    crashed: int = 0
    seconds: float = 0.0


def tick(services: Services, budget_seconds: float) -> TickReport:
    started = time.monotonic()
    report = TickReport()
    report.scheduled = schedule_runs(services)
    report.dispatched = dispatch_due(services)
    if time.monotonic() - started < budget_seconds and Reconciler(services).reconcile():
        report.dispatched += dispatch_due(services)
    report.seconds = time.monotonic() - started
    return report


def dispatch_run(services: Services, run_id: str) -> bool:
    return dispatch_due(services) > 0
