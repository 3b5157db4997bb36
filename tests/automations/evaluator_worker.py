"""One control-plane process for the concurrent-evaluators test: waits for the start
signal, then runs the automation passes until every recorded action has run.

    python -m tests.automations.evaluator_worker DATABASE_URL START_FILE EXPECTED
"""

from __future__ import annotations

import json
import os
import sys
import time

from sqlmodel import Session, col, func, select

from control_plane.automations import evaluate
from control_plane.automations.models import AutomationActionRun
from control_plane.db import create_db_engine
from control_plane.passes import evaluate_automations, run_due_actions
from control_plane.services import PoolAdapters, Services
from control_plane.settings import Settings


def main(url: str, start_file: str, expected: int) -> None:
    # Small batches, so the evaluators race for the cursor many times over the 500 events.
    evaluate.BATCH = 20
    settings = Settings(database_url=url, api_key="evaluators", run_loops=False)
    engine = create_db_engine(url)
    services = Services(
        settings=settings, engine=engine, api_key="evaluators", adapters=PoolAdapters(), server_secret="evaluators"
    )
    deadline = time.monotonic() + 150
    while not os.path.exists(start_file):
        if time.monotonic() > deadline:
            sys.exit("no start signal")
        time.sleep(0.01)
    fired = ran = 0
    while time.monotonic() < deadline:
        fired += evaluate_automations(services)
        ran += run_due_actions(services)
        with Session(engine) as session:
            done = session.exec(
                select(func.count())
                .select_from(AutomationActionRun)
                .where(col(AutomationActionRun.status).in_(["succeeded", "failed"]))
            ).one()
        if done >= expected:
            break
    engine.dispose()
    print(json.dumps({"fired": fired, "ran": ran}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
