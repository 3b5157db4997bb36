"""Exactly-once dispatch: several dispatcher processes against one PostgreSQL database
never submit a run twice, and together submit every due run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlmodel import Session, func, select

from control_plane.columns import utcnow
from control_plane.db import create_db_engine, migrate
from control_plane.models import Deployment, FlowRun, Pool, new_id
from runtime.states import StateType
from tests.control_plane import counting_pool

RUNS = 2000
DISPATCHERS = 4


def seed_due_runs(
    url: str, count_file: Path, runs: int, pool_type: str = "counting", defaults: dict | None = None
) -> list[str]:
    engine = create_db_engine(url)
    migrate(engine)
    now = utcnow()
    with Session(engine) as session:
        session.add(Pool(name="p", type=pool_type, defaults=defaults or {"count_file": str(count_file)}))
        deployment = Deployment(name="d", flow_name="f", entrypoint="f.py:f", pool="p")
        session.add(deployment)
        session.commit()
        ids = [new_id() for _ in range(runs)]
        rows = [
            {
                "id": i,
                "name": f"r{n}",
                "flow_name": "f",
                "deployment_id": deployment.id,
                "pool": "p",
                "parameters": {},
                "job_variables": {},
                "state_type": StateType.SCHEDULED,
                "state_name": "Scheduled",
                "state_timestamp": now,
                "state_version": 0,
                "created": now,
                "run_count": 0,
                "dispatch_count": 0,
                "infra_retries": 0,
                "expected_start_time": now - timedelta(seconds=n % 7),
            }
            for n, i in enumerate(ids)
        ]
        session.execute(insert(FlowRun.__table__), rows)  # type: ignore[attr-defined]
        session.commit()
    engine.dispose()
    return ids


def start_workers(
    module: str,
    url: str,
    start: Path,
    tmp_path: Path,
    count: int,
    reap: Callable[[subprocess.Popen[str]], subprocess.Popen[str]],
) -> list[subprocess.Popen[str]]:
    """`count` worker processes (`python -m module URL START WORKDIR`), each waiting for
    `start` to appear, reaped when the test ends."""
    return [
        reap(
            subprocess.Popen(
                [sys.executable, "-m", module, url, str(start), str(tmp_path / f"w{n}")],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        for n in range(count)
    ]


@pytest.mark.timeout(180)
def test_dispatchers_in_several_processes_submit_each_run_exactly_once(
    pg_schema_url: str, tmp_path: Path, reap: Callable[[subprocess.Popen[str]], subprocess.Popen[str]]
) -> None:
    count_file = tmp_path / "submissions.txt"
    ids = seed_due_runs(pg_schema_url, count_file, RUNS)
    start = tmp_path / "start"
    workers = start_workers("tests.control_plane.dispatch_worker", pg_schema_url, start, tmp_path, DISPATCHERS, reap)
    start.touch()
    reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))

    submitted = [row[0] for row in counting_pool.submissions(count_file)]
    duplicates = len(submitted) - len(set(submitted))
    seconds = max(r["seconds"] for r in reports)
    print(
        f"\nexactly-once: {RUNS} due runs, {DISPATCHERS} dispatcher processes -> {len(submitted)} submissions, "
        f"{duplicates} duplicates, per process {[r['claimed'] for r in reports]}, {seconds:.2f}s "
        f"({RUNS / seconds:.0f} runs/s)"
    )
    assert duplicates == 0
    assert len(submitted) == RUNS
    assert set(submitted) == set(ids)
    assert sum(r["claimed"] for r in reports) == RUNS
    engine = create_db_engine(pg_schema_url)
    with Session(engine) as session:
        states = session.exec(
            select(FlowRun.state_name, FlowRun.dispatch_count, func.count()).group_by(
                FlowRun.state_name, FlowRun.dispatch_count
            )
        ).all()
    engine.dispose()
    assert states == [("InfrastructurePending", 1, RUNS)]
