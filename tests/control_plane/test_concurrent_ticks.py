"""Eight control-plane processes calling `tick()` at once on one PostgreSQL database, with
1,000 due runs whose infrastructure ends at once: every run is submitted exactly once,
every ended attempt is released exactly once, and every transition is logged once."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from control_plane.db import create_db_engine
from control_plane.events import Event
from tests.control_plane import counting_pool
from tests.control_plane.test_exactly_once import seed_due_runs, start_workers
from tests.control_plane.tick_worker import TICKING_SECONDS

RUNS = 1000
PROCESSES = 8


# The workers tick for at most TICKING_SECONDS after the start signal; communicate's limit
# (below) and the test's are above it, so a slow machine fails with the workers' output
# rather than a bare timeout.
@pytest.mark.timeout(300)
def test_eight_concurrent_tickers_submit_and_release_each_run_once_and_log_each_transition_once(
    pg_schema_url: str, tmp_path: Path, reap: Callable[[subprocess.Popen[str]], subprocess.Popen[str]]
) -> None:
    count_file, release_file = tmp_path / "submissions.txt", tmp_path / "releases.txt"
    defaults = {"count_file": str(count_file), "release_file": str(release_file), "exits": True}
    ids = seed_due_runs(pg_schema_url, count_file, RUNS, defaults=defaults)
    start = tmp_path / "start"
    workers = start_workers("tests.control_plane.tick_worker", pg_schema_url, start, tmp_path, PROCESSES, reap)
    start.touch()
    reports, errors = [], []
    for worker in workers:
        out, err = worker.communicate(timeout=TICKING_SECONDS + 60)
        errors.append(err)
        assert worker.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))

    submitted = [row[0] for row in counting_pool.submissions(count_file)]
    tokens = [row[1] for row in counting_pool.submissions(count_file)]
    released = [row[0] for row in counting_pool.submissions(release_file)]
    ticks = [t for r in reports for t in r["ticks"]]
    print(
        f"\nconcurrent ticks: {RUNS} due runs, {PROCESSES} processes, {len(ticks)} ticks, "
        f"{len(submitted)} submissions, {len(released)} releases; "
        f"per process {[sum(t['dispatched'] for t in r['ticks']) for r in reports]}; "
        f"longest tick {max(t['seconds'] for t in ticks):.2f}s"
    )
    assert [t for t in ticks if t["failed"]] == [], "".join(errors)[-4000:]
    assert Counter(submitted) == Counter({i: 1 for i in ids})  # each submitted once, none left out
    assert Counter(released) == Counter({t: 1 for t in tokens})  # each ended attempt released once
    engine = create_db_engine(pg_schema_url)
    with Session(engine) as session:
        logged = session.exec(
            select(Event.flow_run_id, Event.from_name, Event.to_name).where(col(Event.flow_run_id).is_not(None))
        ).all()
    engine.dispose()
    transitions = Counter(logged)
    assert {k: n for k, n in transitions.items() if n > 1} == {}  # nothing logged twice
    assert Counter((f, t) for _, f, t in logged) == {
        ("Scheduled", "Submitting"): RUNS,
        ("Submitting", "InfrastructurePending"): RUNS,
        ("InfrastructurePending", "Crashed"): RUNS,  # exited without reporting a final state
    }
