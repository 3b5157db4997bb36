"""One control-plane process for the concurrent-ticks test: waits for the start signal,
then calls `tick()` until every run has ended and every attempt is released, and prints
what its ticks did.

    python -m tests.control_plane.tick_worker DATABASE_URL START_FILE STATE_DIR
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from control_plane.attempts import Attempt
from control_plane.db import create_db_engine
from control_plane.models import FlowRun
from control_plane.passes import tick
from control_plane.services import PoolAdapters, Services
from control_plane.settings import Settings
from runtime.states import StateType
from tests.control_plane import counting_pool

TERMINAL = [t for t in StateType if t.is_terminal]

SERVER_SECRET = "concurrent-ticks-secret"
TICKING_SECONDS = 180


def main(url: str, start_file: str, state_dir: str) -> None:
    counting_pool.register()
    settings = Settings(database_url=url, api_key=SERVER_SECRET, run_loops=False, home=Path(state_dir))
    engine = create_db_engine(url)
    adapters = PoolAdapters()
    services = Services(
        settings=settings, engine=engine, api_key="admin-key", adapters=adapters, server_secret=SERVER_SECRET
    )
    deadline = time.monotonic() + 120
    while not os.path.exists(start_file):  # all workers start together
        if time.monotonic() > deadline:
            sys.exit("no start signal")
        time.sleep(0.01)
    # Ticking stops here at the latest, counted from the start signal (not from this
    # process's start): at load 10+ on two cores, eight workers took more than the 120 s
    # they had in all and stopped before releasing (the test's own limits are above this).
    deadline = time.monotonic() + TICKING_SECONDS
    ticks = []
    while time.monotonic() < deadline:
        report = tick(services, budget_seconds=20)
        ticks.append(
            {
                "dispatched": report.dispatched,
                "released": report.released,
                "seconds": report.seconds,
                "failed": report.failed,
            }
        )
        if report.dispatched == 0 and report.released == 0 and _all_done(engine):
            break
    engine.dispose()
    print(json.dumps({"pid": os.getpid(), "ticks": ticks}))


def _all_done(engine: Any) -> bool:
    with Session(engine) as session:
        unended = session.exec(
            select(func.count()).select_from(FlowRun).where(col(FlowRun.state_type).not_in(TERMINAL))
        ).one()
        unreleased = session.exec(
            select(func.count()).select_from(Attempt).where(col(Attempt.released).is_(None))
        ).one()
    return unended == 0 and unreleased == 0


if __name__ == "__main__":
    main(*sys.argv[1:4])
