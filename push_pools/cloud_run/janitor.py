"""Cleanup: no run leaves its Cloud Run job behind (Cloud Run caps jobs per project).

Each run's job is deleted as soon as its execution is seen to have ended, whoever asks:
the reconciler through `status()`, or this janitor, which keeps asking for runs nobody
else watches any more (a run that reported its own final state). A control plane that
restarted, or runs on Lambda, forgets what it watched: `sweep` deletes every ended job
this pool created in a region, at most every few minutes, on the next submit there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from push_pools.cloud_run.names import MANAGED_LABEL, ExecutionRef
from push_pools.errors import PushPoolError

log = logging.getLogger("pushflow.cloud_run")
SWEEP_EVERY_SECONDS = 600.0


class Janitor:
    def __init__(self, ended: Callable[[ExecutionRef], bool], *, interval: float = 2.0) -> None:
        """`ended(ref)` reads the execution, deletes its job when it has ended, says if it had."""
        self._ended = ended
        self.interval = interval
        self._watched: dict[str, ExecutionRef] = {}
        self._swept: dict[tuple[str | None, str], float] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def watch(self, ref: ExecutionRef) -> None:
        with self._lock:
            self._watched[ref.execution] = ref
            if self._thread is None or not self._thread.is_alive():
                # Alive only while something is watched: nothing lingers in an idle process.
                self._thread = threading.Thread(target=self._loop, name="pushflow-cloud-run-janitor", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._watched or self._closed.is_set():
                    self._thread = None
                    return
                refs = list(self._watched.values())
            for ref in refs:
                if self._closed.is_set():  # gone away: delete nothing more
                    break
                try:
                    done = self._ended(ref)
                except PushPoolError as exc:  # unreachable for now: ask again next round
                    log.warning("cannot check Cloud Run execution %s: %s", ref.execution, exc)
                    done = False
                if done:
                    with self._lock:
                        self._watched.pop(ref.execution, None)
            self._closed.wait(self.interval)

    def close(self) -> None:
        """Stop watching (the process is going away; a later sweep finds what is left).
        Returns once the watcher has stopped, so nothing is deleted after it."""
        self._closed.set()
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)

    def sweep_due(self, endpoint: str | None, parent: str) -> bool:
        """True (once per period) when `parent` should be swept now."""
        with self._lock:
            last = self._swept.get((endpoint, parent))
            if last is not None and time.monotonic() - last < SWEEP_EVERY_SECONDS:
                return False
            self._swept[(endpoint, parent)] = time.monotonic()
            return True


def ended_managed_jobs(jobs: Any) -> list[str]:
    """Names of jobs this pool made whose latest execution has completed."""
    return [
        job.name
        for job in jobs
        if job.labels.get(MANAGED_LABEL) == "true"
        and job.latest_created_execution.name
        and job.latest_created_execution.completion_time
    ]
