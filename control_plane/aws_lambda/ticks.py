"""A tick: EventBridge (a rule, or Scheduler with input `{"pushflow": "tick"}`) fires it
once a minute. It runs the control plane's passes within the invocation's remaining time
(less `PUSHFLOW_TICK_MARGIN`), then queues every run due before the next tick on SQS so
it starts on time (dispatch_queue.py)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from control_plane import passes
from control_plane.aws_lambda.container import Container
from control_plane.aws_lambda.dispatch_queue import MAX_DELAY, enqueue, upcoming
from control_plane.aws_lambda.errors import TickFailedError
from control_plane.aws_lambda.invocations import database_unavailable, remaining_seconds
from control_plane.columns import utcnow
from control_plane.models import FlowRun
from runtime.states import StateType

log = logging.getLogger("pushflow.lambda.tick")


def run_tick(container: Container, context: Any) -> dict[str, Any]:
    started = time.monotonic()
    settings = container.settings
    services = container.services()
    budget = max(1.0, remaining_seconds(context) - settings.tick_margin)
    since = utcnow()
    try:
        report = passes.tick(services, budget)
        queued = 0
        with Session(services.engine) as session:
            crashed = _crashed_since(session, since)
            if settings.dispatch_queue_url:
                # Half an interval of overlap: a late next tick still finds its runs
                # queued; a run queued twice is claimed once.
                horizon = min(settings.tick_interval * 1.5, MAX_DELAY)
                due = upcoming(session, since, utcnow() + timedelta(seconds=horizon))
                queued = enqueue(container.aws.get("sqs"), settings.dispatch_queue_url, due)
    except OperationalError as exc:  # raised: the tick is retried, and the next one catches up
        raise database_unavailable(exc) from exc
    seconds = time.monotonic() - started
    obs = container.obs
    obs.count("RunsCreated", report.scheduled)
    obs.count("RunsDispatched", report.dispatched)
    obs.count("RunsCrashed", crashed)
    obs.milliseconds("TickDuration", seconds * 1000)
    result = {
        "pushflow": "tick",
        "scheduled": report.scheduled,
        "dispatched": report.dispatched,
        "reconciled": report.reconciled,
        "crashed": crashed,
        "queued": queued,
        "seconds": round(seconds, 3),
    }
    if report.failed:  # logged by the pass; failing the invocation shows it and retries it
        raise TickFailedError(f"tick passes failed: {', '.join(report.failed)} (see the log); {result}")
    log.info("tick done", extra=result)
    return result


def _crashed_since(session: Session, since: object) -> int:
    query = select(func.count()).select_from(FlowRun)
    query = query.where(FlowRun.state_type == StateType.CRASHED, col(FlowRun.state_timestamp) >= since)
    return int(session.exec(query).one())
