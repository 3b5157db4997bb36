"""The in-process loop of a local server: it only calls the passes (control_plane/passes).

One thread. It wakes when told (`wake()`: a new run, a cancel, a final state, a freed
slot), at the next scheduled run's due time (so scheduled runs start on time, not on the
next tick), and otherwise every `loop_interval` seconds. On Lambda the same passes run
from a scheduled tick.

A wake for a run (`wake(full=False)`: created, retried, ended) runs only the passes that
react to it: automations on its events, their due actions, dispatch of what is now due
(a freed slot). Scheduling, event retention, reconcile and release keep their own
intervals: under load every final state wakes the loop, and running them after each wake
made the loop the busiest thread of the server (a quarter of its CPU under the API load)
for work that had not changed (a run that just ended is released only after
`release_grace`). A configuration change (`wake()`: schedules, pools, cancels) runs them
all.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlmodel import Session

from control_plane.columns import utcnow
from control_plane.passes import (
    any_due,
    dispatch_due,
    evaluate_automations,
    next_due_time,
    reconcile,
    run_due_actions,
    schedule_runs,
    tick,
    trim_events,
)
from control_plane.release import release_ended
from control_plane.services import Services

log = logging.getLogger("pushflow.loops")

# Every final state wakes the loop. Under load that is many wakes a second, and running
# every pass after each one made the loop the busiest thread in the server; wakes that
# come within this long of the last pass's start are answered together, by one pass.
WAKE_SPACING = 0.2


class BackgroundLoops:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._wake = threading.Event()
        self._full = threading.Event()  # a wake that asks for every pass
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pushflow-loops", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wake(self, full: bool = True) -> None:
        if full:
            self._full.set()
        self._wake.set()

    def tick(self) -> None:
        """One full pass (what a Lambda tick runs)."""
        tick(self.services)

    def _run(self) -> None:
        settings = self.services.settings
        last_reconcile = last_schedule = last_actions = last_pass = 0.0
        timeout = 0.0
        while not self._stop.is_set():
            self._wake.wait(timeout)
            woken = self._wake.is_set()
            if woken and self._stop.wait(last_pass + WAKE_SPACING - time.monotonic()):
                return
            self._wake.clear()
            full = self._full.is_set()
            self._full.clear()
            if self._stop.is_set():
                return
            last_pass = time.monotonic()
            try:
                if full or time.monotonic() - last_schedule >= settings.schedule_interval:
                    schedule_runs(self.services)
                    trim_events(self.services)
                    last_schedule = time.monotonic()
                fired = evaluate_automations(self.services)
                if fired or full or time.monotonic() - last_actions >= settings.loop_interval:
                    run_due_actions(self.services)  # new actions, or retries fallen due
                    last_actions = time.monotonic()
                if self._any_due():  # else claiming would run several statements to find none
                    dispatch_due(self.services)
                if full or time.monotonic() - last_reconcile >= settings.reconcile_interval:
                    if reconcile(self.services):  # slots freed, retries scheduled: go again
                        dispatch_due(self.services)
                    release_ended(self.services)
                    last_reconcile = time.monotonic()
                timeout = self._until_next_due(settings.loop_interval)
            except Exception:  # a bad pass must not end the loop
                log.exception("background pass failed")
                timeout = settings.loop_interval

    def _any_due(self) -> bool:
        with Session(self.services.read_engine) as session:  # SQLite: no write lock for a read
            return any_due(session, utcnow())

    def _until_next_due(self, longest: float) -> float:
        with Session(self.services.read_engine) as session:
            due = next_due_time(session, utcnow())
        if due is None:
            return longest
        return max(0.0, min(longest, (due - utcnow()).total_seconds()))
