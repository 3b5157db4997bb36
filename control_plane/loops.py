"""The in-process loops of a local server: dispatch due runs, reconcile running ones.

One thread; `wake()` makes it go at once (a new run, a cancel, a final state), otherwise
it ticks every `loop_interval` seconds. On Lambda the same passes run from a scheduled tick.
"""

from __future__ import annotations

import logging
import threading
import time

from control_plane.dispatcher import dispatch_due
from control_plane.reconciler import Reconciler
from control_plane.services import Services

log = logging.getLogger("pushflow.loops")


class BackgroundLoops:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.reconciler = Reconciler(services)
        self._wake = threading.Event()
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

    def wake(self) -> None:
        self._wake.set()

    def tick(self) -> None:
        dispatch_due(self.services)
        self.reconciler.reconcile()

    def _run(self) -> None:
        settings = self.services.settings
        last_reconcile = 0.0
        while not self._stop.is_set():
            self._wake.wait(settings.loop_interval)
            woken = self._wake.is_set()
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                dispatch_due(self.services)
                if woken or time.monotonic() - last_reconcile >= settings.reconcile_interval:
                    self.reconciler.reconcile()
                    last_reconcile = time.monotonic()
            except Exception:  # a bad pass must not end the loop
                log.exception("background pass failed")
