"""The reporter: ships task runs and logs to the control plane in batches, off the
flow's thread, so a task costs a queue append rather than a round trip.

It sends as soon as `eager` records of a kind wait (or every `interval`, whatever is
there), and keeps sending while more arrive: the server takes in a long flow's records
while the flow runs, on another core, instead of all of them after its last task, and
each batch grows by itself to what arrived during the previous round trip (at most
`max_batch`), so a busy flow still costs few requests."""

from __future__ import annotations

import sys
import threading
from collections import deque
from typing import Any

from runtime.client import PushflowClient
from runtime.errors import APIError


class Reporter:
    def __init__(
        self,
        client: PushflowClient,
        flow_run_id: str,
        *,
        interval: float = 0.2,
        eager: int = 50,
        max_batch: int = 500,
    ) -> None:
        self.client = client
        self.flow_run_id = flow_run_id
        self.interval = interval
        self.eager = eager
        self.max_batch = max_batch
        self._task_runs: deque[dict[str, Any]] = deque()
        self._logs: deque[dict[str, Any]] = deque()
        self._wake = threading.Event()
        self._stop = False
        self._send_lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="pushflow-reporter", daemon=True)
        self._thread.start()

    def task_run(self, record: dict[str, Any]) -> None:
        self._task_runs.append(record)
        # Records arrive one at a time, so a queue growing past `eager` passes through it:
        # one wake-up per crossing, not a lock per record.
        if len(self._task_runs) == self.eager:
            self._wake.set()

    def log(self, record: dict[str, Any]) -> None:
        self._logs.append(record)
        if len(self._logs) == self.eager:
            self._wake.set()

    def flush(self) -> None:
        """Send everything queued so far, from the calling thread: a batch of each kind in
        turn. Sending one kind until its queue ran dry starved the other while a busy flow
        kept adding to the first: a flow of 1,000 mapped tasks reached its end with all
        1,000 of its log lines still queued (none had reached the server or the UI)."""
        with self._send_lock:
            while self._task_runs or self._logs:
                self._send(self._task_runs, self.client.report_task_runs)
                self._send(self._logs, self.client.send_logs)

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(timeout=30)
        self.flush()

    def _loop(self) -> None:
        while not self._stop:
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()

    def _send(self, queue: deque[dict[str, Any]], send: Any) -> None:
        """One batch from `queue`, if it holds any."""
        if queue:
            batch = [queue.popleft() for _ in range(min(len(queue), self.max_batch))]
            try:
                send(self.flow_run_id, batch)
            except APIError as exc:
                # Reporting must never take the flow down; say so where a human can see it.
                print(f"pushflow: dropped {len(batch)} records: {exc}", file=sys.stderr)
