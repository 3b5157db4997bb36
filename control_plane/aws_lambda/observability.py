"""Structured logs and metrics with Powertools for AWS Lambda.

Every `pushflow.*` logger writes through one Powertools JSON logger (service "pushflow"),
so a dispatcher warning carries the invocation's request id and, while a run is being
handled, the run id as `correlation_id`. Metrics go out as CloudWatch Embedded Metric
Format lines on stdout (no API calls, no agent), flushed once per invocation:

| metric | unit | when |
|---|---|---|
| RunsCreated | Count | a run was created over HTTPS, or by a tick's schedule pass |
| RunsDispatched | Count | runs handed to their pool (HTTPS trigger, tick, SQS delivery) |
| RunsCrashed | Count | runs a tick's reconcile pass found dead |
| DispatchLatency | Milliseconds | how long after its due time a queued run was submitted |
| TickDuration | Milliseconds | one tick, passes and queueing |
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

SERVICE = "pushflow"


class Observability:
    """Built with the container, on the first invocation: Powertools is not free to import."""

    def __init__(self) -> None:
        from aws_lambda_powertools import Logger, Metrics

        self.logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE))
        self.metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", SERVICE))
        self._pending = False

    def start(self, context: Any) -> None:
        """Per invocation: the request id and function name on every line."""
        self.logger.clear_state()
        request_id = getattr(context, "aws_request_id", None)
        if request_id:
            self.logger.append_keys(request_id=request_id)

    @contextlib.contextmanager
    def run(self, run_id: str) -> Iterator[None]:
        """While handling one run, its id is the log lines' correlation id."""
        self.logger.set_correlation_id(run_id)
        try:
            yield
        finally:
            self.logger.set_correlation_id(None)

    def count(self, name: str, value: float = 1) -> None:
        if value:
            self.metrics.add_metric(name=name, unit="Count", value=value)
            self._pending = True

    def milliseconds(self, name: str, value: float) -> None:
        self.metrics.add_metric(name=name, unit="Milliseconds", value=value)
        self._pending = True

    def flush(self) -> None:
        if self._pending:  # Powertools warns on an empty flush; most HTTP calls add nothing
            self.metrics.flush_metrics()
            self._pending = False
