"""`Flow.run()` for a graph with a schedule: sleep until each scheduled time, run, and
sleep again, as Prefect Core did, until the schedule ends (or forever)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from runtime.engine import run_flow
from runtime.loggers import schedule_logger
from runtime.states import State


def run_on_schedule(flow: Any, parameters: dict[str, Any]) -> State | None:
    logger = schedule_logger(flow.name)
    state = None
    after = None
    while True:
        upcoming = flow.schedule.next(1, after=after)
        if not upcoming:
            logger.info("The schedule has no more start times; done")
            return state
        start = upcoming[0]
        wait = (start - datetime.now(timezone.utc)).total_seconds()
        logger.info("Waiting for the next scheduled run at %s", start.isoformat(timespec="seconds"))
        if wait > 0:
            time.sleep(wait)
        state = run_flow(flow, parameters, scheduled_start_time=start)
        after = start
