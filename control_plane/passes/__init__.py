"""The control plane as one-shot passes over the store: schedule, dispatch, reconcile.

Each pass reads and writes only the store (and calls pool adapters), holds nothing
between calls and is safe to run in any number of processes at once: a local server's
loop thread, replicas, Lambda invocations. `tick` runs them all within a time budget;
`dispatch_run` starts one run now (the API calls it when it creates a run).
"""

from __future__ import annotations

from control_plane.passes.automations import evaluate_automations, run_due_actions
from control_plane.passes.dispatch import dispatch_due, dispatch_now, dispatch_run
from control_plane.passes.reconcile import cancel_now, reconcile, send_cancel
from control_plane.passes.retention import trim_events
from control_plane.passes.schedule import any_due, next_due_time, schedule_runs
from control_plane.passes.tick import TickReport, tick

__all__ = [
    "TickReport",
    "cancel_now",
    "dispatch_due",
    "dispatch_now",
    "dispatch_run",
    "evaluate_automations",
    "any_due",
    "next_due_time",
    "reconcile",
    "run_due_actions",
    "schedule_runs",
    "send_cancel",
    "tick",
    "trim_events",
]
