"""One writer process for the event-stream test: creates runs and takes each through its
life (created, claimed, submitted, running, completed), one transaction per step.

    python -m tests.control_plane.event_writer DATABASE_URL START_FILE STATE_DIR DEPLOYMENT_ID RUNS
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from sqlmodel import Session

from control_plane import runs
from control_plane.db import create_db_engine
from control_plane.models import Deployment, FlowRun, FlowRunCreate
from control_plane.passes import dispatch_run
from control_plane.services import PoolAdapters, Services
from control_plane.settings import Settings
from runtime.states import State, StateType
from tests.control_plane import counting_pool


def main(url: str, start_file: str, state_dir: str, deployment_id: str, count: str) -> None:
    counting_pool.register()
    settings = Settings(database_url=url, api_key="k", run_loops=False, home=Path(state_dir))
    engine = create_db_engine(url)
    services = Services(settings, engine, "k", PoolAdapters(), server_secret="event-writer-secret")
    deadline = time.monotonic() + 60
    while not os.path.exists(start_file):
        if time.monotonic() > deadline:
            sys.exit("no start signal")
        time.sleep(0.01)
    for _ in range(int(count)):
        with Session(engine, expire_on_commit=False) as session:
            deployment = session.get(Deployment, deployment_id)
            assert deployment is not None
            run = runs.create_flow_run(session, deployment, FlowRunCreate())
            session.commit()
        assert dispatch_run(services, run.id)
        for state in (StateType.RUNNING, StateType.COMPLETED):
            with Session(engine, expire_on_commit=False) as session:
                current = session.get(FlowRun, run.id)
                assert current is not None
                assert runs.propose_state(session, current, State(state)).status == "ACCEPT"
                session.commit()
    engine.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:6])
